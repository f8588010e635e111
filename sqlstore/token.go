package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// MaxTokenNameLen is the longest token name, in characters.
const MaxTokenNameLen = 100

// lastUsedResolution is how stale Token.LastUsedAt may get: Authenticate
// writes it at most this often per token, not on every request.
const lastUsedResolution = time.Minute

// TokenService manages API tokens. Only the SHA-256 of each secret is
// stored.
type TokenService struct {
	db *DB
}

var _ firmward.TokenService = (*TokenService)(nil)

// NewTokenService returns the tokens kept in db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

const tokenColumns = "id, name, role, prefix, created_by, created_at, last_used_at, revoked_at" //nolint:gosec // column names, no secret

// prefixScanner scans the columns before a token's.
type prefixScanner struct {
	s   scanner
	pre []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.s.Scan(append(p.pre, dest...)...) }

func scanToken(s scanner) (*firmward.Token, error) {
	var t firmward.Token
	var role string
	var created int64
	var lastUsed, revoked sql.NullInt64
	if err := s.Scan(&t.ID, &t.Name, &role, &t.Prefix, &t.CreatedBy, &created, &lastUsed, &revoked); err != nil {
		return nil, err
	}
	t.Role = firmward.Role(role)
	t.CreatedAt = fromMicros(created)
	t.LastUsedAt, t.RevokedAt = fromNullMicros(lastUsed), fromNullMicros(revoked)
	return &t, nil
}

// CreateToken stores a new token made by the actor in ctx and returns it
// with its secret, which is not stored. A missing or too long name, or an
// unknown role, is EINVALID.
func (s *TokenService) CreateToken(ctx context.Context, name string, role firmward.Role) (*firmward.Token, string, error) {
	name = strings.TrimSpace(name)
	var details []firmward.ErrorDetail
	switch {
	case name == "":
		details = append(details, firmward.ErrorDetail{Field: "name", Reason: "is required"})
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		details = append(details, firmward.ErrorDetail{Field: "name", Reason: "must be text"})
	case utf8.RuneCountInString(name) > MaxTokenNameLen:
		details = append(details, firmward.ErrorDetail{Field: "name", Reason: fmt.Sprintf("is longer than %d characters", MaxTokenNameLen)})
	}
	r, err := firmward.ParseRole(string(role))
	if err != nil {
		details = append(details, firmward.ErrorDetail{Field: "role", Value: string(role), Reason: "must be one of viewer, operator, admin"})
	}
	if len(details) > 0 {
		return nil, "", &firmward.Error{Code: firmward.EINVALID, Message: "token is not valid", Details: details}
	}

	secret := firmward.NewSecret(firmward.TokenSecretPrefix)
	t := &firmward.Token{
		Name:      name,
		Role:      r,
		Prefix:    secret[:firmward.TokenPrefixLen],
		CreatedBy: firmward.ActorFrom(ctx).String(),
		CreatedAt: s.db.nowUTC(),
	}
	err = s.db.write(ctx, func(tx conn) error {
		err := tx.queryRow(ctx, "INSERT INTO tokens (name, role, prefix, secret_hash, created_by, created_at)"+
			" VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			t.Name, string(t.Role), t.Prefix, firmward.HashSecret(secret), t.CreatedBy, micros(t.CreatedAt)).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("inserting token: %w", mapError(err))
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time:       t.CreatedAt,
			Action:     firmward.ActionTokenCreate,
			ObjectType: "token",
			ObjectID:   strconv.FormatInt(t.ID, 10),
			Changes: []firmward.FieldChange{
				{Field: "name", New: t.Name},
				{Field: "role", New: string(t.Role)},
			},
		}})
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// Authenticate returns the live token whose secret this is, or
// EUNAUTHORIZED for an unknown or revoked one. It records the time of use,
// writing it at most once a minute per token.
func (s *TokenService) Authenticate(ctx context.Context, secret string) (*firmward.Token, error) {
	if secret == "" {
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "missing API token")
	}
	t, err := scanToken(s.db.read().queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE secret_hash = ?", firmward.HashSecret(secret)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "invalid or revoked API token")
	case err != nil:
		return nil, fmt.Errorf("authenticating: %w", err)
	case t.RevokedAt != nil:
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "invalid or revoked API token")
	}
	now := s.db.nowUTC()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedResolution {
		// Conditional, so that replicas racing here write once.
		err := s.db.write(ctx, func(tx conn) error {
			_, err := tx.exec(ctx, "UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
				micros(now), t.ID, micros(now.Add(-lastUsedResolution)))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("recording token use: %w", err)
		}
		t.LastUsedAt = &now
	}
	return t, nil
}

// FindTokens lists every token, revoked ones included, by ID.
func (s *TokenService) FindTokens(ctx context.Context) ([]*firmward.Token, error) {
	rows, err := s.db.read().query(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*firmward.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// FindTokenByID returns a token or ENOTFOUND.
func (s *TokenService) FindTokenByID(ctx context.Context, id int64) (*firmward.Token, error) {
	return findToken(ctx, s.db.read(), id, false)
}

func findToken(ctx context.Context, c conn, id int64, lock bool) (*firmward.Token, error) {
	q := "SELECT " + tokenColumns + " FROM tokens WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	t, err := scanToken(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "token %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading token %d: %w", id, err)
	}
	return t, nil
}

// RevokeToken revokes a token and ends its sessions: ENOTFOUND if there is
// no such token, ECONFLICT if it is revoked already.
func (s *TokenService) RevokeToken(ctx context.Context, id int64) error {
	return s.db.write(ctx, func(tx conn) error {
		t, err := findToken(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return firmward.Errorf(firmward.ECONFLICT, "token %d was revoked already", id)
		}
		now := s.db.nowUTC()
		if _, err := tx.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ?", micros(now), id); err != nil {
			return fmt.Errorf("revoking token %d: %w", id, err)
		}
		if _, err := tx.exec(ctx, "DELETE FROM sessions WHERE token_id = ?", id); err != nil {
			return fmt.Errorf("ending sessions of token %d: %w", id, err)
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time:       now,
			Action:     firmward.ActionTokenRevoke,
			ObjectType: "token",
			ObjectID:   strconv.FormatInt(id, 10),
			Changes:    []firmward.FieldChange{{Field: "revoked_at", New: now.Format(time.RFC3339)}},
		}})
	})
}

// CountTokens counts live (not revoked) tokens.
func (s *TokenService) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.db.read().queryRow(ctx, "SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL").Scan(&n); err != nil {
		return 0, fmt.Errorf("counting tokens: %w", err)
	}
	return n, nil
}

// SessionService keeps web sessions. Only the SHA-256 of each session
// secret is stored. Sessions are not audited here: the web layer records
// sign-ins with RecordAudit.
type SessionService struct {
	db *DB
}

var _ firmward.SessionService = (*SessionService)(nil)

// NewSessionService returns the sessions kept in db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

// SessionSecretPrefix starts every web session secret.
const SessionSecretPrefix = "fws_"

// CreateSession starts a session of ttl for a live token and returns it
// with its secret. A ttl of zero or less is EINVALID, an unknown token
// ENOTFOUND, a revoked one EUNAUTHORIZED. Expired sessions are purged on
// the way.
func (s *SessionService) CreateSession(ctx context.Context, tokenID int64, ttl time.Duration) (*firmward.Session, string, error) {
	if ttl <= 0 {
		return nil, "", firmward.Errorf(firmward.EINVALID, "session lifetime must be positive")
	}
	now := s.db.nowUTC()
	sess := &firmward.Session{TokenID: tokenID, CreatedAt: now, ExpiresAt: now.Add(ttl).Truncate(time.Microsecond)}
	secret := firmward.NewSecret(SessionSecretPrefix)
	err := s.db.write(ctx, func(tx conn) error {
		t, err := findToken(ctx, tx, tokenID, false)
		if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return firmward.Errorf(firmward.EUNAUTHORIZED, "token %d is revoked", tokenID)
		}
		if _, err := tx.exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", micros(now)); err != nil {
			return fmt.Errorf("purging expired sessions: %w", err)
		}
		if _, err := tx.exec(ctx, "INSERT INTO sessions (secret_hash, token_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
			firmward.HashSecret(secret), tokenID, micros(sess.CreatedAt), micros(sess.ExpiresAt)); err != nil {
			return fmt.Errorf("inserting session: %w", mapError(err))
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return sess, secret, nil
}

// FindSession returns the live session with this secret and its token, or
// EUNAUTHORIZED when it is unknown, expired, or its token revoked.
func (s *SessionService) FindSession(ctx context.Context, secret string) (*firmward.Session, *firmward.Token, error) {
	if secret == "" {
		return nil, nil, firmward.Errorf(firmward.EUNAUTHORIZED, "not signed in")
	}
	var created, expires int64
	row := s.db.read().queryRow(ctx, "SELECT s.created_at, s.expires_at, t."+strings.ReplaceAll(tokenColumns, ", ", ", t.")+
		" FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.secret_hash = ?", firmward.HashSecret(secret))
	t, err := scanToken(prefixScanner{row, []any{&created, &expires}})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil, firmward.Errorf(firmward.EUNAUTHORIZED, "session expired or unknown; sign in again")
	case err != nil:
		return nil, nil, fmt.Errorf("reading session: %w", err)
	}
	sess := firmward.Session{TokenID: t.ID, CreatedAt: fromMicros(created), ExpiresAt: fromMicros(expires)}
	if !s.db.nowUTC().Before(sess.ExpiresAt) || t.RevokedAt != nil {
		return nil, nil, firmward.Errorf(firmward.EUNAUTHORIZED, "session expired or unknown; sign in again")
	}
	return &sess, t, nil
}

// DeleteSession ends a session; an unknown secret is not an error.
func (s *SessionService) DeleteSession(ctx context.Context, secret string) error {
	return s.db.write(ctx, func(tx conn) error {
		if _, err := tx.exec(ctx, "DELETE FROM sessions WHERE secret_hash = ?", firmward.HashSecret(secret)); err != nil {
			return fmt.Errorf("deleting session: %w", err)
		}
		return nil
	})
}
