// Package hub fetches model checkpoints from the Hugging Face Hub (or a
// mirror) into a local cache, or checks a local model directory.
//
// Files are downloaded from {endpoint}/{repo}/resolve/{revision}/{file} into
// {cache}/models/{owner}--{name}/{revision}/. Each download goes to
// file.incomplete first, resumes with HTTP Range requests after a dropped
// connection (also across runs), is checked against the size and, for LFS
// files, the sha256 the Hub announces, and is then renamed into place. A
// JSON record in the .sight/ subdirectory marks a file as complete, so a
// second Resolve of the same model needs no network at all. A cached
// revision is never re-checked against the Hub: delete the directory to
// fetch a moved branch again.
package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEndpoint is the Hub used when neither Options.Endpoint nor
// $HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// File is a file of a model repository.
type File struct {
	Name     string // path inside the repository, with forward slashes
	Optional bool   // a 404 for it is not an error
}

// CLIPFiles returns the files a Hugging Face CLIP checkpoint needs.
// tokenizer.json is optional.
func CLIPFiles() []File {
	return []File{
		{Name: "config.json"},
		{Name: "model.safetensors"},
		{Name: "vocab.json"},
		{Name: "merges.txt"},
		{Name: "tokenizer_config.json"},
		{Name: "special_tokens_map.json"},
		{Name: "preprocessor_config.json"},
		{Name: "tokenizer.json", Optional: true},
	}
}

// Options configure Resolve. The zero value uses the defaults below.
type Options struct {
	// Endpoint is the Hub URL; default $HF_ENDPOINT, else DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer ..." to the endpoint's host
	// only (never to the CDN it redirects to); default $HF_TOKEN.
	Token string
	// CacheDir is the cache root; default $SIGHT_CACHE, else
	// os.UserCacheDir()/sight.
	CacheDir string
	// Revision is a branch, tag or commit; default "main".
	Revision string
	// Client makes the requests; default a client without timeouts (the
	// context bounds the work). Its CheckRedirect is not used.
	Client *http.Client
	// Progress receives a progress bar when it is a terminal, plain log
	// lines otherwise; nil means silent.
	Progress io.Writer
	// Logger receives diagnostics (cache hits, retries); nil discards them.
	Logger *slog.Logger
	// Files is the list of files to fetch or check; nil means CLIPFiles().
	Files []File

	backoff time.Duration // delay before the first retry; 0 means 500 ms
}

const (
	maxFailures = 5 // consecutive failed attempts without progress
	maxAttempts = 50
)

// Resolve returns a directory holding the model's files. If model is an
// existing directory it is checked (every required file must exist) and
// returned as is. Otherwise model is a Hub repository id ("owner/name") and
// its files are downloaded into the cache unless they are already there.
func Resolve(ctx context.Context, model string, opts Options) (string, error) {
	files := opts.Files
	if files == nil {
		files = CLIPFiles()
	}
	for _, f := range files {
		if err := checkFileName(f.Name); err != nil {
			return "", fmt.Errorf("hub: %w", err)
		}
	}
	if st, err := os.Stat(model); err == nil && st.IsDir() {
		return model, checkLocal(model, files)
	}
	segs, err := parseRepoID(model)
	if err != nil {
		if looksLikePath(model) {
			return "", fmt.Errorf("hub: model directory %s does not exist", model)
		}
		return "", fmt.Errorf("hub: %w", err)
	}
	o, err := withDefaults(opts)
	if err != nil {
		return "", err
	}
	d := &downloader{
		opts:  o,
		repo:  strings.Join(segs, "/"),
		dir:   filepath.Join(o.CacheDir, "models", strings.Join(segs, "--"), strings.ReplaceAll(o.Revision, "/", "--")),
		files: files,
		log:   o.Logger,
	}
	if err := os.MkdirAll(filepath.Join(d.dir, metaDir), 0o755); err != nil {
		return "", fmt.Errorf("hub: create cache directory: %w", err)
	}
	for _, f := range files {
		if err := d.fetch(ctx, f); err != nil {
			return "", err
		}
	}
	return d.dir, nil
}

// checkLocal reports the first required file missing from dir.
func checkLocal(dir string, files []File) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		st, err := os.Stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
		case err == nil:
			return fmt.Errorf("hub: model directory %s: %s is not a regular file", dir, f.Name)
		case f.Optional && errors.Is(err, os.ErrNotExist):
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("hub: model directory %s has no %s (needed: %s)", dir, f.Name, fileList(files))
		default:
			return fmt.Errorf("hub: model directory %s: %w", dir, err)
		}
	}
	return nil
}

// withDefaults fills in the defaults from the environment.
func withDefaults(o Options) (Options, error) {
	if o.Endpoint == "" {
		o.Endpoint = os.Getenv("HF_ENDPOINT")
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if !strings.HasPrefix(o.Endpoint, "http://") && !strings.HasPrefix(o.Endpoint, "https://") {
		return o, fmt.Errorf("hub: endpoint %q is not an http(s) URL", o.Endpoint)
	}
	if o.Token == "" {
		o.Token = os.Getenv("HF_TOKEN")
	}
	if o.CacheDir == "" {
		o.CacheDir = os.Getenv("SIGHT_CACHE")
	}
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("hub: no cache directory (set SIGHT_CACHE): %w", err)
		}
		o.CacheDir = filepath.Join(base, "sight")
	}
	if o.Revision == "" {
		o.Revision = "main"
	}
	if err := checkRevision(o.Revision); err != nil {
		return o, fmt.Errorf("hub: %w", err)
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.backoff <= 0 {
		o.backoff = 500 * time.Millisecond
	}
	return o, nil
}

// parseRepoID validates a repository id and returns its segments.
func parseRepoID(id string) ([]string, error) {
	segs := strings.Split(id, "/")
	if id == "" || len(segs) > 2 {
		return nil, fmt.Errorf("invalid model %q: want a directory or a Hub repo id like owner/name", id)
	}
	for _, s := range segs {
		if !validSegment(s) || strings.Contains(s, "--") || strings.Contains(s, "..") {
			return nil, fmt.Errorf("invalid model %q: want a directory or a Hub repo id like owner/name (letters, digits, '.', '_', '-')", id)
		}
	}
	return segs, nil
}

func checkRevision(rev string) error {
	for _, s := range strings.Split(rev, "/") {
		if !validSegment(s) {
			return fmt.Errorf("invalid revision %q", rev)
		}
	}
	return nil
}

func checkFileName(name string) error {
	for _, s := range strings.Split(name, "/") {
		if !validSegment(s) {
			return fmt.Errorf("invalid file name %q", name)
		}
	}
	return nil
}

// validSegment reports whether s is a non-empty path segment of
// [A-Za-z0-9._-] other than "." and "..".
func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func looksLikePath(s string) bool {
	return filepath.IsAbs(s) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") ||
		strings.ContainsRune(s, os.PathSeparator) && os.PathSeparator != '/' ||
		strings.Count(s, "/") > 1
}

// fileList formats files for messages: "a, b, c (optional)".
func fileList(files []File) string {
	var b strings.Builder
	for i, f := range files {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		if f.Optional {
			b.WriteString(" (optional)")
		}
	}
	return b.String()
}
