package web

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

//go:embed templates
var templateFS embed.FS

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // highlighted navigation entry
	Token   *firmward.Token
	CanEdit bool
	CSRF    string
	Flash   string
	Page    any // the page's own data
	// Refresh, when positive, reloads the page after that many seconds
	// (<meta http-equiv="refresh">, which needs no script).
	Refresh int
}

// errorView is the data of error pages.
type errorView struct {
	Status  int
	Heading string
	Message string
}

// parseTemplates parses layout.html with each page under templates/; every
// page defines "content".
func (h *Handler) parseTemplates() (map[string]*template.Template, error) {
	pageNames := []string{"login", "logout", "dashboard", "devices", "device", "form", "delete", "import", "error", "risk", "scans", "scan", "nac", "checks", "check", "lifecycle", "vendors", "notify", "campaigns", "campaign", "releases", "release", "release_new", "campaign_form", "wizard", "reports"}
	base, err := template.New("layout").Funcs(h.funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parsing layout: %w", err)
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parsing %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page name with status. It fills the session parts of v and
// the flash message, and renders into a buffer first so that a template
// error becomes a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, v view) {
	if s != nil {
		v.Token, v.CanEdit, v.CSRF = s.token, s.canEdit(), s.csrf
	}
	if v.Flash == "" {
		v.Flash = h.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.ErrorContext(r.Context(), "web: rendering page", "page", name, "err", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		if _, err := w.Write(buf.Bytes()); err != nil {
			h.log.DebugContext(r.Context(), "web: writing page", "page", name, "err", err) // the browser went away
		}
	}
}

// flash stores a message shown by the next page (post-redirect-get).
func (h *Handler) flash(w http.ResponseWriter, msg string) {
	h.setCookie(w, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), 120)
}

// takeFlash returns and clears the pending flash message.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	h.clearCookie(w, flashCookie)
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return strings.ToValidUTF8(string(b), "")
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, heading, msg string) {
	h.render(w, r, s, status, "error", view{Title: heading, Page: errorView{Status: status, Heading: heading, Message: msg}})
}

// notFound answers every path no other route claims.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := h.currentSession(r) // the nav bar, when signed in
	h.errorPage(w, r, s, http.StatusNotFound, "Page not found",
		"There is nothing at this address. It may have been a device that was deleted, or a mistyped link.")
}

func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, s *session) {
	h.errorPage(w, r, s, http.StatusForbidden, "Not allowed",
		fmt.Sprintf("Your token %q has the %s role, which may look at the inventory but not change it. Ask an admin for an operator token.", s.token.Name, s.token.Role))
}

func (h *Handler) csrfFailed(w http.ResponseWriter, r *http.Request, s *session) {
	h.errorPage(w, r, s, http.StatusForbidden, "Form refused",
		"The form was sent from another site or has expired, so nothing was changed. Go back, reload the page and try again.")
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.log.ErrorContext(r.Context(), "web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.errorPage(w, r, s, http.StatusInternalServerError, "Something went wrong",
		"firmward could not finish this request. The details are in the server log. Try again in a moment.")
}

// serviceError answers an error from a service: not found, or internal.
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	switch firmward.ErrorCode(err) {
	case firmward.ENOTFOUND:
		h.errorPage(w, r, s, http.StatusNotFound, "Not found", firmward.ErrorMessage(err))
	case firmward.EINVALID:
		h.errorPage(w, r, s, http.StatusBadRequest, "Bad request", firmward.ErrorMessage(err))
	case firmward.EFORBIDDEN:
		h.forbidden(w, r, s)
	default:
		h.serverError(w, r, s, err)
	}
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"static":   h.assetURL,
		"label":    label,
		"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":      func(t time.Time) string { return ago(h.now(), t) },
		"day":      day,
		"dayAgo":   func(s string) string { return dayAgo(h.now(), s) },
		"eolState": func(s string) string { return eolState(h.now(), s) },
		"money":    money,
		"plural":   plural,
		"sentence": sentence,
		"short":    func(v any) string { return shortLabel(fmt.Sprint(v)) },
		"action":   actionLabel,
		"pct":      func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
		"score":    func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
		"join":     strings.Join,
	}
}

// label turns an enum value into words for people.
func label(v any) string {
	var s string
	switch x := v.(type) {
	case firmward.UpdateMechanism:
		switch x {
		case firmward.UpdateUnknown:
			return "Unknown"
		case firmward.UpdateAgent:
			return "firmward agent"
		case firmward.UpdateDDI:
			return "hawkBit (DDI) client"
		case firmward.UpdateVendorCloud:
			return "Vendor app or cloud"
		case firmward.UpdateWebAdmin:
			return "Web admin page"
		case firmward.UpdateTechnician:
			return "Technician on site"
		case firmward.UpdateNone:
			return "None: cannot be updated"
		}
		s = string(x)
	case firmward.Source:
		switch x {
		case firmward.SourceManual:
			return "Added by hand"
		case firmward.SourceImport:
			return "Imported"
		case firmward.SourceScan:
			return "Network scan"
		case firmward.SourceAgent:
			return "firmward agent"
		}
		s = string(x)
	case firmward.Category:
		s = string(x)
	case firmward.Criticality:
		s = string(x)
	case firmward.Exposure:
		s = string(x)
	case firmward.AutoUpdate:
		s = string(x)
	case firmward.Role:
		s = string(x)
	case string:
		s = x
	default:
		return fmt.Sprint(v)
	}
	switch s {
	case "":
		return "Unknown"
	case "legacy-ot":
		return "Legacy OT"
	case "safety-critical":
		return "Safety-critical"
	case "internet-facing":
		return "Internet-facing"
	}
	s = strings.ReplaceAll(s, "-", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// actionLabel names an audit action in words.
func actionLabel(action string) string {
	switch action {
	case firmward.ActionDeviceCreate:
		return "Added"
	case firmward.ActionDeviceUpdate:
		return "Changed"
	case firmward.ActionDeviceDelete:
		return "Deleted"
	case firmward.ActionDeviceImport:
		return "Imported"
	case firmward.ActionFindingSync:
		return "Vulnerabilities assessed"
	case firmward.ActionFindingSet:
		return "Finding status set"
	case firmward.ActionDeviceCPEConfirm:
		return "CPE name chosen"
	}
	return action
}

// sentence starts s with a capital letter.
func sentence(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// ago says how long before now t was, in words ("3 days ago", "in 2 hours").
func ago(now, t time.Time) string {
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 60*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "day"
	case d < 2*365*24*time.Hour:
		n, unit = int(d/(30*24*time.Hour)), "month"
	default:
		n, unit = int(d/(365*24*time.Hour)), "year"
	}
	s := plural(n, unit)
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// plural formats "1 device", "3 devices".
func plural(n any, unit string) string {
	var i int64
	switch x := n.(type) {
	case int:
		i = int64(x)
	case int64:
		i = x
	}
	if i == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(i, 10) + " " + unit + "s"
}

// day formats a YYYY-MM-DD date for people; other text is returned as is.
func day(s string) string {
	t, err := time.Parse(firmward.DateLayout, s)
	if err != nil {
		return s
	}
	return t.Format("2 Jan 2006")
}

// dayAgo says how far a YYYY-MM-DD date is from today.
func dayAgo(now time.Time, s string) string {
	t, err := time.Parse(firmward.DateLayout, s)
	if err != nil {
		return ""
	}
	today := now.UTC().Truncate(24 * time.Hour)
	if t.Equal(today) {
		return "today"
	}
	return ago(today, t)
}

// eolState classifies an end-of-life date: "past", "soon" (within 180
// days) or "" (later or unknown).
func eolState(now time.Time, s string) string {
	t, err := time.Parse(firmward.DateLayout, s)
	if err != nil {
		return ""
	}
	today := now.UTC().Truncate(24 * time.Hour)
	switch {
	case !t.After(today):
		return "past"
	case t.Sub(today) <= 180*24*time.Hour:
		return "soon"
	}
	return ""
}

// money formats a replacement cost; zero is unknown.
func money(f float64) string {
	if f == 0 {
		return ""
	}
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}
