package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firmward/firmward"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// requestInfo is what the outer middleware learns about a request from the
// handlers further in: the matched route and the authenticated actor. One
// lives in each request's context; mu guards route and actor, which a
// handler may set from another goroutine than the one that reads them.
type requestInfo struct {
	id    string
	mu    sync.Mutex
	route string
	actor string
}

type infoKey struct{}

// infoFrom returns the request's info; requests that did not pass through
// instrument (tests calling a handler directly) get a throwaway one.
func infoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

func (i *requestInfo) setRoute(pattern string) {
	if pattern == "" {
		return
	}
	i.mu.Lock()
	i.route = pattern
	i.mu.Unlock()
}

func (i *requestInfo) setActor(a firmward.Actor) {
	i.mu.Lock()
	i.actor = a.String()
	i.mu.Unlock()
}

// routeLabel is the route as logs and metrics show it: the matched pattern
// without its method (the method is a label of its own), or "unmatched".
// It never holds a raw path, so the label set stays small.
func (i *requestInfo) routeLabel() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.route == "" {
		return "unmatched"
	}
	_, path, ok := strings.Cut(i.route, " ")
	if !ok {
		path = i.route
	}
	return path
}

func (i *requestInfo) actorName() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.actor == "" {
		return "anonymous"
	}
	return i.actor
}

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// httpMetrics are the request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newHTTPMetrics registers the request metrics, the Go collector and the
// process collector with reg, reusing any already there (a second Server on
// one registry, or collectors registered by the caller).
func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firmward_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "firmward_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	m.requests = registerOrReuse(reg, m.requests)
	m.duration = registerOrReuse(reg, m.duration)
	registerOrReuse(reg, collectors.NewGoCollector())
	registerOrReuse(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registerOrReuse registers c, or returns the equal collector already
// registered. Any other failure is a programming error.
func registerOrReuse[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
		return c // registered under another type; ours stays unexported
	}
	panic(fmt.Sprintf("httpapi: registering metrics: %v", err))
}

// knownMethods bounds the method label: anything else is "other".
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

// instrument is the outermost layer: it gives the request an ID, turns a
// panic into a 500, then logs and measures the answer.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: newRequestID()}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		rec := &statusRecorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", info.id)

		defer func() {
			p := recover()
			if p != nil && !isAbort(p) {
				s.logger.LogAttrs(r.Context(), slog.LevelError, "handler panicked",
					slog.String("request_id", info.id),
					slog.String("method", r.Method),
					slog.String("route", info.routeLabel()),
					slog.Any("panic", p),
					slog.String("stack", string(debug.Stack())))
				if !rec.wroteHeader {
					h := rec.Header()
					h.Del("Content-Disposition")
					s.writeJSON(rec, r, http.StatusInternalServerError, errorBody{Error: errorPayload{
						Code:    firmward.EINTERNAL,
						Message: "internal error; the server log has the details under request_id " + info.id,
					}})
				} else {
					p = http.ErrAbortHandler // half a response: cut the connection
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			if isAbort(p) {
				status = 0 // the client saw a broken response, not a status
			}
			s.observe(r, info, status, time.Since(start))
			if isAbort(p) {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// isAbort reports whether a recovered panic value is http.ErrAbortHandler,
// the way to cut a response off.
func isAbort(p any) bool {
	err, ok := p.(error)
	return ok && errors.Is(err, http.ErrAbortHandler)
}

// observe logs and measures one finished request; status 0 means the
// response was cut off.
func (s *Server) observe(r *http.Request, info *requestInfo, status int, d time.Duration) {
	method, route := methodLabel(r.Method), info.routeLabel()
	code := strconv.Itoa(status)
	if status == 0 {
		code = "aborted"
	}
	s.metrics.requests.WithLabelValues(method, route, code).Inc()
	s.metrics.duration.WithLabelValues(method, route).Observe(d.Seconds())

	level := slog.LevelInfo
	switch {
	case status == 0 || status >= 500:
		level = slog.LevelError
	case (route == "/healthz" || route == "/metrics") && status < 400:
		level = slog.LevelDebug // probes and scrapes would drown everything else
	}
	s.logger.LogAttrs(r.Context(), level, "http request",
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.String("status", code),
		slog.Duration("duration", d),
		slog.String("actor", info.actorName()))
}

// statusRecorder remembers the status written through it. It passes
// Flush on (the export streams) and unwraps for http.ResponseController.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client.
func (w *statusRecorder) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type tokenKey struct{}

// tokenFrom returns the token that authenticated the request.
func tokenFrom(ctx context.Context) (*firmward.Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(*firmward.Token)
	return t, ok
}

// authorize wraps h so that it runs only for a bearer token whose role
// includes need; public routes (need "") pass through. The token's actor
// goes into the context for the audit trail.
func (s *Server) authorize(need firmward.Role, h http.HandlerFunc) http.Handler {
	if need == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, err := bearerSecret(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		tok, err := s.tokens.Authenticate(r.Context(), secret)
		if err != nil {
			if firmward.ErrorCode(err) == firmward.EUNAUTHORIZED {
				err = firmward.Errorf(firmward.EUNAUTHORIZED, "the API token is not valid (unknown or revoked); ask an admin for a new one")
			}
			s.writeError(w, r, err)
			return
		}
		actor := firmward.TokenActor(tok)
		infoFrom(r.Context()).setActor(actor)
		if !tok.Role.Includes(need) {
			s.writeError(w, r, firmward.Errorf(firmward.EFORBIDDEN,
				"this needs the %s role; token %q has the %s role", need, tok.Name, tok.Role))
			return
		}
		ctx := firmward.WithActor(r.Context(), actor)
		ctx = context.WithValue(ctx, tokenKey{}, tok)
		h(w, r.WithContext(ctx))
	})
}

// bearerSecret returns the secret of an "Authorization: Bearer …" header,
// or EUNAUTHORIZED.
func bearerSecret(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", firmward.Errorf(firmward.EUNAUTHORIZED, "an API token is required: send the header \"Authorization: Bearer TOKEN\"")
	}
	scheme, secret, _ := strings.Cut(h, " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return "", firmward.Errorf(firmward.EUNAUTHORIZED, "the Authorization header must be \"Bearer TOKEN\"")
	}
	return secret, nil
}
