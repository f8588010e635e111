package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// session is the signed-in user of a request.
type session struct {
	secret string // the cookie value
	token  *firmward.Token
	csrf   string // token every POST form must carry
}

// canEdit reports whether the session may change the inventory.
func (s *session) canEdit() bool {
	return s != nil && s.token.Role.Includes(firmward.RoleOperator)
}

// pageFunc handles a request of a signed-in user.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// csrfToken derives the CSRF token of a session from its secret, so that
// nothing more needs storing and a token is useless with another session.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("firmward web csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameToken compares two CSRF tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// currentSession returns the session of the request's cookie, or an
// EUNAUTHORIZED error when there is none.
func (h *Handler) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, firmward.Errorf(firmward.EUNAUTHORIZED, "not signed in")
	}
	_, tok, err := h.sessions.FindSession(r.Context(), c.Value)
	if err != nil {
		return nil, fmt.Errorf("finding session: %w", err)
	}
	return &session{secret: c.Value, token: tok, csrf: csrfToken(c.Value)}, nil
}

// signedIn wraps a page that needs a session: without one, the browser is
// sent to the sign-in page, which brings it back afterwards. The token
// becomes the actor of every change made by the request.
func (h *Handler) signedIn(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.currentSession(r)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EUNAUTHORIZED {
				h.serverError(w, r, nil, err)
				return
			}
			if _, cerr := r.Cookie(sessionCookie); cerr == nil {
				h.clearCookie(w, sessionCookie) // expired or revoked
			}
			h.toLogin(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		ctx := firmward.WithActor(r.Context(), firmward.TokenActor(s.token))
		fn(w, r.WithContext(ctx), s)
	}
}

// editor wraps a GET page that only exists for users who may change
// devices (forms, confirmations); others get a 403 page.
func (h *Handler) editor(fn pageFunc) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		if !s.canEdit() {
			h.forbidden(w, r, s)
			return
		}
		fn(w, r, s)
	}
}

// post wraps a form submission: it needs a session, a same-origin request,
// a body of at most limit bytes, the session's CSRF token in the "csrf"
// field and the role need. Refused requests change nothing.
func (h *Handler) post(need firmward.Role, limit int64, fn pageFunc) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		if err := h.checkOrigin(r); err != nil {
			h.log.WarnContext(r.Context(), "web: cross-origin form refused", "path", r.URL.Path, "token", s.token.ID, "err", err)
			h.csrfFailed(w, r, s)
			return
		}
		if !h.parseForm(w, r, s, limit) {
			return
		}
		if r.MultipartForm != nil {
			// The server removes upload files only for the request it made,
			// not for the copy carrying the actor.
			defer func() {
				if err := r.MultipartForm.RemoveAll(); err != nil {
					h.log.WarnContext(r.Context(), "web: removing upload files", "err", err)
				}
			}()
		}
		if !sameToken(r.PostFormValue("csrf"), s.csrf) {
			h.log.WarnContext(r.Context(), "web: bad CSRF token", "path", r.URL.Path, "token", s.token.ID)
			h.csrfFailed(w, r, s)
			return
		}
		if !s.token.Role.Includes(need) {
			h.forbidden(w, r, s)
			return
		}
		fn(w, r, s)
	})
}

// parseForm reads a url-encoded or multipart body of at most limit bytes;
// on failure it answers the request and returns false.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request, s *session, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(8 << 20) //nolint:gosec // G120: the body is limited by MaxBytesReader above
	} else {
		err = r.ParseForm()
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		h.errorPage(w, r, s, http.StatusRequestEntityTooLarge, "Too large",
			fmt.Sprintf("The form is larger than %d MiB. Split the file into smaller parts and import them one by one.", limit>>20))
		return false
	}
	h.errorPage(w, r, s, http.StatusBadRequest, "Bad request", "The form could not be read. Go back and try again.")
	return false
}

// checkOrigin refuses a state-changing request that a browser says comes
// from another site: Sec-Fetch-Site or Origin (net/http's cross-origin
// protection) and, when neither is sent, a Referer naming another host.
func (h *Handler) checkOrigin(r *http.Request) error {
	if err := h.cop.Check(r); err != nil {
		return err
	}
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
		return nil
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host != r.Host {
			return errors.New("referer names another host")
		}
	}
	return nil
}

// toLogin sends a browser without a session to the sign-in page; a GET
// comes back to where it was going.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if next := r.URL.RequestURI(); next != "/" && localPath(next) {
			target += "?next=" + url.QueryEscape(next)
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath reports whether next is a path on this site, safe to redirect
// to after signing in: it must start with one "/" and name no host.
func localPath(next string) bool {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return false
	}
	if strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure is Config.SecureCookies, off for plain-HTTP home installs
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) { h.setCookie(w, name, "", -1) }

// loginView is the data of the sign-in page.
type loginView struct {
	Next  string
	CSRF  string
	Error string
}

// loginPage shows the sign-in form, or sends a signed-in user on.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = "/"
	}
	if _, err := h.currentSession(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next passed localPath
		return
	}
	h.renderLogin(w, r, http.StatusOK, next, "")
}

// renderLogin shows the sign-in form with a fresh double-submit token.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	// Reuse the token of an earlier visit, so that two open sign-in tabs
	// both work.
	tok := rand.Text()
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == len(tok) {
		tok = c.Value
	}
	h.setCookie(w, loginCookie, tok, 3600)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, nil, status, "login", view{Title: "Sign in", Page: loginView{Next: next, CSRF: tok, Error: msg}})
}

// login checks the API token of the sign-in form and starts a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := h.checkOrigin(r); err != nil {
		h.log.WarnContext(ctx, "web: cross-origin sign-in refused", "err", err)
		h.renderLogin(w, r, http.StatusForbidden, "/", "The sign-in form was sent from another site and was refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderLogin(w, r, http.StatusBadRequest, "/", "The form could not be read. Try again.")
		return
	}
	next := r.PostFormValue("next")
	if !localPath(next) {
		next = "/"
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		h.renderLogin(w, r, http.StatusForbidden, next, "The sign-in form expired. Paste your token again.")
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	if secret == "" {
		h.renderLogin(w, r, http.StatusUnauthorized, next, "Paste your API token to sign in.")
		return
	}
	tok, err := h.tokens.Authenticate(ctx, secret)
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EUNAUTHORIZED {
			h.log.InfoContext(ctx, "web: sign-in failed", "remote", r.RemoteAddr)
			h.renderLogin(w, r, http.StatusUnauthorized, next, "That token is not valid, or it has been revoked.")
			return
		}
		h.serverError(w, r, nil, fmt.Errorf("authenticating: %w", err))
		return
	}
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		// Signing in again replaces the session this browser had.
		if err := h.sessions.DeleteSession(ctx, old.Value); err != nil {
			h.log.WarnContext(ctx, "web: ending the previous session", "err", err)
		}
	}
	sess, sessSecret, err := h.sessions.CreateSession(ctx, tok.ID, sessionTTL)
	if err != nil {
		h.serverError(w, r, nil, fmt.Errorf("creating session: %w", err))
		return
	}
	actx := firmward.WithActor(ctx, firmward.TokenActor(tok))
	if err := h.audit.RecordAudit(actx, &firmward.AuditEvent{
		Action: firmward.ActionSessionStart, ObjectType: "token", ObjectID: strconv.FormatInt(tok.ID, 10),
	}); err != nil {
		h.log.ErrorContext(ctx, "web: recording sign-in", "token", tok.ID, "err", err)
	}
	maxAge := int(sess.ExpiresAt.Sub(h.now()).Seconds())
	if maxAge <= 0 {
		maxAge = int(sessionTTL.Seconds())
	}
	h.setCookie(w, sessionCookie, sessSecret, maxAge)
	h.clearCookie(w, loginCookie)
	h.log.InfoContext(ctx, "web: signed in", "token", tok.ID, "name", tok.Name)
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next passed localPath
}

// logoutPage asks for confirmation, for browsers that reach /logout by a
// link; the navigation bar posts the form directly.
func (h *Handler) logoutPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.render(w, r, s, http.StatusOK, "logout", view{Title: "Sign out"})
}

// logout ends the session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	if err := h.sessions.DeleteSession(ctx, s.secret); err != nil {
		h.serverError(w, r, s, fmt.Errorf("ending session: %w", err))
		return
	}
	if err := h.audit.RecordAudit(ctx, &firmward.AuditEvent{
		Action: firmward.ActionSessionEnd, ObjectType: "token", ObjectID: strconv.FormatInt(s.token.ID, 10),
	}); err != nil {
		h.log.ErrorContext(ctx, "web: recording sign-out", "token", s.token.ID, "err", err)
	}
	h.clearCookie(w, sessionCookie)
	h.flash(w, "You are signed out.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
