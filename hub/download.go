package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sightsearch/sight/internal/ctxio"
)

// metaDir is the subdirectory of a model directory that holds the records
// of completed (and partial) downloads.
const metaDir = ".sight"

// record is the JSON sidecar written after a verified download, or for an
// optional file the Hub does not have.
type record struct {
	File       string    `json:"file"`
	Missing    bool      `json:"missing,omitempty"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256,omitempty"`
	ETag       string    `json:"etag,omitempty"`
	URL        string    `json:"url,omitempty"`
	Downloaded time.Time `json:"downloaded"`
}

// remote is what the server told about a file: its size (-1 if unknown)
// and its etag (unquoted; the sha256 for LFS files).
type remote struct {
	Size int64  `json:"size"`
	ETag string `json:"etag"`
}

type downloader struct {
	opts  Options
	repo  string
	dir   string
	files []File
	log   *slog.Logger
}

// notFoundError is a 404 for a file (not for the repository).
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryError is a download that still failed after retries: the network
// or the server is in trouble.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

func (d *downloader) metaPath(name string) string {
	return filepath.Join(d.dir, metaDir, filepath.FromSlash(name)+".json")
}

func (d *downloader) partialMetaPath(name string) string {
	return filepath.Join(d.dir, metaDir, filepath.FromSlash(name)+".incomplete.json")
}

// cached reports whether name is already in the cache: downloaded and
// verified (its record matches its size), recorded as absent from the hub,
// or copied there by hand (no record; downloads never write the final name
// before verifying, so such a file did not come from an interrupted one).
func (d *downloader) cached(name string) bool {
	var r record
	b, err := os.ReadFile(d.metaPath(name))
	hasRecord := err == nil
	if hasRecord && (json.Unmarshal(b, &r) != nil || r.File != name) {
		return false
	}
	if r.Missing {
		return true
	}
	st, err := os.Stat(filepath.Join(d.dir, filepath.FromSlash(name)))
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	if !hasRecord {
		d.log.Info("using file placed in the cache by hand", "file", name, "dir", d.dir)
		return true
	}
	return st.Size() == r.Size
}

// fetch makes sure f is in the cache.
func (d *downloader) fetch(ctx context.Context, f File) error {
	if d.cached(f.Name) {
		d.log.Debug("cached", "model", d.repo, "file", f.Name, "dir", d.dir)
		return nil
	}
	failures := maxFailures
	if f.Optional {
		failures = 1 // do not make every offline run wait for an optional file
	}
	err := d.download(ctx, f.Name, failures)
	if err == nil || !f.Optional || ctx.Err() != nil {
		return err
	}
	var nf *notFoundError
	if errors.As(err, &nf) {
		d.log.Info("optional file not on the hub", "model", d.repo, "file", f.Name)
		return writeJSON(d.metaPath(f.Name), record{File: f.Name, Missing: true, Size: -1, Downloaded: time.Now().UTC()})
	}
	var re *retryError
	if errors.As(err, &re) {
		// A network failure: go on without the optional file this time.
		d.log.Warn("skipping optional file", "model", d.repo, "file", f.Name, "err", err)
		return nil
	}
	return err
}

func (d *downloader) fileURL(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return d.opts.Endpoint + "/" + d.repo + "/resolve/" + url.PathEscape(d.opts.Revision) + "/" + strings.Join(segs, "/")
}

// download fetches name into the cache directory, resuming a partial file
// left by an earlier attempt, and verifies it.
func (d *downloader) download(ctx context.Context, name string, maxFail int) error {
	dest := filepath.Join(d.dir, filepath.FromSlash(name))
	part := dest + ".incomplete"
	if err := os.MkdirAll(filepath.Dir(d.metaPath(name)), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	s := &transfer{d: d, name: name, url: d.fileURL(name), part: part, want: remote{Size: -1}}

	// A partial file from an earlier run is resumed only if we know which
	// version of the file it holds.
	if st, err := os.Stat(part); err == nil {
		if b, err := os.ReadFile(d.partialMetaPath(name)); err == nil && json.Unmarshal(b, &s.want) == nil && s.want.ETag != "" {
			s.offset = st.Size()
			s.known = true
			d.log.Info("resuming partial download", "file", name, "offset", s.offset)
		} else {
			os.Remove(part)
		}
	}

	s.prog = newProgress(d.opts.Progress, name)
	defer s.prog.stop()
	failures, attempts := 0, 0
	for {
		attempts++
		written, done, err := s.attempt(ctx)
		if done {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("hub: download %s of %s: %w", name, d.repo, ctx.Err())
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if written > 0 {
			failures = 0
		}
		failures++
		if failures > maxFail || attempts >= maxAttempts {
			return &retryError{d.networkError(name, err)}
		}
		delay := min(d.opts.backoff<<(failures-1), 10*time.Second)
		d.log.Warn("download failed, retrying", "file", name, "offset", s.offset, "attempt", attempts, "delay", delay, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("hub: download %s of %s: %w", name, d.repo, ctx.Err())
		case <-time.After(delay):
		}
	}
	return d.finish(ctx, s, dest)
}

// finish verifies the completed partial file and moves it into place.
func (d *downloader) finish(ctx context.Context, s *transfer, dest string) error {
	fail := func(format string, args ...any) error {
		os.Remove(s.part)
		os.Remove(d.partialMetaPath(s.name))
		return fmt.Errorf("hub: download %s of %s: "+format+"; the partial file was deleted, run again to retry", append([]any{s.name, d.repo}, args...)...)
	}
	f, err := os.Open(s.part)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, ctxio.Reader(ctx, f))
	f.Close()
	if err != nil {
		return fmt.Errorf("hub: verify %s: %w", s.part, err)
	}
	if s.want.Size >= 0 && size != s.want.Size {
		return fail("got %d bytes, the server announced %d", size, s.want.Size)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if isSHA256(s.want.ETag) && sum != s.want.ETag {
		return fail("sha256 mismatch: got %s, the hub announced %s", sum, s.want.ETag)
	}
	if err := os.Rename(s.part, dest); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	syncDir(filepath.Dir(dest))
	rec := record{File: s.name, Size: size, SHA256: sum, ETag: s.want.ETag, URL: s.url, Downloaded: time.Now().UTC()}
	if err := writeJSON(d.metaPath(s.name), rec); err != nil {
		return err
	}
	os.Remove(d.partialMetaPath(s.name))
	d.log.Debug("downloaded", "model", d.repo, "file", s.name, "size", size, "sha256", sum)
	return nil
}

// networkError explains a download that failed for good and how to get
// the files without this program's help.
func (d *downloader) networkError(name string, err error) error {
	return fmt.Errorf("hub: cannot download %s from %s: %w\n"+
		"To use the model without network access, download these files of %s by hand into one directory and pass it with --model /path/to/dir:\n  %s\n"+
		"(or copy them into this model's cache directory %s)",
		name, d.fileURL(name), err, d.repo, fileList(d.files), d.dir)
}

// transfer is the state of one file's download across attempts.
type transfer struct {
	d      *downloader
	name   string
	url    string
	part   string
	offset int64  // bytes of the partial file
	want   remote // what the first response said
	known  bool   // want is set
	prog   progress
}

// attempt makes one request and appends what it receives to the partial
// file. It returns the number of bytes written, and done when the file is
// complete.
func (s *transfer) attempt(ctx context.Context) (written int64, done bool, err error) {
	d := s.d
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, false, &permanentError{fmt.Errorf("hub: %w", err)}
	}
	req.Header.Set("Accept-Encoding", "identity") // offsets must be those of the file
	req.Header.Set("User-Agent", "sight")
	if d.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.opts.Token)
	}
	if s.offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", s.offset))
	}
	var linked http.Header // X-Linked-* headers of a redirect response
	client := *d.opts.Client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		if linked == nil && r.Response != nil && r.Response.Header.Get("X-Linked-Etag") != "" {
			linked = r.Response.Header
		}
		// The token is for the hub only, not for the CDN it redirects to.
		if r.URL.Host != via[0].URL.Host || r.URL.Scheme != via[0].URL.Scheme {
			r.Header.Del("Authorization")
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if linked == nil && resp.Header.Get("X-Linked-Etag") != "" {
		linked = resp.Header
	}

	got := remote{Size: -1, ETag: unquoteETag(resp.Header.Get("ETag"))}
	if linked != nil {
		got.ETag = unquoteETag(linked.Get("X-Linked-Etag"))
		if n, err := strconv.ParseInt(linked.Get("X-Linked-Size"), 10, 64); err == nil && n >= 0 {
			got.Size = n
		}
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if got.Size < 0 && resp.ContentLength >= 0 {
			got.Size = resp.ContentLength
		}
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != s.offset {
			s.restart()
			return 0, false, fmt.Errorf("server answered Range bytes=%d- with Content-Range %q", s.offset, resp.Header.Get("Content-Range"))
		}
		if got.Size < 0 {
			got.Size = total
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if s.known && s.want.Size == s.offset {
			return 0, true, nil // the partial file was already complete
		}
		s.restart()
		return 0, false, errors.New("server rejected the resume offset; starting over")
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "set HF_TOKEN to a Hugging Face access token that can read it"
		if d.opts.Token != "" {
			hint = "the token in HF_TOKEN was rejected or cannot read it"
		}
		return 0, false, &permanentError{fmt.Errorf("hub: %s: HTTP %d for %s: model %s may be private or gated; %s",
			s.name, resp.StatusCode, s.url, d.repo, hint)}
	case http.StatusNotFound:
		switch resp.Header.Get("X-Error-Code") {
		case "RepoNotFound":
			return 0, false, &permanentError{fmt.Errorf("hub: model %s not found at %s (if it is private or gated, set HF_TOKEN)", d.repo, d.opts.Endpoint)}
		case "RevisionNotFound":
			return 0, false, &permanentError{fmt.Errorf("hub: model %s has no revision %q", d.repo, d.opts.Revision)}
		}
		return 0, false, &permanentError{&notFoundError{fmt.Sprintf("hub: model %s has no file %s (revision %s; HTTP 404 for %s)", d.repo, s.name, d.opts.Revision, s.url)}}
	default:
		err := fmt.Errorf("HTTP %s from %s", resp.Status, resp.Request.URL.Redacted())
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return 0, false, err
		}
		return 0, false, &permanentError{fmt.Errorf("hub: download %s of %s: %w", s.name, d.repo, err)}
	}

	// The file must still be the one the partial file holds.
	if s.known && ((got.ETag != "" && s.want.ETag != "" && got.ETag != s.want.ETag) ||
		(got.Size >= 0 && s.want.Size >= 0 && got.Size != s.want.Size)) {
		d.log.Warn("file changed on the server, starting over", "file", s.name, "old", s.want, "new", got)
		s.restart()
		if resp.StatusCode == http.StatusPartialContent {
			return 0, false, errors.New("file changed on the server; starting over")
		}
	}
	if !s.known {
		s.want, s.known = got, true
		if err := writeJSON(s.d.partialMetaPath(s.name), s.want); err != nil {
			return 0, false, &permanentError{err}
		}
	}

	flags := os.O_WRONLY | os.O_CREATE
	if resp.StatusCode == http.StatusOK {
		flags |= os.O_TRUNC
		s.offset = 0
	}
	f, err := os.OpenFile(s.part, flags, 0o644)
	if err != nil {
		return 0, false, &permanentError{fmt.Errorf("hub: %w", err)}
	}
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		f.Close()
		return 0, false, &permanentError{fmt.Errorf("hub: %w", err)}
	}
	s.prog.start(s.want.Size, s.offset)
	buf := make([]byte, 256<<10)
	var rerr error
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				f.Close()
				return written, false, &permanentError{fmt.Errorf("hub: write %s: %w", s.part, werr)}
			}
			s.offset += int64(n)
			written += int64(n)
			s.prog.set(s.offset)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = fmt.Errorf("connection lost after %d bytes: %w", s.offset, err)
			break
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return written, false, &permanentError{fmt.Errorf("hub: sync %s: %w", s.part, err)}
	}
	if err := f.Close(); err != nil {
		return written, false, &permanentError{fmt.Errorf("hub: %w", err)}
	}
	if rerr != nil {
		return written, false, rerr
	}
	if s.want.Size >= 0 && s.offset < s.want.Size {
		return written, false, fmt.Errorf("connection closed after %d of %d bytes", s.offset, s.want.Size)
	}
	s.prog.done()
	return written, true, nil
}

// restart discards the partial file.
func (s *transfer) restart() {
	os.Remove(s.part)
	os.Remove(s.d.partialMetaPath(s.name))
	s.offset = 0
	s.known = false
	s.want = remote{Size: -1}
}

// parseContentRange parses "bytes START-END/TOTAL" (TOTAL may be "*", then
// -1 is returned).
func parseContentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	first, last, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || t <= end {
			return 0, 0, false
		}
		total = t
	}
	return start, total, true
}

// unquoteETag strips a weak prefix and quotes: W/"abc" -> abc.
func unquoteETag(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	return strings.Trim(v, `"`)
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// writeJSON writes v to path atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: write %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable (best effort: not every system
// can sync a directory).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}
