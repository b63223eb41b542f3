package hnsw

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// abandon drops g like a crashed process would: no snapshot, files and lock
// released.
func (g *Graph) abandon() {
	g.closed.Store(true)
	g.st.bg.Wait()
	g.st.wal().close()
	g.st.unmap()
	g.st.unlockDir()
}

func TestPersistRoundTrip(t *testing.T) {
	const dim, n = 32, 2000
	base := clipLike(n, dim, 32, 11)
	queries := clipLike(30, dim, 32, 12)
	for _, quant := range []Quant{QuantNone, QuantInt8} {
		t.Run(quant.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := Options{Dim: dim, M: 8, EfConstruction: 40, Quantization: quant, TrainSize: 500}
			g, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir, o); err == nil {
				t.Fatal("second Open of a locked directory succeeded")
			}
			if err := g.AddBatch(context.Background(), ids(1500), base[:1500]); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100; i++ {
				if err := g.Delete(uint64(i * 7)); err != nil {
					t.Fatal(err)
				}
			}
			if err := g.Snapshot(); err != nil {
				t.Fatal(err)
			}
			// Log tail after the snapshot.
			for i := 1500; i < n; i++ {
				if err := g.Add(uint64(i), base[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := g.Delete(1501); err != nil {
				t.Fatal(err)
			}
			ref := buildRef(t, g, queries)
			// Crash-like reopen: snapshot + log replay.
			g.abandon()
			g2, err := Open(dir, Options{Quantization: quant})
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, ref, g2, queries)
			if st := g2.Stats(); quant == QuantInt8 && (st.MappedFloatBytesPerVector == 0 || !st.Trained) {
				t.Errorf("int8 reopen does not map floats: %+v", st)
			}
			checkDotRows(t, g2, queries[0])
			// Clean close (snapshot) and reopen.
			if err := g2.Close(); err != nil {
				t.Fatal(err)
			}
			g3, err := Open(dir, Options{Dim: dim, Quantization: quant})
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, ref, g3, queries)
			if st := g3.Stats(); st.WALBytes != walHeaderSize {
				t.Errorf("log not rotated by Close: %+v", st)
			}
			// Compact persists.
			if err := g3.Compact(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := g3.Add(7, base[7]); err != nil {
				t.Fatal(err)
			}
			want := g3.Len()
			g3.abandon()
			g4, err := Open(dir, Options{Quantization: quant})
			if err != nil {
				t.Fatal(err)
			}
			defer g4.Close()
			if g4.Len() != want || g4.Stats().Deleted != 0 || !g4.Contains(7) || g4.Contains(14) {
				t.Errorf("after compact+reopen: Len %d want %d, stats %+v", g4.Len(), want, g4.Stats())
			}
			// Options must match.
			for _, bad := range []Options{{Dim: dim + 1, Quantization: quant}, {M: 9, Quantization: quant}, {Quantization: 1 - quant}} {
				if _, err := openLocked(osFS{}, dir, bad); !errors.Is(err, ErrOptions) {
					t.Errorf("Open with %+v = %v, want ErrOptions", bad, err)
				}
			}
		})
	}
}

// refState is what a reopened graph must reproduce.
type refState struct {
	ids  map[uint64][]float32
	hits [][]Result
}

func buildRef(t *testing.T, g *Graph, queries [][]float32) refState {
	r := refState{ids: map[uint64][]float32{}}
	for _, q := range queries {
		res, err := g.Search(q, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.hits = append(r.hits, res)
	}
	g.idMu.Lock()
	var all []uint64
	for i := range g.count.Load() {
		if g.isLive(i) {
			all = append(all, g.ext[i])
		}
	}
	g.idMu.Unlock()
	for _, id := range all {
		v, _ := g.Vector(id)
		r.ids[id] = v
	}
	return r
}

func checkSame(t *testing.T, ref refState, g *Graph, queries [][]float32) {
	t.Helper()
	if g.Len() != len(ref.ids) {
		t.Fatalf("Len = %d, want %d", g.Len(), len(ref.ids))
	}
	for id, v := range ref.ids {
		got, ok := g.Vector(id)
		if !ok || !slices.Equal(got, v) {
			t.Fatalf("vector %d differs after reopen", id)
		}
	}
	// The replayed tail is re-inserted with fresh random levels, so the
	// graph may differ slightly; the answers must agree.
	var sum float64
	for i, q := range queries {
		res, err := g.Search(q, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []uint64
		for _, r := range ref.hits[i] {
			want = append(want, r.ID)
		}
		sum += recallOf(res, want)
	}
	if r := sum / float64(len(queries)); r < 0.97 {
		t.Fatalf("reopened graph agrees on %.3f of the top-10 results, want >= 0.97", r)
	}
}

func TestOpenEmptyAndAdoptDim(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrOptions) {
		t.Fatalf("Open without Dim on empty dir = %v", err)
	}
	g, err := Open(dir, Options{Dim: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add(1, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	g.abandon() // log only, no snapshot
	g, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !g.Contains(1) || g.Stats().Dim != 3 {
		t.Fatalf("log-only reopen lost data: %+v", g.Stats())
	}
}

// flipByte inverts one byte of path at off (negative: from the end).
func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0x5a
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruption(t *testing.T) {
	const dim = 16
	base := clipLike(300, dim, 8, 21)
	mk := func(t *testing.T) string {
		dir := t.TempDir()
		g, err := Open(dir, Options{Dim: dim, M: 4, EfConstruction: 20})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.AddBatch(context.Background(), ids(200), base[:200]); err != nil {
			t.Fatal(err)
		}
		if err := g.Snapshot(); err != nil {
			t.Fatal(err)
		}
		for i := 200; i < 300; i++ {
			if err := g.Add(uint64(i), base[i]); err != nil {
				t.Fatal(err)
			}
		}
		g.abandon()
		return dir
	}
	snapSize := func(dir string) int {
		fi, _ := os.Stat(filepath.Join(dir, snapName))
		return int(fi.Size())
	}
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, dir string)
	}{
		{"snapshot magic", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, snapName), 0) }},
		{"snapshot header", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, snapName), 30) }},
		{"snapshot ids", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, snapName), snapHeaderLen+5) }},
		{"snapshot links", func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, snapName), snapHeaderLen+200*8+200*2+40)
		}},
		{"snapshot vectors", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, snapName), -100) }},
		{"snapshot truncated", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, snapName), int64(snapSize(dir)-1000))
		}},
		{"snapshot tiny", func(t *testing.T, dir string) { os.Truncate(filepath.Join(dir, snapName), 100) }},
		{"wal header", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, walName), 13) }},
		{"wal middle record", func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, walName), walHeaderSize+(recHeaderSize+9+4*dim)*10+20)
		}},
		{"wal record length", func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, walName), walHeaderSize+(recHeaderSize+9+4*dim)*3)
		}},
		{"snapshot missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, snapName)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mk(t)
			tc.f(t, dir)
			g, err := Open(dir, Options{Dim: dim})
			if err == nil {
				g.Close()
				t.Fatal("corrupt index opened without error")
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "sight reindex") {
				t.Fatalf("error %q: want ErrCorrupt with rebuild hint", err)
			}
			t.Log(err)
		})
	}
	// A torn last record is not corruption: it was never acknowledged.
	t.Run("torn tail", func(t *testing.T) {
		dir := mk(t)
		p := filepath.Join(dir, walName)
		fi, _ := os.Stat(p)
		os.Truncate(p, fi.Size()-7)
		g, err := Open(dir, Options{Dim: dim})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if g.Len() != 299 || g.Contains(299) {
			t.Fatalf("Len = %d, want 299 without id 299", g.Len())
		}
		if err := g.Add(299, base[299]); err != nil {
			t.Fatal(err)
		}
	})
}

// A crash after the snapshot rename but before the log rotation leaves an
// older log next to a snapshot that already contains it: it is discarded.
func TestStaleLogAfterSnapshot(t *testing.T) {
	dir := t.TempDir()
	g, err := Open(dir, Options{Dim: crashDim})
	if err != nil {
		t.Fatal(err)
	}
	for id := range uint64(10) {
		if err := g.Add(id, crashVec(id)); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(filepath.Join(dir, walName))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil { // snapshot + rotation
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, walName), old, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err = Open(dir, Options{Dim: crashDim})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Len() != 10 || g.Stats().WALBytes != walHeaderSize {
		t.Fatalf("Len %d, log %d bytes: stale log not discarded", g.Len(), g.Stats().WALBytes)
	}
	if err := g.Add(10, crashVec(10)); err != nil {
		t.Fatal(err)
	}
}

// checkDotRows compares the gathered inner products of g with per-row
// ones, on node lists below, above and across the memory-mapped base.
func checkDotRows(t *testing.T, g *Graph, q []float32) {
	t.Helper()
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.count.Load()
	c := g.getCtx()
	defer g.putCtx(c)
	lists := [][]uint32{{0, 1, 2}, {n - 1, n - 2}, {n - 1, 0, g.nbase, 5, n / 2, 3}}
	if g.nbase > 0 {
		lists = append(lists, []uint32{g.nbase - 1, g.nbase, g.nbase - 1})
	}
	for _, ids := range lists {
		got := make([]float32, len(ids))
		g.dotRows(c, got, q, ids)
		for j, id := range ids {
			if want := dot(q, g.fvec(id)); got[j] != want {
				t.Fatalf("nbase %d, ids %v: row %d = %v, want %v", g.nbase, ids, id, got[j], want)
			}
		}
	}
}
