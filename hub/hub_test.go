package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const fixtureDir = "../testdata/clip/tiny-b32"

// fakeHub serves the fixture checkpoint the way the Hub does: resolve URLs,
// LFS files (model.safetensors) redirected with 302 to a CDN server,
// X-Linked-Etag/X-Linked-Size on the redirect, ETag on small files, Range
// support everywhere.
type fakeHub struct {
	files map[string][]byte // file name -> content
	bySHA map[string][]byte // sha256 -> content of LFS files
	hub   *httptest.Server
	cdn   *httptest.Server

	mu       sync.Mutex
	hubAuth  []string // Authorization headers the hub saw
	cdnAuth  []string // Authorization headers the CDN saw
	ranges   []string // Range headers the CDN saw
	revs     []string // revisions requested
	hubHits  int
	sameHost bool            // serve /cdn/ from the hub server itself
	hidden   map[string]bool // answered with 404
	status   int             // if set, the hub answers every request with it
	fail5xx  int             // the hub answers the first fail5xx requests with 503
	drops    int             // CDN: abort this many responses after dropAt bytes of body
	dropAt   int
	corrupt  bool          // CDN: flip one byte
	blocked  chan struct{} // CDN: closed once a blocking response has sent dropAt bytes
	release  chan struct{} // CDN: a blocking response waits for this (or cancellation)
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{files: map[string][]byte{}, bySHA: map[string][]byte{}, hidden: map[string]bool{}}
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixtureDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h.files[e.Name()] = b
		h.bySHA[sha256Hex(b)] = b
	}
	hubMux := http.NewServeMux()
	hubMux.HandleFunc("GET /{owner}/{name}/resolve/{rev}/{file...}", h.serveResolve)
	hubMux.HandleFunc("GET /cdn/{sha}", h.serveCDN)
	h.hub = httptest.NewServer(hubMux)
	cdnMux := http.NewServeMux()
	cdnMux.HandleFunc("GET /cdn/{sha}", h.serveCDN)
	h.cdn = httptest.NewServer(cdnMux)
	t.Cleanup(func() {
		h.hub.Close()
		h.cdn.Close()
	})
	return h
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (h *fakeHub) serveResolve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hubHits++
	h.hubAuth = append(h.hubAuth, r.Header.Get("Authorization"))
	h.revs = append(h.revs, r.PathValue("rev"))
	status := h.status
	if h.fail5xx > 0 {
		h.fail5xx--
		status = http.StatusServiceUnavailable
	}
	hidden := h.hidden[r.PathValue("file")]
	h.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if r.PathValue("owner") != "openai" || r.PathValue("name") != "clip-tiny" {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	name := r.PathValue("file")
	content, ok := h.files[name]
	if !ok || hidden {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if strings.HasSuffix(name, ".safetensors") { // LFS
		sum := sha256Hex(content)
		base := h.cdn.URL
		if h.sameHost {
			base = ""
		}
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
		w.Header().Set("ETag", `W/"not-the-content-hash"`)
		w.Header().Set("Location", base+"/cdn/"+sum+"?file="+name)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitBlobSHA1(content)+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(content))
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	content, ok := h.bySHA[r.PathValue("sha")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	h.cdnAuth = append(h.cdnAuth, r.Header.Get("Authorization"))
	if rg := r.Header.Get("Range"); rg != "" {
		h.ranges = append(h.ranges, rg)
	}
	drop := h.drops > 0
	if drop {
		h.drops--
	}
	corrupt, blocked, release := h.corrupt, h.blocked, h.release
	h.mu.Unlock()
	if corrupt {
		content = bytes.Clone(content)
		content[len(content)/3] ^= 1
	}
	w.Header().Set("ETag", `"cdn-etag"`)
	if drop || (blocked != nil && r.Header.Get("Range") == "") {
		start := 0
		if rg := r.Header.Get("Range"); rg != "" {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
			if err != nil {
				http.Error(w, "unsupported range", http.StatusBadRequest)
				return
			}
			start = n
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(content)-1, len(content)))
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)-start))
		if start > 0 {
			w.WriteHeader(http.StatusPartialContent)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		w.Write(content[start : start+h.dropAt])
		w.(http.Flusher).Flush()
		if !drop {
			close(blocked)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

func (h *fakeHub) opts(t *testing.T) Options {
	return Options{
		Endpoint: h.hub.URL,
		CacheDir: t.TempDir(),
		backoff:  time.Millisecond,
	}
}

// checkFiles compares every fixture file with the downloaded one.
func checkFiles(t *testing.T, h *fakeHub, dir string) {
	t.Helper()
	for name, want := range h.files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the fixture (%d vs %d bytes)", name, len(got), len(want))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tokenizer.json: %v, want it absent", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.incomplete"))
	if len(matches) > 0 {
		t.Errorf("leftover partial files: %v", matches)
	}
}

func TestResolveDownload(t *testing.T) {
	for _, sameHost := range []bool{false, true} {
		t.Run(fmt.Sprintf("sameHost=%v", sameHost), func(t *testing.T) {
			t.Setenv("HF_TOKEN", "")
			h := newFakeHub(t)
			h.sameHost = sameHost
			opts := h.opts(t)
			opts.Token = "secret"
			var log bytes.Buffer
			opts.Progress = &log
			dir, err := Resolve(context.Background(), "openai/clip-tiny", opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(opts.CacheDir, "models", "openai--clip-tiny", "main"); dir != want {
				t.Errorf("dir = %s, want %s", dir, want)
			}
			checkFiles(t, h, dir)
			// 8 files: 7 found + tokenizer.json (404).
			if h.hubHits != 8 {
				t.Errorf("hub saw %d requests, want 8", h.hubHits)
			}
			for _, a := range h.hubAuth {
				if a != "Bearer secret" {
					t.Errorf("hub got Authorization %q", a)
				}
			}
			if sameHost {
				// Same host: the token may go along.
				if len(h.cdnAuth) != 1 || h.cdnAuth[0] != "Bearer secret" {
					t.Errorf("same-host CDN got Authorization %q", h.cdnAuth)
				}
			} else {
				if len(h.cdnAuth) != 1 || h.cdnAuth[0] != "" {
					t.Errorf("CDN got Authorization %q, want one request without it", h.cdnAuth)
				}
			}
			if len(h.ranges) != 0 {
				t.Errorf("unexpected Range requests %v", h.ranges)
			}
			for _, msg := range []string{"msg=downloading file=model.safetensors size=14031228", "msg=downloaded file=config.json"} {
				if !strings.Contains(log.String(), msg) {
					t.Errorf("progress log lacks %q:\n%s", msg, log.String())
				}
			}

			// Second run: no network needed.
			h.hub.Close()
			h.cdn.Close()
			opts.Progress = nil
			dir2, err := Resolve(context.Background(), "openai/clip-tiny", opts)
			if err != nil {
				t.Fatalf("offline second run: %v", err)
			}
			if dir2 != dir {
				t.Errorf("second run dir = %s, want %s", dir2, dir)
			}
			checkFiles(t, h, dir2)
		})
	}
}

func TestResumeAfterDrop(t *testing.T) {
	h := newFakeHub(t)
	h.drops, h.dropAt = 2, 1<<20 // the first resumed request drops too
	opts := h.opts(t)
	dir, err := Resolve(context.Background(), "openai/clip-tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dir)
	if want := []string{"bytes=1048576-", "bytes=2097152-"}; !slices.Equal(h.ranges, want) {
		t.Errorf("Range requests %q, want %q", h.ranges, want)
	}
}

func TestCancelAndResumeNextRun(t *testing.T) {
	h := newFakeHub(t)
	h.dropAt = 3 << 20
	h.blocked = make(chan struct{})
	h.release = make(chan struct{})
	opts := h.opts(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Resolve(ctx, "openai/clip-tiny", opts)
		errc <- err
	}()
	select {
	case <-h.blocked:
	case err := <-errc:
		t.Fatalf("Resolve returned before the download blocked: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // let the client write what it got
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Resolve did not return after cancellation")
	}
	close(h.release)
	part := filepath.Join(opts.CacheDir, "models", "openai--clip-tiny", "main", "model.safetensors.incomplete")
	st, err := os.Stat(part)
	if err != nil {
		t.Fatalf("partial file: %v", err)
	}
	if st.Size() == 0 || st.Size() > int64(h.dropAt) {
		t.Fatalf("partial file has %d bytes", st.Size())
	}

	h.blocked = nil
	dir, err := Resolve(context.Background(), "openai/clip-tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dir)
	if want := []string{fmt.Sprintf("bytes=%d-", st.Size())}; !slices.Equal(h.ranges, want) {
		t.Errorf("Range requests %q, want %q", h.ranges, want)
	}
}

func TestCorruptDownload(t *testing.T) {
	h := newFakeHub(t)
	h.corrupt = true
	opts := h.opts(t)
	_, err := Resolve(context.Background(), "openai/clip-tiny", opts)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), "model.safetensors") {
		t.Fatalf("err = %v, want a sha256 mismatch for model.safetensors", err)
	}
	dir := filepath.Join(opts.CacheDir, "models", "openai--clip-tiny", "main")
	for _, name := range []string{"model.safetensors", "model.safetensors.incomplete"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it deleted", name, err)
		}
	}
	// The next run downloads again and succeeds.
	h.corrupt = false
	if _, err := Resolve(context.Background(), "openai/clip-tiny", opts); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dir)
}

func TestEnvironment(t *testing.T) {
	h := newFakeHub(t)
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", h.hub.URL+"/")
	t.Setenv("HF_TOKEN", "from-env")
	t.Setenv("SIGHT_CACHE", cache)
	dir, err := Resolve(context.Background(), "openai/clip-tiny", Options{Revision: "v1.0", backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "models", "openai--clip-tiny", "v1.0"); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	checkFiles(t, h, dir)
	for i, a := range h.hubAuth {
		if a != "Bearer from-env" || h.revs[i] != "v1.0" {
			t.Errorf("request %d: Authorization %q, revision %q", i, a, h.revs[i])
		}
	}
	if len(h.cdnAuth) != 1 || h.cdnAuth[0] != "" {
		t.Errorf("CDN Authorization headers %q", h.cdnAuth)
	}
}

func TestRetryServerError(t *testing.T) {
	h := newFakeHub(t)
	h.fail5xx = 3
	var log bytes.Buffer
	opts := h.opts(t)
	opts.Logger = slogTo(&log)
	dir, err := Resolve(context.Background(), "openai/clip-tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dir)
	if n := strings.Count(log.String(), "retrying"); n != 3 {
		t.Errorf("%d retries logged, want 3:\n%s", n, log.String())
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *fakeHub, o *Options)
		model string
		want  []string
	}{
		{"required file missing", func(h *fakeHub, o *Options) { h.hidden["merges.txt"] = true },
			"openai/clip-tiny", []string{"model openai/clip-tiny has no file merges.txt"}},
		{"unauthorized", func(h *fakeHub, o *Options) { h.status = http.StatusUnauthorized },
			"openai/clip-tiny", []string{"HTTP 401", "HF_TOKEN", "private or gated"}},
		{"forbidden with token", func(h *fakeHub, o *Options) { h.status = http.StatusForbidden; o.Token = "bad" },
			"openai/clip-tiny", []string{"HTTP 403", "token in HF_TOKEN was rejected"}},
		{"unknown repo", nil, "someone/else", []string{"model someone/else not found"}},
		{"server keeps failing", func(h *fakeHub, o *Options) { h.status = http.StatusBadGateway },
			"openai/clip-tiny", []string{"cannot download config.json", "502", "--model /path/to/dir", "merges.txt", "tokenizer.json (optional)"}},
		{"no server", func(h *fakeHub, o *Options) { h.hub.Close() },
			"openai/clip-tiny", []string{"cannot download config.json", "--model /path/to/dir", "config.json, model.safetensors, vocab.json", "cache directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HF_TOKEN", "")
			h := newFakeHub(t)
			opts := h.opts(t)
			if tc.setup != nil {
				tc.setup(h, &opts)
			}
			_, err := Resolve(context.Background(), tc.model, opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(tc.name, "no server") && !strings.Contains(err.Error(), opts.CacheDir) {
				t.Errorf("err does not name the cache directory %s", opts.CacheDir)
			}
		})
	}
}

func TestLocalDirectory(t *testing.T) {
	dir, err := Resolve(context.Background(), fixtureDir, Options{Endpoint: "http://invalid.invalid"})
	if err != nil || dir != fixtureDir {
		t.Fatalf("Resolve(%s) = %s, %v", fixtureDir, dir, err)
	}
	// A copy without merges.txt is refused, naming the file.
	tmp := t.TempDir()
	for _, f := range CLIPFiles() {
		if f.Name == "merges.txt" || f.Optional {
			continue
		}
		if err := os.WriteFile(filepath.Join(tmp, f.Name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Resolve(context.Background(), tmp, Options{})
	if err == nil || !strings.Contains(err.Error(), "has no merges.txt") {
		t.Errorf("err = %v, want it to name merges.txt", err)
	}
	_, err = Resolve(context.Background(), "./no/such/dir", Options{})
	if err == nil || !strings.Contains(err.Error(), "model directory ./no/such/dir does not exist") {
		t.Errorf("err = %v", err)
	}
}

func TestInvalidModel(t *testing.T) {
	for _, model := range []string{"", "a/b/c", "../x", "a/..", "a b/c", "a/b?c", "a--b/c", "a/b..c", "/", "a/", "owner/näme"} {
		_, err := Resolve(context.Background(), model, Options{Endpoint: "http://127.0.0.1:1", CacheDir: t.TempDir()})
		if err == nil {
			t.Errorf("Resolve(%q): no error", model)
		}
	}
	_, err := Resolve(context.Background(), "a/b", Options{Endpoint: "http://127.0.0.1:1", CacheDir: t.TempDir(), Revision: "../x"})
	if err == nil || !strings.Contains(err.Error(), "invalid revision") {
		t.Errorf("bad revision: %v", err)
	}
	_, err = Resolve(context.Background(), "a/b", Options{Endpoint: "ftp://x", CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("bad endpoint: %v", err)
	}
	_, err = Resolve(context.Background(), "a/b", Options{Files: []File{{Name: "../etc/passwd"}}})
	if err == nil || !strings.Contains(err.Error(), "invalid file name") {
		t.Errorf("bad file name: %v", err)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 0-99/100", 0, 100, true},
		{"bytes 100-199/*", 100, -1, true},
		{"bytes 5-4/10", 0, 0, false},
		{"bytes 0-99/50", 0, 0, false},
		{"bytes */100", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		start, total, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (start != tc.start || total != tc.total)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tc.in, start, total, ok)
		}
	}
	for in, want := range map[string]string{`"abc"`: "abc", `W/"abc"`: "abc", "abc": "abc", "": ""} {
		if got := unquoteETag(in); got != want {
			t.Errorf("unquoteETag(%q) = %q", in, got)
		}
	}
}

func TestCacheRepairAndHandPlaced(t *testing.T) {
	h := newFakeHub(t)
	opts := h.opts(t)
	dir, err := Resolve(context.Background(), "openai/clip-tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	// A cached file whose size no longer matches its record is fetched again.
	if err := os.WriteFile(filepath.Join(dir, "vocab.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	hits := h.hubHits
	if _, err := Resolve(context.Background(), "openai/clip-tiny", opts); err != nil {
		t.Fatal(err)
	}
	if h.hubHits != hits+1 {
		t.Errorf("repair made %d hub requests, want 1", h.hubHits-hits)
	}
	checkFiles(t, h, dir)

	// Files copied into the cache by hand are used without network; the
	// optional tokenizer.json is skipped when the hub is unreachable.
	h.hub.Close()
	opts2 := h.opts(t)
	manual := filepath.Join(opts2.CacheDir, "models", "openai--clip-tiny", "main")
	if err := os.MkdirAll(manual, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range h.files {
		if err := os.WriteFile(filepath.Join(manual, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Resolve(context.Background(), "openai/clip-tiny", opts2)
	if err != nil || got != manual {
		t.Fatalf("Resolve with hand-placed files = %s, %v", got, err)
	}
}

func TestOptionalFilePresent(t *testing.T) {
	h := newFakeHub(t)
	h.files["tokenizer.json"] = []byte(`{"version":"1.0"}`)
	dir, err := Resolve(context.Background(), "openai/clip-tiny", h.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil || string(b) != `{"version":"1.0"}` {
		t.Errorf("tokenizer.json = %q, %v", b, err)
	}
}

// TestStalePartial covers partial files left by an earlier run: one of an
// older version of the file (different etag) must be discarded, one that
// is already complete must be accepted after the server answers 416.
func TestStalePartial(t *testing.T) {
	h := newFakeHub(t)
	model := h.files["model.safetensors"]
	tests := []struct {
		name    string
		content []byte
		meta    remote
	}{
		{"other version", bytes.Repeat([]byte{7}, 5000), remote{Size: int64(len(model)), ETag: strings.Repeat("0", 64)}},
		{"already complete", model, remote{Size: int64(len(model)), ETag: sha256Hex(model)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := h.opts(t)
			dir := filepath.Join(opts.CacheDir, "models", "openai--clip-tiny", "main")
			if err := os.MkdirAll(filepath.Join(dir, metaDir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "model.safetensors.incomplete"), tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := writeJSON(filepath.Join(dir, metaDir, "model.safetensors.incomplete.json"), tc.meta); err != nil {
				t.Fatal(err)
			}
			h.mu.Lock()
			h.ranges = nil
			h.mu.Unlock()
			got, err := Resolve(context.Background(), "openai/clip-tiny", opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, h, got)
			if want := []string{fmt.Sprintf("bytes=%d-", len(tc.content))}; !slices.Equal(h.ranges, want) {
				t.Errorf("Range requests %q, want %q", h.ranges, want)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := &barProgress{w: &buf, name: "model.safetensors"}
	p.start(1000, 0)
	p.set(500)
	p.set(1000)
	p.done()
	p.stop()
	if !strings.Contains(buf.String(), "model.safetensors") || !strings.Contains(buf.String(), "100%") {
		t.Errorf("progress bar output %q", buf.String())
	}
	if _, ok := newProgress(&buf, "x").(*logProgress); !ok {
		t.Error("a non-terminal writer must get log lines")
	}
	if _, ok := newProgress(nil, "x").(nopProgress); !ok {
		t.Error("nil writer must be silent")
	}
}
