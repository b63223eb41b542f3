package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
)

// localStore is the embedded store of a library directory: the SQLite
// catalog, the source of truth, and a vector index derived from it (HNSW
// for a writer, an exact in-memory index for a read-only process). See the
// package doc for how the two are kept consistent.
type localStore struct {
	dir      string
	cat      *catalog.Catalog
	idx      vectorIndex // nil until openIndex
	readOnly bool
	log      *slog.Logger
	dim      int // set before openIndex
	m, efc   int // HNSW parameters (0: defaults)
	syncMu   sync.Mutex
	synced   int64    // the change number index.seq holds; guarded by syncMu
	lock     *os.File // the directory's write lock; nil when read-only
}

// openLocal opens the catalog of the library directory dir, creating it if
// needed, for the caller to open the index once it knows the dimension. A
// writer takes the directory's lock, recording purpose, and completes an
// interrupted reindex swap; the store releases the lock on Close. A
// read-only open takes no lock.
func openLocal(dir, purpose string, readOnly bool, log *slog.Logger) (*localStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("library: create %s: %w", dir, err)
	}
	s := &localStore{dir: dir, readOnly: readOnly, log: log}
	if readOnly {
		// A reindex being swapped in: its files are moving; the writer
		// that finishes the swap is at most seconds away.
		if _, err := os.Stat(filepath.Join(dir, reindexMarker)); err == nil {
			return nil, fmt.Errorf("%w: a reindex is being completed in %s; retry in a moment", ErrLocked, dir)
		}
	} else {
		lock, err := lockDir(dir, purpose)
		if err != nil {
			return nil, err
		}
		s.lock = lock
		if err := finishSwap(dir); err != nil {
			s.unlock()
			return nil, err
		}
	}
	cat, err := catalog.Open(dir)
	if err != nil {
		s.unlock()
		return nil, err
	}
	s.cat = cat
	return s, nil
}

func (s *localStore) unlock() {
	if s.lock != nil {
		unlockFile(s.lock)
		s.lock.Close()
		s.lock = nil
	}
}

// EmbeddedOptions configures OpenEmbedded.
type EmbeddedOptions struct {
	// Dim is the vectors' dimension (required).
	Dim int
	// M and EfConstruction tune the HNSW index (0: defaults).
	M, EfConstruction int
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// OpenEmbedded opens (creating if needed) the embedded store of a library
// directory, the catalog and HNSW index that Open uses, without loading a
// model: for tools that bring their own vectors, such as `sight bench
// store`. It takes the directory's write lock until Close.
func OpenEmbedded(ctx context.Context, dir string, opts EmbeddedOptions) (store.Store, error) {
	if opts.Dim <= 0 {
		return nil, fmt.Errorf("library: embedded store in %s: dimension %d", dir, opts.Dim)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := openLocal(dir, LockWrite, false, log)
	if err != nil {
		return nil, err
	}
	if v, ok, err := s.cat.Meta(metaDim); err == nil && ok && v != strconv.Itoa(opts.Dim) {
		s.Close()
		return nil, fmt.Errorf("library: the store in %s holds vectors of dimension %s, not %d", dir, v, opts.Dim)
	}
	s.dim, s.m, s.efc = opts.Dim, opts.M, opts.EfConstruction
	if err := s.openIndex(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.cat.SetMeta(metaDim, strconv.Itoa(opts.Dim)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

var (
	_ store.Store  = (*localStore)(nil)
	_ store.Syncer = (*localStore)(nil)
)

func (s *localStore) writable() error {
	if s.readOnly {
		return fmt.Errorf("library %s is open read-only (another sight process is writing it): %w", s.dir, store.ErrReadOnly)
	}
	return nil
}

// Apply commits b to the catalog, then applies it to the index. It runs
// to the end even if ctx is cancelled once the catalog holds the batch.
// The index is made durable by sync, once per run of writes.
func (s *localStore) Apply(ctx context.Context, b catalog.Batch) (catalog.Result, error) {
	if err := s.writable(); err != nil {
		return catalog.Result{}, err
	}
	res, err := s.cat.Apply(ctx, b)
	if err != nil {
		return res, err
	}
	var ids []uint64
	var vs [][]float32
	for i, id := range res.IDs {
		if res.New[i] {
			ids, vs = append(ids, uint64(id)), append(vs, b.Images[i].Vector)
		}
	}
	if err := s.idx.AddBatch(context.WithoutCancel(ctx), ids, vs); err != nil {
		return res, fmt.Errorf("index: %w", err)
	}
	if err := s.deleteVectors(res.Orphaned); err != nil {
		return res, err
	}
	return res, nil
}

// Sync makes the index durable and records the catalog change it matches
// (see syncIndex).
func (s *localStore) Sync(ctx context.Context) error { return s.syncIndex(ctx) }

func (s *localStore) deleteVectors(ids []int64) error {
	for _, id := range ids {
		if err := s.idx.Delete(uint64(id)); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return nil
}

func (s *localStore) Image(ctx context.Context, id int64) (catalog.Image, error) {
	return s.cat.Image(ctx, id)
}

func (s *localStore) Vector(ctx context.Context, id int64) ([]float32, error) {
	return s.cat.Vector(ctx, id)
}

func (s *localStore) Thumbnail(ctx context.Context, id int64) ([]byte, error) {
	return s.cat.Thumbnail(ctx, id)
}

func (s *localStore) LookupPath(ctx context.Context, path string) (catalog.PathEntry, error) {
	return s.cat.LookupPath(ctx, path)
}

func (s *localStore) LookupHash(ctx context.Context, hash []byte) (int64, error) {
	return s.cat.LookupHash(ctx, hash)
}

func (s *localStore) LookupSkipped(ctx context.Context, path string) (catalog.Skip, bool, error) {
	return s.cat.LookupSkipped(ctx, path)
}

func (s *localStore) EachPath(ctx context.Context, fn func(catalog.PathEntry) error) error {
	return s.cat.EachPath(ctx, fn)
}

func (s *localStore) EachVector(ctx context.Context, fn func(id int64, v []float32) error) error {
	return s.cat.EachVector(ctx, fn)
}

// Search filters with the catalog, then searches the index among the
// images that pass.
func (s *localStore) Search(ctx context.Context, q []float32, k int, f catalog.Filter, exclude []int64) ([]store.Found, error) {
	if k <= 0 {
		return nil, nil
	}
	var allow func(uint64) bool
	if !f.IsZero() {
		set, err := s.cat.Match(ctx, f)
		if err != nil {
			return nil, err
		}
		if len(set) == 0 {
			return nil, nil
		}
		allow = func(id uint64) bool { return set[int64(id)] }
	}
	if len(exclude) > 0 {
		ex := make(map[int64]bool, len(exclude))
		for _, id := range exclude {
			ex[id] = true
		}
		inner := allow
		allow = func(id uint64) bool { return !ex[int64(id)] && (inner == nil || inner(id)) }
	}
	fs, err := s.idx.Search(q, k, allow)
	if err != nil {
		return nil, err
	}
	out := make([]store.Found, len(fs))
	for i, f := range fs {
		out[i] = store.Found{ID: int64(f.id), Score: f.score}
	}
	return out, nil
}

func (s *localStore) RemoveImage(ctx context.Context, id int64) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.cat.RemoveImage(ctx, id); err != nil {
		return err
	}
	if err := s.deleteVectors([]int64{id}); err != nil {
		return err
	}
	return s.syncIndex(ctx)
}

func (s *localStore) RemovePaths(ctx context.Context, paths []string) ([]int64, error) {
	if err := s.writable(); err != nil {
		return nil, err
	}
	gone, err := s.cat.RemovePaths(ctx, paths)
	if err != nil {
		return nil, err
	}
	if err := s.deleteVectors(gone); err != nil {
		return gone, err
	}
	return gone, s.syncIndex(ctx)
}

func (s *localStore) Meta(_ context.Context, key string) (string, bool, error) {
	return s.cat.Meta(key)
}

func (s *localStore) SetMeta(_ context.Context, key, value string) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.cat.SetMeta(key, value)
}

func (s *localStore) Stats(ctx context.Context) (store.Stats, error) {
	return s.cat.Stats(ctx)
}

// Close closes the index (which syncs it), then the catalog.
func (s *localStore) Close() error {
	var errs []error
	if s.idx != nil {
		errs = append(errs, s.idx.Close())
	}
	if s.cat != nil {
		errs = append(errs, s.cat.Close())
	}
	s.unlock()
	return errors.Join(errs...)
}
