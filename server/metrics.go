package server

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the request latency
// histogram.
var latencyBuckets = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// histogram is a Prometheus-style cumulative histogram.
type histogram struct {
	counts [len(latencyBuckets) + 1]atomic.Uint64
	sumNS  atomic.Uint64
	n      atomic.Uint64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets[:], s)
	h.counts[i].Add(1)
	h.sumNS.Add(uint64(d))
	h.n.Add(1)
}

// metrics holds the server's counters, exposed at /metrics in the
// Prometheus text format.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]*atomic.Uint64 // (handler, status class) -> count
	latency  map[string]*histogram
	searches atomic.Uint64
	added    atomic.Uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]*atomic.Uint64{}, latency: map[string]*histogram{}}
}

func (m *metrics) record(handler string, status int, d time.Duration) {
	key := [2]string{handler, fmt.Sprint(status)}
	m.mu.Lock()
	c := m.requests[key]
	if c == nil {
		c = new(atomic.Uint64)
		m.requests[key] = c
	}
	h := m.latency[handler]
	if h == nil {
		h = new(histogram)
		m.latency[handler] = h
	}
	m.mu.Unlock()
	c.Add(1)
	h.observe(d)
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts requests and observes latencies of a handler.
func (s *Server) instrument(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.record(name, sw.status, d)
		s.opts.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", d.Milliseconds())
	})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	m := s.metrics
	var b strings.Builder
	b.WriteString("# HELP sight_http_requests_total HTTP requests by handler and status code.\n# TYPE sight_http_requests_total counter\n")
	m.mu.Lock()
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(&b, "sight_http_requests_total{handler=%q,code=%q} %d\n", k[0], k[1], m.requests[k].Load())
	}
	b.WriteString("# HELP sight_http_request_duration_seconds HTTP request latency by handler.\n# TYPE sight_http_request_duration_seconds histogram\n")
	names := make([]string, 0, len(m.latency))
	for n := range m.latency {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := m.latency[n]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(&b, "sight_http_request_duration_seconds_bucket{handler=%q,le=\"%g\"} %d\n", n, le, cum)
		}
		cum += h.counts[len(latencyBuckets)].Load()
		fmt.Fprintf(&b, "sight_http_request_duration_seconds_bucket{handler=%q,le=\"+Inf\"} %d\n", n, cum)
		fmt.Fprintf(&b, "sight_http_request_duration_seconds_sum{handler=%q} %g\n", n, float64(h.sumNS.Load())/1e9)
		fmt.Fprintf(&b, "sight_http_request_duration_seconds_count{handler=%q} %d\n", n, h.n.Load())
	}
	m.mu.Unlock()
	st, err := s.lib.Stats(r.Context())
	if err != nil {
		return err
	}
	fmt.Fprintf(&b, "# HELP sight_library_images Distinct images in the library.\n# TYPE sight_library_images gauge\nsight_library_images %d\n", st.Images)
	fmt.Fprintf(&b, "# HELP sight_library_paths File paths in the library.\n# TYPE sight_library_paths gauge\nsight_library_paths %d\n", st.Paths)
	fmt.Fprintf(&b, "# HELP sight_index_vectors Vectors in the search index.\n# TYPE sight_index_vectors gauge\nsight_index_vectors %d\n", st.Indexed)
	fmt.Fprintf(&b, "# HELP sight_searches_total Searches answered.\n# TYPE sight_searches_total counter\nsight_searches_total %d\n", m.searches.Load())
	fmt.Fprintf(&b, "# HELP sight_uploads_total Images received through POST /v1/images.\n# TYPE sight_uploads_total counter\nsight_uploads_total %d\n", m.added.Load())
	es := s.lib.Encoder().Stats()
	fmt.Fprintf(&b, "# HELP sight_embed_images_total Images embedded.\n# TYPE sight_embed_images_total counter\nsight_embed_images_total %d\n", es.Images)
	fmt.Fprintf(&b, "# HELP sight_embed_texts_total Texts embedded.\n# TYPE sight_embed_texts_total counter\nsight_embed_texts_total %d\n", es.Texts)
	fmt.Fprintf(&b, "# HELP sight_embed_image_seconds_total Time spent in the image tower.\n# TYPE sight_embed_image_seconds_total counter\nsight_embed_image_seconds_total %g\n", es.ImageSeconds)
	fmt.Fprintf(&b, "# HELP sight_embed_text_seconds_total Time spent in the text tower.\n# TYPE sight_embed_text_seconds_total counter\nsight_embed_text_seconds_total %g\n", es.TextSeconds)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, err = w.Write([]byte(b.String()))
	return err
}
