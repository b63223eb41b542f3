// Package server is Sight's HTTP API and web page over a library: search by
// text, by uploaded photo, by image id or by weighted combinations; image
// metadata, thumbnails and originals; uploads and deletions; statistics,
// health, Prometheus metrics and an OpenAPI document.
//
// The API is JSON under /v1. Errors are JSON objects
// {"error":{"code":"…","message":"…"}} with a stable code; the client's
// mistakes get 4xx statuses, never 500.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sightsearch/sight/library"
)

// Options configures a Server.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:8080" (loopback only).
	Addr string
	// APIKey, when set, is required (as "Authorization: Bearer KEY" or
	// "X-API-Key: KEY") on the endpoints that change the library.
	APIKey string
	// ReadOnly refuses every change to the library.
	ReadOnly bool
	// CORSOrigins lists origins allowed to call the API from a browser
	// ("*" for any). Empty: no CORS headers (same-origin only).
	CORSOrigins []string
	// MaxBodyBytes bounds request bodies (uploads); default 32 MiB.
	MaxBodyBytes int64
	// MaxConcurrentEmbeds bounds the embeddings computed at once (each holds
	// a decoded image); default 2 × GOMAXPROCS. Requests beyond it wait.
	MaxConcurrentEmbeds int
	// RequestTimeout bounds one request's work; default 60 s.
	RequestTimeout time.Duration
	// Logger receives request logs; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 32 << 20
	}
	if o.MaxConcurrentEmbeds <= 0 {
		o.MaxConcurrentEmbeds = 2 * runtime.GOMAXPROCS(0)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server serves one library over HTTP.
type Server struct {
	lib     *library.Library
	opts    Options
	handler http.Handler
	embeds  chan struct{} // semaphore over embedding work
	metrics *metrics
	writes  sync.WaitGroup // in-flight changes, awaited on shutdown
}

// New returns a server for lib.
func New(lib *library.Library, opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{lib: lib, opts: opts, embeds: make(chan struct{}, opts.MaxConcurrentEmbeds), metrics: newMetrics()}
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.method+" "+r.pattern, s.wrap(r))
	}
	mux.Handle("GET /", s.instrument("web", webHandler()))
	mux.Handle("/", s.instrument("other", s.methodNotAllowed()))
	s.handler = s.cors(mux)
	return s
}

// methodNotAllowed answers requests whose method no handler takes (the
// mux's own answer would be plain text, not a JSON error).
func (s *Server) methodNotAllowed() http.Handler {
	paths := http.NewServeMux()
	allow := map[string][]string{}
	for _, r := range s.routes() {
		if allow[r.pattern] == nil {
			paths.Handle(r.pattern, http.NotFoundHandler())
		}
		allow[r.pattern] = append(allow[r.pattern], r.method)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods := []string{"GET", "HEAD"} // the web page
		if _, pattern := paths.Handler(r); allow[pattern] != nil {
			methods = allow[pattern]
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(methods, " or ")))
	})
}

// route is one API endpoint. The OpenAPI document lists exactly these.
type route struct {
	method, pattern string
	name            string // metrics label and OpenAPI operationId
	write           bool   // changes the library: API key, read-only mode
	h               func(w http.ResponseWriter, r *http.Request) error
}

func (s *Server) routes() []route {
	return []route{
		{"POST", "/v1/search", "search", false, s.handleSearch},
		{"GET", "/v1/images/{id}", "getImage", false, s.handleImage},
		{"GET", "/v1/images/{id}/thumbnail", "getThumbnail", false, s.handleThumbnail},
		{"GET", "/v1/images/{id}/file", "getFile", false, s.handleFile},
		{"POST", "/v1/images", "addImage", true, s.handleAdd},
		{"DELETE", "/v1/images/{id}", "deleteImage", true, s.handleDelete},
		{"GET", "/v1/stats", "stats", false, s.handleStats},
		{"GET", "/healthz", "health", false, s.handleHealth},
		{"GET", "/metrics", "metrics", false, s.handleMetrics},
		{"GET", "/openapi.json", "openapi", false, s.handleOpenAPI},
	}
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, lets in-flight requests (and library
// writes) finish within a grace period, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      s.opts.RequestTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.opts.Logger.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.writes.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ListenAndServe listens on the configured address and serves until ctx is
// cancelled.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.opts.Logger.Info("serving", "url", "http://"+ln.Addr().String()+"/", "library", s.lib.Dir())
	return s.Serve(ctx, ln)
}

// apiError is an error with an HTTP status and a stable code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]any{"error": map[string]string{"code": e.code, "message": e.message}})
}

// wrap applies authentication, read-only mode, body limits, timeouts,
// error mapping and metrics to a route.
func (s *Server) wrap(rt route) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.write {
			if s.opts.ReadOnly || s.lib.ReadOnly() {
				writeError(w, errorf(http.StatusForbidden, "read_only", "this server is read-only"))
				return
			}
			if s.opts.APIKey != "" && !s.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="sight"`)
				writeError(w, errorf(http.StatusUnauthorized, "unauthorized", "this endpoint needs the API key (Authorization: Bearer KEY or X-API-Key: KEY)"))
				return
			}
			s.writes.Add(1)
			defer s.writes.Done()
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		if err := rt.h(w, r.WithContext(ctx)); err != nil {
			writeError(w, s.classify(err, r))
		}
	})
	return s.instrument(rt.name, h)
}

func (s *Server) authorized(r *http.Request) bool {
	key := r.Header.Get("X-API-Key")
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		key = strings.TrimPrefix(a, "Bearer ")
	}
	return key != "" && constantTimeEqual(key, s.opts.APIKey)
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// cors adds CORS headers for configured origins and answers preflights.
func (s *Server) cors(next http.Handler) http.Handler {
	if len(s.opts.CORSOrigins) == 0 {
		return next
	}
	allowed := map[string]bool{}
	for _, o := range s.opts.CORSOrigins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (allowed["*"] || allowed[origin]) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Vary", "Origin")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// acquire takes an embedding slot, waiting while all are busy.
func (s *Server) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.embeds <- struct{}{}:
		return func() { <-s.embeds }, nil
	case <-ctx.Done():
		return nil, errorf(http.StatusServiceUnavailable, "busy", "the server is busy embedding other requests; retry later")
	}
}
