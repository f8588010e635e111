package notify_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward/internal/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver for the admin connection

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
)

// clock is a settable time source shared by the store and dispatchers.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// backend opens databases of one dialect; dsn gives a fresh database
// that several *sqlstore.DB may open (replicas).
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "firmward.db") }},
	{"postgres", postgresDSN},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// postgresDSN makes a schema of its own on the test PostgreSQL (dropped
// at the end). Skipped when unreachable, a failure under CI=true.
func postgresDSN(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "fwnotify")
}

// env is one replica: its database handle and services.
type env struct {
	db       *sqlstore.DB
	store    *sqlstore.NotifyService
	alerts   *sqlstore.AlertService
	devices  *sqlstore.DeviceService
	findings *sqlstore.FindingService
	checks   *sqlstore.CheckService
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func openEnv(t *testing.T, dsn string, c *clock) *env {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := sqlstore.NewNotifyService(db, sqlstore.NotifyOptions{SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		db: db, store: store, alerts: sqlstore.NewAlertService(db), devices: sqlstore.NewDeviceService(db),
		findings: sqlstore.NewFindingService(db), checks: sqlstore.NewCheckService(db),
	}
}

// smtpServer is a small SMTP server on loopback for tests: EHLO,
// STARTTLS (when tls is set), AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP,
// QUIT. failMail makes the next MAIL commands answer that reply.
type smtpServer struct {
	addr string
	tls  *tls.Config

	mu       sync.Mutex // guards the fields below
	failMail []string   // replies to the next MAIL commands ("451 …")
	messages []smtpMessage
}

type smtpMessage struct {
	From, To   string
	TLS        bool
	User, Pass string
	Msg        *mail.Message
	Body       string
}

func startSMTP(t *testing.T, withTLS bool) (*smtpServer, *x509.CertPool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{addr: ln.Addr().String()}
	var pool *x509.CertPool
	if withTLS {
		var cert tls.Certificate
		cert, pool = selfSigned(t)
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				s.serve(conn)
			}()
		}
	}()
	return s, pool
}

func (s *smtpServer) host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

func (s *smtpServer) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	var n int
	_, _ = fmt.Sscan(p, &n)
	return n
}

func (s *smtpServer) failNext(replies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMail = append(s.failMail, replies...)
}

func (s *smtpServer) received() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.messages...)
}

func (s *smtpServer) serve(conn net.Conn) {
	tp := textproto.NewConn(conn)
	var cur smtpMessage
	reply := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	if !reply("220 test.invalid ESMTP ready") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			exts := []string{"250-test.invalid", "250-8BITMIME"}
			if s.tls != nil && !cur.TLS {
				exts = append(exts, "250-STARTTLS")
			}
			exts = append(exts, "250 AUTH PLAIN")
			if !reply("%s", strings.Join(exts, "\r\n")) {
				return
			}
		case "STARTTLS":
			if s.tls == nil || cur.TLS {
				reply("502 not offered")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			tp = textproto.NewConn(tc)
			cur = smtpMessage{TLS: true}
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if mech != "PLAIN" || err != nil || len(parts) != 3 {
				reply("535 bad auth")
				continue
			}
			cur.User, cur.Pass = parts[1], parts[2]
			reply("235 authenticated")
		case "MAIL":
			s.mu.Lock()
			var fail string
			if len(s.failMail) > 0 {
				fail, s.failMail = s.failMail[0], s.failMail[1:]
			}
			s.mu.Unlock()
			if fail != "" {
				reply("%s", fail)
				continue
			}
			cur.From, _, _ = strings.Cut(strings.TrimPrefix(arg, "FROM:<"), ">")
			reply("250 ok")
		case "RCPT":
			cur.To, _, _ = strings.Cut(strings.TrimPrefix(arg, "TO:<"), ">")
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(data)))
			if err != nil {
				reply("554 unreadable message: %v", err)
				continue
			}
			body, _ := bufio.NewReader(msg.Body).Peek(1 << 16)
			m := cur
			m.Msg, m.Body = msg, string(body)
			s.mu.Lock()
			s.messages = append(s.messages, m)
			s.mu.Unlock()
			reply("250 queued")
		case "RSET":
			cur = smtpMessage{TLS: cur.TLS, User: cur.User, Pass: cur.Pass}
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("500 unknown command")
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// raise raises an alert and fails the test on error.
func raise(t *testing.T, e *env, kind string, sev firmward.Severity, subject string) *firmward.Alert {
	t.Helper()
	a := &firmward.Alert{Kind: kind, Severity: sev, Subject: subject}
	if _, err := e.alerts.RaiseAlert(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}
