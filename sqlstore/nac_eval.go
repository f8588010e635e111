package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// Evaluate reads a device, its open and risk-accepted findings, its NAC
// state and its site's policy, and decides at the store's now.
func (s *NACService) Evaluate(ctx context.Context, id int64) (nac.Evaluation, error) {
	return s.evaluate(ctx, s.db.read(), id)
}

func (s *NACService) evaluate(ctx context.Context, c conn, id int64) (nac.Evaluation, error) {
	var ev nac.Evaluation
	d, err := findDevice(ctx, c, id, false)
	if err != nil {
		return ev, err
	}
	fs, err := openFindings(ctx, c, id)
	if err != nil {
		return ev, err
	}
	st, err := readState(ctx, c, id, false)
	if err != nil {
		return ev, err
	}
	p, err := sitePolicy(ctx, c, nac.SiteOf(d))
	if err != nil {
		return ev, err
	}
	now := s.db.nowUTC()
	ev.Device, ev.State, ev.Findings = d, *st, fs
	ev.Decision = p.Evaluate(d, fs, nac.StateOf(st, now), now)
	return ev, nil
}

// openFindings reads the open and risk-accepted findings of a device
// (Evaluate decides which acceptances have run out).
func openFindings(ctx context.Context, c conn, id int64) ([]*firmward.Finding, error) {
	rows, err := c.query(ctx, "SELECT "+selectFindingColumns+" FROM findings f WHERE f.device_id = ? AND f.status IN ('open', 'risk-accepted')", id)
	if err != nil {
		return nil, fmt.Errorf("reading the findings of device %d: %w", id, err)
	}
	defer func() { _ = rows.Close() }()
	var fs []*firmward.Finding
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the findings of device %d: %w", id, err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the findings of device %d: %w", id, err)
	}
	return fs, nil
}

// Decide returns the decision for the device that owns mac (any notation
// net.ParseMAC reads; an indexed lookup), or ENOTFOUND. It implements
// radius.Directory.
func (s *NACService) Decide(ctx context.Context, mac string) (nac.Decision, error) {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return nac.Decision{}, firmward.Errorf(firmward.EINVALID, "%q is not an Ethernet MAC address", mac)
	}
	c := s.db.read()
	var id int64
	err = c.queryRow(ctx, "SELECT device_id FROM device_macs WHERE mac = ?", hw.String()).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nac.Decision{}, firmward.Errorf(firmward.ENOTFOUND, "no device has MAC %s", hw)
	case err != nil:
		return nac.Decision{}, fmt.Errorf("looking up MAC %s: %w", hw, err)
	}
	ev, err := s.evaluate(ctx, c, id)
	if err != nil {
		return nac.Decision{}, err
	}
	return ev.Decision, nil
}

// --- RADIUS sessions ---

const sessionColumns = "mac, user_name, nas_ip, nas_identifier, nas_port, nas_port_id, called_station, calling_station, acct_session_id, framed_ip, event, at"

// RecordNASSession keeps s as the last session of its MAC. Sessions are
// observations of the network (like a device's last_seen), written on
// every post-auth and accounting request, and are not audited.
func (s *NACService) RecordNASSession(ctx context.Context, ns firmward.NASSession) error {
	hw, err := net.ParseMAC(ns.MAC)
	if err != nil || len(hw) != 6 {
		return firmward.Errorf(firmward.EINVALID, "session MAC %q is not an Ethernet MAC address", ns.MAC)
	}
	ns.MAC = hw.String()
	vals := []string{ns.UserName, ns.NASIP, ns.NASIdentifier, ns.NASPort, ns.NASPortID, ns.CalledStation, ns.CallingStation, ns.AcctSessionID, ns.FramedIP, ns.Event}
	for i, v := range vals {
		if len(v) > 253 { // a RADIUS attribute holds at most 253 bytes
			v = v[:253]
		}
		vals[i] = storable(v)
	}
	return s.db.write(ctx, func(tx conn) error {
		_, err := tx.exec(ctx, "INSERT INTO nas_sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"+
			" ON CONFLICT (mac) DO UPDATE SET user_name = excluded.user_name, nas_ip = excluded.nas_ip,"+
			" nas_identifier = excluded.nas_identifier, nas_port = excluded.nas_port, nas_port_id = excluded.nas_port_id,"+
			" called_station = excluded.called_station, calling_station = excluded.calling_station,"+
			" acct_session_id = excluded.acct_session_id, framed_ip = excluded.framed_ip, event = excluded.event, at = excluded.at",
			ns.MAC, vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], vals[7], vals[8], vals[9], micros(ns.At))
		if err != nil {
			return fmt.Errorf("recording the RADIUS session of %s: %w", ns.MAC, mapError(err))
		}
		return nil
	})
}

// LastNASSession returns the last session of mac or ENOTFOUND.
func (s *NACService) LastNASSession(ctx context.Context, mac string) (firmward.NASSession, error) {
	var ns firmward.NASSession
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return ns, firmward.Errorf(firmward.EINVALID, "%q is not an Ethernet MAC address", mac)
	}
	var at int64
	err = s.db.read().queryRow(ctx, "SELECT "+sessionColumns+" FROM nas_sessions WHERE mac = ?", hw.String()).Scan(
		&ns.MAC, &ns.UserName, &ns.NASIP, &ns.NASIdentifier, &ns.NASPort, &ns.NASPortID, &ns.CalledStation, &ns.CallingStation,
		&ns.AcctSessionID, &ns.FramedIP, &ns.Event, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ns, firmward.Errorf(firmward.ENOTFOUND, "no RADIUS session seen for %s", hw)
	case err != nil:
		return ns, fmt.Errorf("reading the RADIUS session of %s: %w", hw, err)
	}
	ns.At = fromMicros(at)
	return ns, nil
}

// --- NAS secrets ---

func (s *NACService) aead() (cipher.AEAD, error) {
	if s.key == nil {
		return nil, firmward.Errorf(firmward.EINVALID, "no key to seal NAS secrets with: the server keeps it in DATA/nac-secrets.key")
	}
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, fmt.Errorf("NAS secret key: %w", err)
	}
	return cipher.NewGCM(block)
}

func (s *NACService) seal(nas, secret string) (string, error) {
	g, err := s.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("making a nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, []byte(secret), []byte(nas))), nil
}

func (s *NACService) open(nas, sealed string) (string, error) {
	g, err := s.aead()
	if err != nil {
		return "", err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < g.NonceSize() {
		return "", fmt.Errorf("NAS %q: the stored secret is damaged", nas)
	}
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(nas))
	if err != nil {
		return "", fmt.Errorf("NAS %q: the stored secret does not open with this server's key (was DATA/nac-secrets.key replaced?)", nas)
	}
	return string(plain), nil
}

// SetNASSecret seals and stores a NAS's secret (NAS name and secret
// required; Addr optional host:port); audited as nac.nas_secret without
// the secret.
func (s *NACService) SetNASSecret(ctx context.Context, ns firmward.NASSecret) error {
	ns.NAS = strings.TrimSpace(ns.NAS)
	var details []firmward.ErrorDetail
	if ns.NAS == "" || !utf8.ValidString(ns.NAS) || len(ns.NAS) > 253 {
		details = append(details, firmward.ErrorDetail{Field: "nas", Reason: "is required: the NAS-IP-Address or NAS-Identifier (at most 253 bytes)"})
	}
	if len(ns.Secret) < 8 || len(ns.Secret) > 128 {
		details = append(details, firmward.ErrorDetail{Field: "secret", Reason: "must be 8 to 128 bytes"})
	}
	if ns.Addr != "" {
		if _, _, err := net.SplitHostPort(ns.Addr); err != nil {
			details = append(details, firmward.ErrorDetail{Field: "addr", Value: ns.Addr, Reason: "must be host:port"})
		}
	}
	if len(details) > 0 {
		return invalidNAC("invalid NAS secret", details)
	}
	sealed, err := s.seal(ns.NAS, ns.Secret)
	if err != nil {
		return err
	}
	return s.db.write(ctx, func(tx conn) error {
		now := tx.db.nowUTC()
		var oldAddr string
		err := tx.queryRow(ctx, "SELECT addr FROM nas_secrets WHERE nas = ?", ns.NAS).Scan(&oldAddr)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading NAS %q: %w", ns.NAS, err)
		}
		_, err = tx.exec(ctx, "INSERT INTO nas_secrets (nas, addr, secret, updated_at) VALUES (?, ?, ?, ?)"+
			" ON CONFLICT (nas) DO UPDATE SET addr = excluded.addr, secret = excluded.secret, updated_at = excluded.updated_at",
			ns.NAS, ns.Addr, sealed, micros(now))
		if err != nil {
			return fmt.Errorf("storing NAS %q: %w", ns.NAS, mapError(err))
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionNASSecret, ObjectType: "nas", ObjectID: ns.NAS,
			Changes: []firmward.FieldChange{{Field: "addr", Old: oldAddr, New: ns.Addr}, {Field: "secret", New: "(set)"}},
		}})
	})
}

// DeleteNASSecret removes a NAS's secret; ENOTFOUND when there is none.
func (s *NACService) DeleteNASSecret(ctx context.Context, nas string) error {
	return s.db.write(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, "DELETE FROM nas_secrets WHERE nas = ?", nas)
		if err != nil {
			return fmt.Errorf("removing NAS %q: %w", nas, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return firmward.Errorf(firmward.ENOTFOUND, "no secret stored for NAS %q", nas)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Action: firmward.ActionNASSecret, ObjectType: "nas", ObjectID: storable(nas),
			Changes: []firmward.FieldChange{{Field: "secret", Old: "(set)"}},
		}})
	})
}

// NASSecrets lists the NASes by name; with reveal each Secret is opened.
func (s *NACService) NASSecrets(ctx context.Context, reveal bool) ([]firmward.NASSecret, error) {
	rows, err := s.db.read().query(ctx, "SELECT nas, addr, secret, updated_at FROM nas_secrets ORDER BY nas")
	if err != nil {
		return nil, fmt.Errorf("listing NAS secrets: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []firmward.NASSecret
	for rows.Next() {
		var ns firmward.NASSecret
		var sealed string
		var at int64
		if err := rows.Scan(&ns.NAS, &ns.Addr, &sealed, &at); err != nil {
			return nil, fmt.Errorf("listing NAS secrets: %w", err)
		}
		ns.UpdatedAt = fromMicros(at)
		if reveal {
			if ns.Secret, err = s.open(ns.NAS, sealed); err != nil {
				return nil, err
			}
		}
		out = append(out, ns)
	}
	return out, rows.Err()
}
