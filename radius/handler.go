package radius

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	firmward "github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// SecretHeader is the HTTP header that carries the shared secret between
// FreeRADIUS and firmward. FreeRADIUS sets it with
// `update control { &REST-HTTP-Header += "X-Firmward-Radius-Secret: …" }`
// before each rest call (see docs/NAC.md).
const SecretHeader = "X-Firmward-Radius-Secret" //nolint:gosec // a header name, not a credential

// Paths served by Handler; rlm_rest's authorize, post-auth and accounting
// sections POST to them with `body = 'json'`.
const (
	PathAuthorize  = "/nac/radius/authorize"
	PathPostAuth   = "/nac/radius/post-auth"
	PathAccounting = "/nac/radius/accounting"
)

// Directory gives the NAC decision for a MAC address. The server implements
// it over its store with nac.Policy.Evaluate.
type Directory interface {
	// Decide returns the decision for the device that owns mac (lower-case,
	// colon-separated). For a MAC no device has it returns either the
	// site policy's UnknownDecision, or an ENOTFOUND *firmward.Error to let
	// Config.Unknown decide.
	Decide(ctx context.Context, mac string) (nac.Decision, error)
}

// Session is what firmward knows about where a MAC last authenticated or
// accounted: the NAS to send CoA and Disconnect requests to, and the
// attributes that identify the session there.
type Session struct {
	MAC            string     `json:"mac"`
	UserName       string     `json:"user_name,omitempty"`
	NASIP          netip.Addr `json:"nas_ip,omitzero"`
	NASIdentifier  string     `json:"nas_identifier,omitempty"`
	NASPort        string     `json:"nas_port,omitempty"`
	NASPortID      string     `json:"nas_port_id,omitempty"`
	CalledStation  string     `json:"called_station_id,omitempty"`
	CallingStation string     `json:"calling_station_id,omitempty"`
	AcctSessionID  string     `json:"acct_session_id,omitempty"`
	FramedIP       netip.Addr `json:"framed_ip,omitzero"`
	// Event is "authenticated" (post-auth) or the Acct-Status-Type of an
	// accounting request ("Start", "Interim-Update", "Stop", …).
	Event string    `json:"event"`
	At    time.Time `json:"at"`
}

// SessionRecorder records the NAS that last authenticated or accounted a
// MAC. Sessions implements it in memory; the server may persist instead.
type SessionRecorder interface {
	RecordSession(ctx context.Context, s Session) error
}

// Config configures a Handler.
type Config struct {
	// Secret is the shared secret FreeRADIUS sends in SecretHeader;
	// required, at least 16 bytes.
	Secret string
	// Directory decides each MAC; required.
	Directory Directory
	// Sessions records post-auth and accounting; required.
	Sessions SessionRecorder
	// Unknown is the answer when the Directory says ENOTFOUND: reject (the
	// zero value's default) or a guest/registration VLAN.
	Unknown nac.Unknown
	Logger  *slog.Logger
	Now     func() time.Time
}

// Handler is the rlm_rest policy endpoint. Its answers, by path:
//
//   - authorize: 200 with reply:Tunnel-Type = VLAN, reply:Tunnel-Medium-Type
//     = IEEE-802 and reply:Tunnel-Private-Group-Id = the VLAN when the
//     decision has one; 204 (accept, no VLAN) when it has none; 401
//     (reject) when the decision rejects or the MAC is unknown and
//     Config.Unknown says reject.
//   - post-auth and accounting: 204 after recording the session.
//
// On every path: 403 when the secret header is missing or wrong, 400 with
// a message for a body that is not a valid rlm_rest JSON body or names no
// MAC, 413 for a body over MaxBodyBytes, 500 when the directory or the
// session store fails (rlm_rest returns "fail"; the site's fail-open or
// fail-closed setting decides).
type Handler struct {
	cfg    Config
	secret [sha256.Size]byte
	mux    *http.ServeMux
}

// NewHandler checks cfg and returns the handler; it serves the three Path*
// routes only.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case len(cfg.Secret) < 16:
		return nil, errors.New("radius: the shared secret must be at least 16 bytes")
	case cfg.Directory == nil:
		return nil, errors.New("radius: Config.Directory is required")
	case cfg.Sessions == nil:
		return nil, errors.New("radius: Config.Sessions is required")
	}
	if cfg.Unknown.Action == "" {
		cfg.Unknown.Action = nac.UnknownReject
	}
	if cfg.Unknown.Action != nac.UnknownReject && (cfg.Unknown.Action != nac.UnknownVLAN || !nac.ValidVLAN(cfg.Unknown.VLAN)) {
		return nil, fmt.Errorf("radius: unknown-MAC answer %q with VLAN %q: want reject, or vlan with a VLAN id or name", cfg.Unknown.Action, cfg.Unknown.VLAN)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, secret: sha256.Sum256([]byte(cfg.Secret)), mux: http.NewServeMux()}
	h.mux.HandleFunc("POST "+PathAuthorize, h.authorize)
	h.mux.HandleFunc("POST "+PathPostAuth, h.postAuth)
	h.mux.HandleFunc("POST "+PathAccounting, h.accounting)
	return h, nil
}

// ServeHTTP checks the caller's secret and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Hashing both sides makes the comparison constant-time whatever the
	// lengths.
	got := sha256.Sum256([]byte(r.Header.Get(SecretHeader)))
	if subtle.ConstantTimeCompare(got[:], h.secret[:]) != 1 {
		h.cfg.Logger.WarnContext(r.Context(), "radius: request without the right shared secret", "remote", r.RemoteAddr, "path", r.URL.Path)
		writeError(w, http.StatusForbidden, "missing or wrong "+SecretHeader+" header")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// readRequest reads and parses the body and finds its MAC; on failure it
// has answered. When noMAC (may be nil) accepts the parsed request, a
// request without a MAC is returned with mac "".
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request, noMAC func(Request) bool) (Request, string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxBodyBytes))
		} else {
			writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		}
		return nil, "", false
	}
	req, err := ParseBody(body)
	if err == nil {
		var mac string
		mac, err = req.MAC()
		if err == nil {
			return req, mac, true
		}
		if noMAC != nil && noMAC(req) {
			return req, "", true
		}
	}
	h.cfg.Logger.WarnContext(r.Context(), "radius: bad rlm_rest body", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusBadRequest, firmward.ErrorMessage(err))
	return nil, "", false
}

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	_, mac, ok := h.readRequest(w, r, nil)
	if !ok {
		return
	}
	dec, err := h.cfg.Directory.Decide(r.Context(), mac)
	switch {
	case firmward.ErrorCode(err) == firmward.ENOTFOUND:
		dec = nac.Decision{Segment: "unknown"}
		if h.cfg.Unknown.Action == nac.UnknownVLAN {
			dec.VLAN = h.cfg.Unknown.VLAN
		} else {
			dec.Reject = true
		}
		h.cfg.Logger.InfoContext(r.Context(), "radius: unknown MAC", "mac", mac, "vlan", dec.VLAN, "reject", dec.Reject)
	case err != nil:
		h.cfg.Logger.ErrorContext(r.Context(), "radius: deciding", "mac", mac, "err", err)
		writeError(w, http.StatusInternalServerError, "firmward could not decide; see its log")
		return
	default:
		h.cfg.Logger.DebugContext(r.Context(), "radius: authorize", "mac", mac, "device", dec.DeviceID, "vlan", dec.VLAN, "reject", dec.Reject, "decision", dec.Summary())
	}
	switch {
	case dec.Reject:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "{}")
	case dec.VLAN == "":
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, VLANReply(dec.VLAN))
	}
}

// VLANReply is the rlm_rest reply that puts a port in a VLAN (RFC 3580).
func VLANReply(vlan string) map[string]string {
	return map[string]string{
		"reply:Tunnel-Type":             "VLAN",
		"reply:Tunnel-Medium-Type":      "IEEE-802",
		"reply:Tunnel-Private-Group-Id": vlan,
	}
}

func (h *Handler) postAuth(w http.ResponseWriter, r *http.Request) {
	req, mac, ok := h.readRequest(w, r, nil)
	if !ok {
		return
	}
	h.record(w, r, req, mac, "authenticated")
}

func (h *Handler) accounting(w http.ResponseWriter, r *http.Request) {
	req, mac, ok := h.readRequest(w, r, isAccountingOnOff)
	if !ok {
		return
	}
	if mac == "" { // Accounting-On/Off
		h.cfg.Logger.InfoContext(r.Context(), "radius: NAS accounting on/off", "status", req["Acct-Status-Type"].Values)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, ok, err := req.Value("Acct-Status-Type", "integer")
	if err != nil {
		writeError(w, http.StatusBadRequest, firmward.ErrorMessage(err))
		return
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "accounting request without Acct-Status-Type")
		return
	}
	h.record(w, r, req, mac, status)
}

// isAccountingOnOff reports whether a body is a NAS's Accounting-On or
// Accounting-Off (a reboot): it names no station, and there is nothing to
// record.
func isAccountingOnOff(req Request) bool {
	status, _, err := req.Value("Acct-Status-Type", "integer")
	return err == nil && (status == "Accounting-On" || status == "Accounting-Off")
}

// record stores the session the request describes and answers 204.
func (h *Handler) record(w http.ResponseWriter, r *http.Request, req Request, mac, event string) {
	s, err := sessionOf(req, mac, event, h.cfg.Now().UTC())
	if err != nil {
		writeError(w, http.StatusBadRequest, firmward.ErrorMessage(err))
		return
	}
	if err := h.cfg.Sessions.RecordSession(r.Context(), s); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "radius: recording session", "mac", mac, "err", err)
		writeError(w, http.StatusInternalServerError, "firmward could not record the session; see its log")
		return
	}
	h.cfg.Logger.DebugContext(r.Context(), "radius: session", "mac", mac, "event", event, "nas_ip", s.NASIP, "nas_identifier", s.NASIdentifier)
	w.WriteHeader(http.StatusNoContent)
}

// sessionOf reads the NAS and session attributes of a request.
func sessionOf(req Request, mac, event string, now time.Time) (Session, error) {
	s := Session{MAC: mac, Event: event, At: now}
	strs := []struct {
		name string
		dst  *string
	}{
		{"User-Name", &s.UserName},
		{"NAS-Identifier", &s.NASIdentifier},
		{"NAS-Port-Id", &s.NASPortID},
		{"Called-Station-Id", &s.CalledStation},
		{"Calling-Station-Id", &s.CallingStation},
		{"Acct-Session-Id", &s.AcctSessionID},
	}
	for _, f := range strs {
		v, _, err := req.Value(f.name, "string")
		if err != nil {
			return s, err
		}
		*f.dst = v
	}
	port, _, err := req.Value("NAS-Port", "integer")
	if err != nil {
		return s, err
	}
	s.NASPort = port
	for _, f := range []struct {
		name string
		dst  *netip.Addr
	}{{"NAS-IP-Address", &s.NASIP}, {"Framed-IP-Address", &s.FramedIP}} {
		v, ok, err := req.Value(f.name, "ipaddr")
		if err != nil {
			return s, err
		}
		if !ok {
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() {
			return s, invalidf("attribute %s: %s is not an IPv4 address", f.name, quote(v))
		}
		*f.dst = a
	}
	if v, ok, err := req.Value("NAS-IPv6-Address", "ipv6addr"); err != nil {
		return s, err
	} else if ok && !s.NASIP.IsValid() {
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is6() {
			return s, invalidf("attribute NAS-IPv6-Address: %s is not an IPv6 address", quote(v))
		}
		s.NASIP = a
	}
	if !s.NASIP.IsValid() && s.NASIdentifier == "" {
		return s, invalidf("the request names no NAS: NAS-IP-Address, NAS-IPv6-Address and NAS-Identifier are all missing")
	}
	return s, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers firmward's error shape; rlm_rest logs the body.
func writeError(w http.ResponseWriter, status int, msg string) {
	code := firmward.EINVALID
	switch status {
	case http.StatusForbidden:
		code = firmward.EFORBIDDEN
	case http.StatusRequestEntityTooLarge:
		code = firmward.ETOOLARGE
	case http.StatusInternalServerError:
		code = firmward.EINTERNAL
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
