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

	"github.com/sightsearch/sight/index/flat"
	"github.com/sightsearch/sight/index/hnsw"
)

// found is one index hit.
type found struct {
	id    uint64
	score float32
}

// vectorIndex is what the library needs of a vector index.
type vectorIndex interface {
	Add(id uint64, v []float32) error
	// AddBatch adds vectors with one durable write; ids already present
	// are left alone.
	AddBatch(ctx context.Context, ids []uint64, vs [][]float32) error
	Delete(id uint64) error
	Contains(id uint64) bool
	Len() int
	Search(q []float32, k int, allow func(uint64) bool) ([]found, error)
	Sync() error
	Close() error
}

const (
	indexDirName = "index"
	indexSeqName = "index.seq"
)

// openIndex opens the search index. A writer opens the persistent HNSW
// index and brings it up to date with the catalog; a read-only process
// loads the catalog's vectors into an exact in-memory index.
func (s *localStore) openIndex(ctx context.Context) error {
	dim := s.dim
	if s.readOnly {
		fx := flat.New(dim)
		err := s.cat.EachVector(ctx, func(id int64, v []float32) error {
			return fx.Add(uint64(id), append([]float32(nil), v...))
		})
		if err != nil {
			return fmt.Errorf("library: load vectors: %w", err)
		}
		s.idx = &flatIndex{fx}
		return nil
	}
	dir := filepath.Join(s.dir, indexDirName)
	opts := hnsw.Options{Dim: dim, M: s.m, EfConstruction: s.efc, Logger: quiet(s.log)}
	g, err := hnsw.Open(dir, opts)
	if err != nil {
		if !errors.Is(err, hnsw.ErrCorrupt) && !errors.Is(err, hnsw.ErrOptions) {
			return err
		}
		// The index is derived from the catalog: rebuild it.
		s.log.Warn("search index unusable; rebuilding it from the catalog", "dir", dir, "err", err)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("library: remove damaged index %s: %w", dir, err)
		}
		if err := os.Remove(filepath.Join(s.dir, indexSeqName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if g, err = hnsw.Open(dir, opts); err != nil {
			return err
		}
	}
	s.idx = &hnswIndex{g: g}
	return s.reconcile(ctx)
}

// reconcile applies the catalog changes the index has not seen: it removes
// vectors of deleted images and adds vectors of new ones.
func (s *localStore) reconcile(ctx context.Context) error {
	have, err := s.readIndexSeq()
	if err != nil {
		return err
	}
	want, err := s.cat.Seq(ctx)
	if err != nil {
		return err
	}
	s.syncMu.Lock()
	s.synced = have
	s.syncMu.Unlock()
	if have == want {
		return nil
	}
	if have > want {
		// The catalog is older than the index (restored from a backup?):
		// start the index over.
		s.log.Warn("search index is newer than the catalog; rebuilding it", "index_seq", have, "catalog_seq", want)
		if err := s.idx.Close(); err != nil {
			return err
		}
		dir := filepath.Join(s.dir, indexDirName)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		g, err := hnsw.Open(dir, hnsw.Options{Dim: s.dim, M: s.m, EfConstruction: s.efc, Logger: quiet(s.log)})
		if err != nil {
			return err
		}
		s.idx = &hnswIndex{g: g}
		have = 0
		s.syncMu.Lock()
		s.synced = 0
		s.syncMu.Unlock()
	}
	deleted, err := s.cat.DeletedSince(ctx, have)
	if err != nil {
		return err
	}
	for _, id := range deleted {
		if s.idx.Contains(uint64(id)) {
			if err := s.idx.Delete(uint64(id)); err != nil {
				return err
			}
		}
	}
	added := 0
	var ids []uint64
	var vs [][]float32
	flush := func() error {
		err := s.idx.AddBatch(ctx, ids, vs)
		ids, vs = ids[:0], vs[:0]
		return err
	}
	err = s.cat.EachVectorSince(ctx, have, func(id int64, v []float32) error {
		if s.idx.Contains(uint64(id)) {
			return nil
		}
		added++
		ids, vs = append(ids, uint64(id)), append(vs, append([]float32(nil), v...))
		if len(ids) >= 4096 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("library: catch up index: %w", err)
	}
	if added > 0 || len(deleted) > 0 {
		s.log.Info("search index caught up with the catalog", "added", added, "deleted", len(deleted))
	}
	return s.syncIndex(ctx)
}

// syncIndex makes the index durable and records the catalog change number
// it now matches.
//
// Writers commit to the catalog first and apply to the index after, so
// while another goroutine is between the two, the catalog's change number
// is ahead of the index. Recording that number then would let a crash lose
// the change for good (the next open would not catch it up), so the number
// is recorded only once every change up to it is found applied; otherwise
// the last recorded number stays and the writer still applying records it
// with its own sync.
func (s *localStore) syncIndex(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	seq, err := s.cat.Seq(ctx)
	if err != nil {
		return err
	}
	added, deleted, err := s.cat.ChangesBetween(ctx, s.synced, seq)
	if err != nil {
		return err
	}
	applied := true
	for _, id := range added {
		applied = applied && s.idx.Contains(uint64(id))
	}
	for _, id := range deleted {
		applied = applied && !s.idx.Contains(uint64(id))
	}
	if err := s.idx.Sync(); err != nil {
		return err
	}
	if !applied {
		s.log.Debug("index sync: a change is still being applied; keeping the recorded change number", "recorded", s.synced, "catalog", seq)
		return nil
	}
	if err := writeFileAtomic(filepath.Join(s.dir, indexSeqName), []byte(strconv.FormatInt(seq, 10)+"\n")); err != nil {
		return err
	}
	s.synced = seq
	return nil
}

func (s *localStore) readIndexSeq() (int64, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, indexSeqName))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, nil // unreadable: catch up from the start
	}
	return n, nil
}

// writeFileAtomic writes data to path via a synced temporary file and a
// rename, then syncs the directory. The temporary file's name is unique, so
// concurrent writers of one path (two uploads of the same content) never
// write into each other's file: the last rename wins, and readers always see
// a whole file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// hnswIndex adapts hnsw.Graph.
type hnswIndex struct {
	g  *hnsw.Graph
	mu sync.Mutex // serialises Add batches with Sync
}

func (h *hnswIndex) Add(id uint64, v []float32) error {
	err := h.g.Add(id, v)
	if errors.Is(err, hnsw.ErrDuplicate) {
		return nil
	}
	return err
}

func (h *hnswIndex) AddBatch(ctx context.Context, ids []uint64, vs [][]float32) error {
	var nids []uint64
	var nvs [][]float32
	for i, id := range ids {
		if !h.g.Contains(id) {
			nids, nvs = append(nids, id), append(nvs, vs[i])
		}
	}
	if len(nids) == 0 {
		return nil
	}
	return h.g.AddBatch(ctx, nids, nvs)
}

func (h *hnswIndex) Delete(id uint64) error {
	err := h.g.Delete(id)
	if errors.Is(err, hnsw.ErrNotFound) {
		return nil
	}
	return err
}

func (h *hnswIndex) Contains(id uint64) bool { return h.g.Contains(id) }
func (h *hnswIndex) Len() int                { return h.g.Len() }
func (h *hnswIndex) Sync() error             { return h.g.Sync() }
func (h *hnswIndex) Close() error            { return h.g.Close() }

func (h *hnswIndex) Search(q []float32, k int, allow func(uint64) bool) ([]found, error) {
	ef := max(64, 2*k)
	rs, err := h.g.Search(q, k, &hnsw.SearchOptions{Ef: ef, Filter: allow})
	if err != nil {
		return nil, err
	}
	out := make([]found, len(rs))
	for i, r := range rs {
		out[i] = found{r.ID, r.Score}
	}
	return out, nil
}

// flatIndex adapts flat.Index (exact search) for read-only libraries.
type flatIndex struct{ x *flat.Index }

func (f *flatIndex) Add(id uint64, v []float32) error { return f.x.Add(id, v) }
func (f *flatIndex) AddBatch(_ context.Context, ids []uint64, vs [][]float32) error {
	for i, id := range ids {
		if err := f.Add(id, vs[i]); err != nil && !errors.Is(err, flat.ErrDuplicate) {
			return err
		}
	}
	return nil
}
func (f *flatIndex) Delete(id uint64) error  { return f.x.Delete(id) }
func (f *flatIndex) Contains(id uint64) bool { _, ok := f.x.Vector(id); return ok }
func (f *flatIndex) Len() int                { return f.x.Len() }
func (f *flatIndex) Sync() error             { return nil }
func (f *flatIndex) Close() error            { return nil }

func (f *flatIndex) Search(q []float32, k int, allow func(uint64) bool) ([]found, error) {
	rs, err := f.x.Search(q, k, allow)
	if err != nil {
		return nil, err
	}
	out := make([]found, len(rs))
	for i, r := range rs {
		out[i] = found{r.ID, r.Score}
	}
	return out, nil
}

// quiet passes on only warnings and errors: the index's routine messages
// (snapshots written, log replayed) are noise for a library's user.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelWarn})
}

// minLevel is a slog.Handler that drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }
