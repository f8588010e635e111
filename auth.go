package firmward

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Role is what an API token may do. Roles are ordered: each includes the
// ones below it.
type Role string

// Roles, weakest first.
const (
	RoleViewer   Role = "viewer"   // read
	RoleOperator Role = "operator" // change inventory and run work
	RoleAdmin    Role = "admin"    // tokens and settings
)

// Roles lists every role, weakest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Includes reports whether r grants everything need grants.
func (r Role) Includes(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// ParseRole returns the role named s or an EINVALID error.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", Errorf(EINVALID, "role %q is not one of viewer, operator, admin", s)
	}
	return r, nil
}

// Token is an API token. Only a hash of its secret is stored; Prefix, the
// first characters of the secret, helps a person tell tokens apart.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TokenSecretPrefix starts every API token secret, so that leaked tokens are
// easy to find with secret scanners.
const TokenSecretPrefix = "fwt_"

// TokenPrefixLen is how many characters of a secret are kept in Token.Prefix.
const TokenPrefixLen = 12

// NewSecret returns a new random secret "PREFIX" + 43 base64url characters
// (256 bits).
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the hex SHA-256 of a secret. Secrets are 256-bit
// random values, so a fast hash is enough: nothing can be guessed offline.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// TokenService manages API tokens. Creating and revoking are audited.
type TokenService interface {
	// CreateToken stores a new token and returns it with its secret, which
	// is shown once and never stored.
	CreateToken(ctx context.Context, name string, role Role) (*Token, string, error)
	// Authenticate returns the live token whose secret this is, or
	// EUNAUTHORIZED; it records the time of use.
	Authenticate(ctx context.Context, secret string) (*Token, error)
	// FindTokens lists every token, revoked ones included, by ID.
	FindTokens(ctx context.Context) ([]*Token, error)
	// FindTokenByID returns a token or ENOTFOUND.
	FindTokenByID(ctx context.Context, id int64) (*Token, error)
	// RevokeToken revokes a token (ENOTFOUND if none, ECONFLICT if already).
	RevokeToken(ctx context.Context, id int64) error
	// CountTokens counts live (not revoked) tokens.
	CountTokens(ctx context.Context) (int, error)
}

// Session is a signed-in web session. Its secret lives only in the
// browser's cookie; the store keeps its hash.
type Session struct {
	TokenID   int64     `json:"token_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionService keeps web sessions.
type SessionService interface {
	// CreateSession starts a session for a token and returns its secret.
	CreateSession(ctx context.Context, tokenID int64, ttl time.Duration) (*Session, string, error)
	// FindSession returns the live session and its token, or EUNAUTHORIZED
	// when the session is unknown, expired, or its token revoked.
	FindSession(ctx context.Context, secret string) (*Session, *Token, error)
	// DeleteSession ends a session; unknown secrets are not an error.
	DeleteSession(ctx context.Context, secret string) error
}

// Actor is who makes a change: a token, a device, or firmward itself.
type Actor struct {
	Kind string `json:"kind"` // "token", "device" or "system"
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role,omitempty"`
}

// SystemActor is used when no actor is in the context.
var SystemActor = Actor{Kind: "system", Name: "firmward"}

// String formats an actor as "token:3(alice)" or "system(firmward)".
func (a Actor) String() string {
	if a.Kind == "system" || a.Kind == "" {
		return "system(" + a.Name + ")"
	}
	return fmt.Sprintf("%s:%d(%s)", a.Kind, a.ID, a.Name)
}

// TokenActor returns the actor for an API token.
func TokenActor(t *Token) Actor {
	return Actor{Kind: "token", ID: t.ID, Name: t.Name, Role: t.Role}
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or SystemActor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor
}
