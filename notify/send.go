package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Webhook headers: a receiver recomputes HMAC-SHA256(secret, TIMESTAMP +
// "." + BODY) and refuses old timestamps (VerifyWebhook does both).
const (
	SignatureHeader = "X-Firmward-Signature" // "sha256=" + hex HMAC
	TimestampHeader = "X-Firmward-Timestamp" // Unix seconds
	DeliveryHeader  = "X-Firmward-Delivery"  // the delivery's key, stable across retries
	KindHeader      = "X-Firmward-Kind"
)

// permanentError is a refusal that retrying will not change (an SMTP 5xx
// reply, an HTTP 4xx other than 408 and 429, a bad configuration).
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// permanent marks err as not worth retrying.
func permanent(err error) error { return permanentError{err} }

// isPermanent reports whether err is a refusal for good.
func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Sign returns the signature header value of a webhook body sent at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a received webhook: the signature of timestamp
// and body under secret, and a timestamp no further than tolerance from
// now (replays of old messages are refused). It returns a clear error
// naming what is wrong.
func VerifyWebhook(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not Unix seconds", TimestampHeader, timestamp)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s is %s away from now (more than %s): a replay or a wrong clock", TimestampHeader, d.Round(time.Second), tolerance)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return fmt.Errorf("%s does not match the body", SignatureHeader)
	}
	return nil
}

// sender does the I/O of one channel type.
type sender struct {
	client    *http.Client
	tlsConfig *tls.Config // SMTP; nil: system roots
	timeout   time.Duration
	hostname  string // EHLO name
}

// send delivers d through ch (secret in clear). Errors marked permanent
// are not retried.
func (s *sender) send(ctx context.Context, ch *firmward.NotifyChannel, secret string, d *firmward.NotifyDelivery, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	switch ch.Type {
	case firmward.ChannelEmail:
		return s.sendMail(ctx, ch, secret, d, now)
	case firmward.ChannelWebhook:
		return s.sendWebhook(ctx, ch, secret, d, now)
	case firmward.ChannelNtfy:
		return s.sendNtfy(ctx, ch, secret, d)
	}
	return permanent(fmt.Errorf("channel %d has an unknown type %q", ch.ID, ch.Type))
}

// --- webhook and ntfy ---

func (s *sender) post(ctx context.Context, u string, header http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("building the request to %s: %w", u, err))
	}
	req.Header = header
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", redactURL(u), err)
	}
	defer func() { _ = resp.Body.Close() }()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("%s answered %s: %s", redactURL(u), resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return permanent(err)
	}
	return err
}

// redactURL drops the query of a URL for error messages (tokens hide there).
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

func (s *sender) sendWebhook(ctx context.Context, ch *firmward.NotifyChannel, secret string, d *firmward.NotifyDelivery, now time.Time) error {
	body := []byte(d.Payload)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "firmward-notify")
	h.Set(DeliveryHeader, d.Key)
	h.Set(KindHeader, d.Kind)
	h.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	if secret != "" {
		h.Set(SignatureHeader, Sign([]byte(secret), now, body))
	}
	return s.post(ctx, ch.URL, h, body)
}

// ntfyPriority maps a severity to ntfy's 1 (min) … 5 (max).
func ntfyPriority(sev firmward.Severity) string {
	switch sev {
	case firmward.SeverityCritical:
		return "5"
	case firmward.SeverityHigh:
		return "4"
	case firmward.SeverityMedium:
		return "3"
	case firmward.SeverityLow:
		return "2"
	}
	return "2"
}

// headerText makes s fit in one HTTP header line.
func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
	if len(s) > 250 {
		s = strings.ToValidUTF8(s[:250], "")
	}
	return s
}

func (s *sender) sendNtfy(ctx context.Context, ch *firmward.NotifyChannel, secret string, d *firmward.NotifyDelivery) error {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	// ntfy reads non-ASCII header values as RFC 2047 encoded words.
	h.Set("Title", mime.QEncoding.Encode("utf-8", headerText(d.Subject)))
	h.Set("Priority", ntfyPriority(d.Severity))
	tags := []string{strings.ReplaceAll(d.Kind, ".", "_"), string(d.Severity)}
	if d.Severity == firmward.SeverityCritical || d.Severity == firmward.SeverityHigh {
		tags = append(tags, "warning")
	}
	h.Set("Tags", strings.Join(tags, ","))
	h.Set("User-Agent", "firmward-notify")
	if secret != "" {
		h.Set("Authorization", "Bearer "+secret)
	}
	u := strings.TrimSuffix(ch.URL, "/") + "/" + ch.Topic
	return s.post(ctx, u, h, []byte(d.Body))
}

// --- e-mail ---

// smtpError classifies an SMTP reply: 5xx is a refusal for good.
func smtpError(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		// The server's own words, unquoted: "550 5.7.1 relaying denied".
		err = fmt.Errorf("SMTP %s refused: %d %s", step, te.Code, te.Msg)
		if te.Code >= 500 {
			return permanent(err)
		}
		return err
	}
	return fmt.Errorf("SMTP %s: %w", step, err)
}

// buildMessage writes an RFC 5322 message: UTF-8 text, quoted-printable,
// encoded subject, a Message-ID stable across retries.
func buildMessage(from, to string, d *firmward.NotifyDelivery, now time.Time, host string) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", headerText(d.Subject)))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+messageID(d.Key)+"@"+host+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("X-Firmward-Kind", headerText(d.Kind))
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(d.Body, "\r\n", "\n")
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// messageID turns a delivery key into the local part of a Message-ID.
func messageID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "firmward." + hex.EncodeToString(sum[:12])
}

func (s *sender) sendMail(ctx context.Context, ch *firmward.NotifyChannel, secret string, d *firmward.NotifyDelivery, now time.Time) error {
	from, err := mail.ParseAddress(ch.From)
	if err != nil {
		return permanent(fmt.Errorf("channel %d: the sender %q is not an e-mail address", ch.ID, ch.From))
	}
	to, err := mail.ParseAddress(d.Address)
	if err != nil {
		return permanent(fmt.Errorf("the recipient %q is not an e-mail address", d.Address))
	}
	addr := net.JoinHostPort(ch.SMTPHost, strconv.Itoa(ch.SMTPPort))
	tlsConf := &tls.Config{ServerName: ch.SMTPHost, MinVersion: tls.VersionTLS12}
	if s.tlsConfig != nil {
		tlsConf = s.tlsConfig.Clone()
		tlsConf.ServerName = ch.SMTPHost
	}
	var d0 net.Dialer
	conn, err := d0.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to the SMTP server %s: %w", addr, err)
	}
	if ch.SMTPMode == firmward.SMTPTLS {
		conn = tls.Client(conn, tlsConf)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, ch.SMTPHost)
	if err != nil {
		_ = conn.Close()
		return smtpError("greeting from "+addr, err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Hello(s.hostname); err != nil {
		return smtpError("EHLO", err)
	}
	if ch.SMTPMode == firmward.SMTPStartTLS || ch.SMTPMode == firmward.SMTPRequireStartTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return smtpError("STARTTLS", err)
			}
		} else if ch.SMTPMode == firmward.SMTPRequireStartTLS {
			return permanent(fmt.Errorf("the SMTP server %s does not offer STARTTLS and channel %d requires it", addr, ch.ID))
		}
	}
	if ch.SMTPUser != "" {
		// PlainAuth refuses to send the password without TLS unless the
		// server is on loopback.
		if err := c.Auth(smtp.PlainAuth("", ch.SMTPUser, secret, ch.SMTPHost)); err != nil {
			return smtpError("AUTH", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return smtpError("MAIL FROM", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return smtpError("RCPT TO "+to.Address, err)
	}
	msg, err := buildMessage(from.String(), to.String(), d, now, s.hostname)
	if err != nil {
		return permanent(fmt.Errorf("building the message: %w", err))
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("sending the message", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("end of DATA", err)
	}
	// The message was accepted at the end of DATA; a failed QUIT does not
	// undo it.
	_ = c.Quit()
	return nil
}
