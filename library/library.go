// Package library is Sight's image library: a data directory that holds a
// catalog of images (metadata, thumbnails and CLIP vectors, see package
// catalog) and a vector index over those vectors, plus the operations users
// run on it: indexing folders, searching by text or by example, finding
// near-duplicates and zero-shot classification.
//
// # Layout of a library directory
//
//	catalog.db, catalog.db-wal   the catalog (SQLite): the source of truth
//	index/                       the HNSW index (package index/hnsw), derived
//	index.seq                    the catalog change number the index matches
//	lock                         held (flock) by the process that writes
//	lock.wait                    held (shared flock) by writers waiting for lock
//	uploads/                     images added through the HTTP API
//
// # Consistency
//
// Every change is committed to the catalog first, in one SQLite transaction
// per batch (images, paths and vectors together), then applied to the index.
// A process killed between the two leaves an index that lags the catalog; the
// next writer to open the library notices (index.seq differs from the
// catalog's change number) and reconciles the index with the catalog: missing
// vectors are added and vectors of deleted images removed. Hence every
// catalog entry has exactly one vector, and no vector outlives its entry.
//
// One process at a time writes (it holds an exclusive lock on the lock
// file). Other processes can still search: they open the library read-only
// and search the catalog's vectors exactly (package index/flat).
package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/store"
)

// Meta keys stored in the catalog.
const (
	metaModel       = "model"             // the model's name (Hub id or directory)
	metaFingerprint = "model_fingerprint" // see clip.Encoder.Fingerprint
	metaDim         = "dim"
)

// ErrModelMismatch is returned when a library is opened with another model
// than the one its vectors came from.
var ErrModelMismatch = errors.New("library: model mismatch")

// ErrLocked is returned when another process is writing the library.
var ErrLocked = errors.New("library: another sight process is writing this library")

// What a process holds the write lock for (LockedError.Purpose).
const (
	LockSearch  = "search"  // OpenForSearch: held for the length of a search
	LockWrite   = "write"   // Open: indexing, serving, removing
	lockReindex = "reindex" // Reindex
)

// LockedError is the error of opening a library for writing while another
// process holds its lock. It matches ErrLocked (errors.Is).
type LockedError struct {
	Dir string
	// PID is the holder's process id and Purpose what it opened the
	// library for (LockSearch, LockWrite, "reindex"); 0 and "" when
	// unknown.
	PID     int
	Purpose string
}

func (e *LockedError) Error() string {
	holder := ""
	switch {
	case e.PID > 0 && e.Purpose != "":
		holder = fmt.Sprintf(" (pid %d, %s)", e.PID, e.Purpose)
	case e.PID > 0:
		holder = fmt.Sprintf(" (pid %d)", e.PID)
	}
	return fmt.Sprintf("%v%s: %s", ErrLocked, holder, e.Dir)
}

// Is reports whether target is ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Options configures [Open].
type Options struct {
	// Model is the checkpoint to use. For a new library it defaults to
	// clip.DefaultModel; for an existing one it defaults to the library's own
	// model, and a different model is refused with ErrModelMismatch (use
	// Reindex to change models).
	Model string
	// EncoderOptions configures model loading (hub access, pixel limits)
	// and, through DecodeMargin, how far large JPEGs are reduced.
	EncoderOptions clip.EncoderOptions
	// ExactDecode decodes every image at full size, giving the reference
	// pipeline's pixels, instead of decoding large JPEGs at reduced size
	// (clip.Encoder.FastDecode, the default). It is several times slower
	// on camera photos.
	ExactDecode bool
	// ReadOnly opens without taking the write lock: searches run exactly
	// over the catalog's vectors; writes fail.
	ReadOnly bool
	// Logger receives progress and diagnostics; nil discards them.
	Logger *slog.Logger
	// M and EfConstruction tune the HNSW index (0: defaults).
	M, EfConstruction int
	// UploadsDir is where AddImage keeps uploaded images: by default the
	// library directory's "uploads" folder. A library over a remote store
	// (OpenStore) has no directory and needs it set to accept uploads,
	// to a folder that every sight process of the library sees.
	UploadsDir string
	// Encoder, when set, is used instead of loading Model (benchmarks,
	// tests, or sharing one loaded model between libraries).
	Encoder *clip.Encoder
	// lockPurpose is recorded in the lock file (LockWrite when empty).
	lockPurpose string
	// openEncoder replaces clip.OpenEncoder in tests of model handling.
	openEncoder func(ctx context.Context, model string, opts clip.EncoderOptions) (*clip.Encoder, error)
}

// Library is an open image library. Its methods are safe for concurrent use.
type Library struct {
	dir      string // "" for a library over a remote store
	opts     Options
	st       store.Store
	local    *localStore // st when it is the embedded store, else nil
	enc      *clip.Encoder
	model    string
	readOnly bool
	log      *slog.Logger
	active   activity
}

// activity tracks index runs in progress, for status displays.
type activity struct {
	mu    sync.Mutex
	runs  int
	total int
	done  int
}

// Activity reports the index runs in progress in this process: how many,
// and their files found and handled so far.
func (l *Library) Activity() (runs, done, total int) {
	l.active.mu.Lock()
	defer l.active.mu.Unlock()
	return l.active.runs, l.active.done, l.active.total
}

// DefaultDir returns the default library directory: $SIGHT_DB, else
// "sight" in the user's data directory ($XDG_DATA_HOME or ~/.local/share on
// Unix).
func DefaultDir() (string, error) {
	if d := os.Getenv("SIGHT_DB"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "sight"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("library: no home directory for the default library; use --db DIR: %w", err)
	}
	return filepath.Join(home, ".local", "share", "sight"), nil
}

// setDefaults settles how the model is opened (Options.Encoder, else
// clip.OpenEncoder) and returns the logger to use.
func (o *Options) setDefaults() *slog.Logger {
	switch {
	case o.Encoder != nil:
		enc := o.Encoder
		o.Model = enc.Name
		o.openEncoder = func(context.Context, string, clip.EncoderOptions) (*clip.Encoder, error) { return enc, nil }
	case o.openEncoder == nil:
		o.openEncoder = clip.OpenEncoder
	}
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Open opens (creating if needed) the library in dir and loads its model.
func Open(ctx context.Context, dir string, opts Options) (*Library, error) {
	log := opts.setDefaults()
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	purpose := opts.lockPurpose
	if purpose == "" {
		purpose = LockWrite
	}
	ls, err := openLocal(dir, purpose, opts.ReadOnly, log)
	if err != nil {
		return nil, err
	}
	ls.m, ls.efc = opts.M, opts.EfConstruction
	l := &Library{dir: dir, opts: opts, st: ls, local: ls, log: log, readOnly: opts.ReadOnly}
	if err := l.loadModel(ctx); err != nil {
		l.Close()
		return nil, err
	}
	l.local.dim = l.enc.Dim()
	if err := l.local.openIndex(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// OpenStore opens a library over a store other than a library directory's
// own, such as a Weaviate cluster (package store/weaviate), and loads its
// model. Several processes may write one store at once when the store
// allows it. Closing the library closes st.
//
// Such a library has no directory: AddImage needs Options.UploadsDir, a
// folder every process sees, and whether files found not to be images are
// remembered between runs depends on the store.
func OpenStore(ctx context.Context, st store.Store, opts Options) (*Library, error) {
	log := opts.setDefaults()
	l := &Library{opts: opts, st: st, log: log, readOnly: opts.ReadOnly}
	if err := l.loadModel(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return l, nil
}

// OpenForSearch opens dir for searching: as a writer when no other process
// writes it (using the HNSW index), read-only otherwise. A search does not
// take the lock while a writer waits for it (WaitForLock), so that a
// steady stream of searches cannot keep the writer out.
func OpenForSearch(ctx context.Context, dir string, opts Options) (*Library, error) {
	opts.lockPurpose = LockSearch
	l, err := Open(ctx, dir, opts)
	if errors.Is(err, ErrLocked) {
		opts.ReadOnly = true
		return Open(ctx, dir, opts)
	}
	return l, err
}

// WaitForLock announces that the caller waits to open dir for writing,
// held by a search in another process: until release, OpenForSearch in
// every process opens the library read-only instead of taking its lock, so
// the lock is free once the searches that hold it finish. Call it after
// Open failed with a *LockedError, before trying again. It reports false
// (and release does nothing) when the announcement could not be made this
// time, because another writer waits already or a search was just
// checking: call it again on the next try.
func WaitForLock(dir string) (release func(), ok bool, err error) { return announceWriter(dir) }

func (l *Library) loadModel(ctx context.Context) error {
	stored, ok, err := l.st.Meta(ctx, metaModel)
	if err != nil {
		return err
	}
	storedFP, _, err := l.st.Meta(ctx, metaFingerprint)
	if err != nil {
		return err
	}
	model := l.opts.Model
	if model != "" && ok {
		name := model
		if st, err := os.Stat(model); err == nil && st.IsDir() {
			if abs, err := filepath.Abs(model); err == nil {
				name = abs
			}
		}
		if n, err := l.st.Stats(ctx); err == nil && n.Images > 0 && name != stored {
			return fmt.Errorf("%w: the library in %s holds vectors of %s, not of %s; run `sight reindex --model %s` to re-embed it with the new model",
				ErrModelMismatch, l.dir, stored, name, model)
		}
	}
	switch {
	case model == "" && ok:
		model = stored
	case model == "":
		model = clip.DefaultModel
	}
	// Indexing and search-by-example share the reduced-size decode: faster
	// on large JPEGs, and an image searched by itself still matches itself.
	eo := l.opts.EncoderOptions
	eo.FastDecode = !l.opts.ExactDecode
	enc, err := l.opts.openEncoder(ctx, model, eo)
	if err != nil {
		return err
	}
	n, err := l.st.Stats(ctx)
	if err != nil {
		return err
	}
	if ok && n.Images > 0 && storedFP != enc.Fingerprint {
		return fmt.Errorf("%w: the library in %s holds vectors of %s, not of %s; run `sight reindex --model %s` to re-embed it with the new model",
			ErrModelMismatch, l.dir, stored, enc.Name, model)
	}
	if !ok || storedFP != enc.Fingerprint {
		if l.readOnly {
			// A read-only open of an empty library: nothing to record.
		} else {
			for k, v := range map[string]string{metaModel: enc.Name, metaFingerprint: enc.Fingerprint, metaDim: strconv.Itoa(enc.Dim())} {
				if err := l.st.SetMeta(ctx, k, v); err != nil {
					return err
				}
			}
		}
	}
	l.enc = enc
	l.model = enc.Name
	return nil
}

// Dir returns the library's directory ("" for a library over a remote
// store).
func (l *Library) Dir() string { return l.dir }

// Model returns the name of the library's model.
func (l *Library) Model() string { return l.model }

// Encoder returns the library's CLIP encoder.
func (l *Library) Encoder() *clip.Encoder { return l.enc }

// Store returns the store that holds the library's images.
func (l *Library) Store() store.Store { return l.st }

// ReadOnly reports whether the library was opened without the write lock.
func (l *Library) ReadOnly() bool { return l.readOnly }

// Close syncs and closes the index and the catalog and releases the lock.
func (l *Library) Close() error {
	if l.st == nil {
		return nil
	}
	return l.st.Close()
}

// sync waits until the writes so far are durable and searchable, for
// stores that need it (store.Syncer): the embedded store's index is made
// durable once per run, a Weaviate cluster indexes vectors asynchronously.
func (l *Library) sync(ctx context.Context) error {
	if sy, ok := l.st.(store.Syncer); ok && !l.readOnly {
		return sy.Sync(ctx)
	}
	return nil
}

func (l *Library) checkWritable() error {
	if l.readOnly {
		if l.dir == "" {
			return fmt.Errorf("library is open read-only: %w", store.ErrReadOnly)
		}
		return fmt.Errorf("library %s is open read-only (another sight process is writing it): %w", l.dir, store.ErrReadOnly)
	}
	return nil
}

// Stats describes a library.
type Stats struct {
	Images  int64  `json:"images"`
	Vectors int64  `json:"vectors"`
	Paths   int64  `json:"paths"`
	Skipped int64  `json:"skipped"`
	Bytes   int64  `json:"bytes"`
	Model   string `json:"model"`
	Dim     int    `json:"dim"`
	Indexed int    `json:"indexed"` // vectors in the search index
	Dir     string `json:"dir"`
	// Store describes a remote store (its address and collection); empty
	// for a library directory.
	Store string `json:"store,omitempty"`
}

// Stats returns the library's counts.
func (l *Library) Stats(ctx context.Context) (Stats, error) {
	s, err := l.st.Stats(ctx)
	if err != nil {
		return Stats{}, err
	}
	indexed := int(s.Vectors)
	if l.local != nil {
		indexed = l.local.idx.Len()
	}
	out := Stats{Images: s.Images, Vectors: s.Vectors, Paths: s.Paths, Skipped: s.Skipped, Bytes: s.Bytes,
		Model: l.model, Dim: l.enc.Dim(), Indexed: indexed, Dir: l.dir}
	if name, ok := l.st.(fmt.Stringer); ok && l.local == nil {
		out.Store = name.String()
	}
	return out, nil
}

// Remove removes an image from the library, given its id or one of its
// paths. For a path, only that path is removed; the image goes when it has
// no path left.
func (l *Library) Remove(ctx context.Context, ref string) ([]int64, error) {
	if err := l.checkWritable(); err != nil {
		return nil, err
	}
	var gone []int64
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && !strings.ContainsRune(ref, filepath.Separator) {
		if _, err := os.Stat(ref); err != nil { // not a file named like a number
			if err := l.st.RemoveImage(ctx, id); err != nil {
				return nil, err
			}
			gone = []int64{id}
		}
	}
	if gone == nil {
		abs, err := filepath.Abs(ref)
		if err != nil {
			return nil, err
		}
		if _, err := l.st.LookupPath(ctx, abs); err != nil {
			return nil, err
		}
		if gone, err = l.st.RemovePaths(ctx, []string{abs}); err != nil {
			return nil, err
		}
	}
	return gone, nil
}
