package hnsw

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func buildGraph(t testing.TB, o Options, base [][]float32) *Graph {
	t.Helper()
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := g.AddBatch(context.Background(), ids(len(base)), base); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d vectors (dim %d, M %d, efC %d, %s) in %v", len(base), o.Dim, o.M, o.EfConstruction, o.Quantization, time.Since(start))
	return g
}

// shared fixture: 10k CLIP-like vectors, 200 queries, exact top-10.
var fixture = sync.OnceValues(func() ([][]float32, [][]float32) {
	return clipLike(10000, 128, 256, 1), clipLike(200, 128, 256, 2)
})

// fixtureGraph is the float32 graph over fixture(), built once.
var fixtureGraph = sync.OnceValue(func() *Graph {
	base, _ := fixture()
	g, err := New(Options{Dim: 128, M: 16, EfConstruction: 100})
	if err != nil {
		panic(err)
	}
	if err := g.AddBatch(context.Background(), ids(len(base)), base); err != nil {
		panic(err)
	}
	return g
})

func TestRecall(t *testing.T) {
	base, queries := fixture()
	gt := groundTruth(base, queries, 10, nil)
	start := time.Now()
	g := fixtureGraph()
	t.Logf("built (or reused) %d vectors in %v", len(base), time.Since(start))
	if g.Len() != len(base) {
		t.Fatalf("Len = %d, want %d", g.Len(), len(base))
	}
	for _, tc := range []struct {
		ef  int
		min float64
	}{{10, 0.80}, {32, 0.93}, {64, 0.95}, {128, 0.98}} {
		start := time.Now()
		r := measureRecall(t, g, queries, gt, 10, &SearchOptions{Ef: tc.ef})
		t.Logf("ef=%d recall@10=%.4f (%v/query)", tc.ef, r, time.Since(start)/time.Duration(len(queries)))
		if r < tc.min {
			t.Errorf("recall@10 at ef=%d = %.4f, want >= %.2f", tc.ef, r, tc.min)
		}
	}
	// Each stored vector finds itself first.
	for _, id := range []uint64{0, 17, 4242, 9999} {
		v, ok := g.Vector(id)
		if !ok {
			t.Fatalf("Vector(%d) missing", id)
		}
		res, err := g.Search(v, 1, nil)
		if err != nil || len(res) != 1 || res[0].ID != id || math.Abs(float64(res[0].Score-1)) > 1e-4 {
			t.Errorf("self search %d = %v, %v", id, res, err)
		}
	}
	st := g.Stats()
	t.Logf("stats: %+v", st)
	if st.Len != len(base) || st.FloatBytesPerVector != 4*128 || st.GraphBytesPerVector < 4*33 {
		t.Errorf("unexpected stats %+v", st)
	}
}

func TestInt8Recall(t *testing.T) {
	base, queries := fixture()
	gt := groundTruth(base, queries, 10, nil)
	g := buildGraph(t, Options{Dim: 128, M: 16, EfConstruction: 100, Quantization: QuantInt8, TrainSize: 2000}, base)
	st := g.Stats()
	if !st.Trained || st.CodeBytesPerVector != 128 {
		t.Fatalf("quantiser not trained: %+v", st)
	}
	for _, tc := range []struct {
		ef  int
		min float64
	}{{32, 0.90}, {64, 0.95}, {128, 0.97}} {
		r := measureRecall(t, g, queries, gt, 10, &SearchOptions{Ef: tc.ef})
		t.Logf("int8 ef=%d recall@10=%.4f", tc.ef, r)
		if r < tc.min {
			t.Errorf("int8 recall@10 at ef=%d = %.4f, want >= %.2f", tc.ef, r, tc.min)
		}
	}
	// Scores are exact (re-ranked with float32).
	res, _ := g.Search(queries[0], 3, nil)
	for _, r := range res {
		v, _ := g.Vector(r.ID)
		q, _ := g.prepare(queries[0])
		if math.Abs(float64(dot(q, v)-r.Score)) > 1e-5 {
			t.Errorf("score %v for %d, exact %v", r.Score, r.ID, dot(q, v))
		}
	}
}

func TestConcurrentSearchDuringAdd(t *testing.T) {
	const dim, n = 32, 3000
	base := clipLike(n, dim, 64, 3)
	g, err := New(Options{Dim: dim, M: 8, EfConstruction: 40, EfSearch: 40})
	if err != nil {
		t.Fatal(err)
	}
	var added atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := w; ; i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				res, err := g.Search(base[i%n], 5, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if len(res) > 5 || !slices.IsSortedFunc(res, byScore) {
					t.Errorf("bad results %v", res)
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			for i := w; i < n; i += 2 {
				if i%500 < 100 && i%2 == 0 {
					if err := g.AddBatch(context.Background(), []uint64{uint64(i)}, [][]float32{base[i]}); err != nil {
						t.Error(err)
					}
				} else if err := g.Add(uint64(i), base[i]); err != nil {
					t.Error(err)
				}
				added.Add(1)
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if g.Len() != n {
		t.Fatalf("Len = %d, want %d", g.Len(), n)
	}
	miss := 0
	for i := 0; i < n; i += 7 {
		res, _ := g.Search(base[i], 1, nil)
		if len(res) == 0 || res[0].ID != uint64(i) {
			miss++
		}
	}
	if miss > n/7/100 {
		t.Errorf("%d of %d vectors do not find themselves", miss, n/7)
	}
}

func TestDeleteCompact(t *testing.T) {
	const dim, n = 64, 4000
	base := clipLike(n, dim, 64, 4)
	queries := clipLike(100, dim, 64, 5)
	g := buildGraph(t, Options{Dim: dim, M: 12, EfConstruction: 80, EfSearch: 80}, base)
	deleted := func(i int) bool { return i%3 == 0 }
	for i := range n {
		if deleted(i) {
			if err := g.Delete(uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Delete(0); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete(0) = %v, want ErrNotFound", err)
	}
	if g.Contains(0) || !g.Contains(1) {
		t.Error("Contains wrong after Delete")
	}
	if _, ok := g.Vector(3); ok {
		t.Error("Vector of deleted id returned")
	}
	gt := groundTruth(base, queries, 10, func(i int) bool { return !deleted(i) })
	check := func(stage string, min float64) {
		for _, q := range queries {
			res, _ := g.Search(q, 10, nil)
			for _, r := range res {
				if deleted(int(r.ID)) {
					t.Fatalf("%s: deleted id %d returned", stage, r.ID)
				}
			}
		}
		r := measureRecall(t, g, queries, gt, 10, nil)
		t.Logf("%s: recall@10=%.4f stats=%+v", stage, r, g.Stats())
		if r < min {
			t.Errorf("%s: recall@10 = %.4f, want >= %.2f", stage, r, min)
		}
	}
	check("tombstones", 0.93)
	if st := g.Stats(); st.Deleted != (n+2)/3 || st.Len != n-(n+2)/3 {
		t.Errorf("stats before compact: %+v", st)
	}
	if err := g.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := g.Stats(); st.Deleted != 0 || st.Len != n-(n+2)/3 || int(g.count.Load()) != st.Len {
		t.Errorf("stats after compact: %+v", st)
	}
	check("compacted", 0.93)
	// Deleted ids can be re-added.
	if err := g.Add(0, base[0]); err != nil {
		t.Fatal(err)
	}
	if res, _ := g.Search(base[0], 1, nil); len(res) != 1 || res[0].ID != 0 {
		t.Errorf("re-added id not found: %v", res)
	}
}

func TestFilteredSearch(t *testing.T) {
	base, queries := fixture()
	g := fixtureGraph()
	for _, tc := range []struct {
		name  string
		mod   int // admit id%mod == 0
		exact float64
		set   bool
		min   float64
	}{
		{"1% predicate (auto: exact)", 100, 0, false, 0.99},
		{"1% allow-list (auto: exact)", 100, 0, true, 0.99},
		{"10% predicate (auto)", 10, 0, false, 0.95},
		{"10% predicate traversal", 10, -1, false, 0.95},
		{"10% allow-list traversal", 10, -1, true, 0.95},
		{"10% forced exact", 10, 1.1, false, 0.99},
		{"1% forced traversal", 100, -1, false, 0.90},
		{"50% predicate (auto: traversal)", 2, 0, false, 0.95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mod := tc.mod
			allow := func(i int) bool { return i%mod == 0 }
			opt := &SearchOptions{Ef: 64, ExactBelow: tc.exact}
			if tc.set {
				var l []uint64
				for i := range base {
					if allow(i) {
						l = append(l, uint64(i))
					}
				}
				opt.Allow = NewIDSet(l)
			} else {
				opt.Filter = func(id uint64) bool { return allow(int(id)) }
			}
			gt := groundTruth(base, queries, 10, allow)
			start := time.Now()
			r := measureRecall(t, g, queries, gt, 10, opt)
			t.Logf("recall@10=%.4f (%v/query)", r, time.Since(start)/time.Duration(len(queries)))
			if r < tc.min {
				t.Errorf("recall@10 = %.4f, want >= %.2f", r, tc.min)
			}
			for _, q := range queries[:20] {
				res, _ := g.Search(q, 10, opt)
				for _, x := range res {
					if !allow(int(x.ID)) {
						t.Fatalf("filtered-out id %d returned", x.ID)
					}
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	g, err := New(Options{Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add(1, []float32{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		err  error
		f    func() error
	}{
		{"short", ErrDim, func() error { return g.Add(2, []float32{1, 2, 3}) }},
		{"long", ErrDim, func() error { return g.Add(2, []float32{1, 2, 3, 4, 5}) }},
		{"nan", ErrNonFinite, func() error { return g.Add(2, []float32{1, nan, 0, 0}) }},
		{"inf", ErrNonFinite, func() error { return g.Add(2, []float32{inf, 0, 0, 0}) }},
		{"zero", ErrZeroVector, func() error { return g.Add(2, []float32{0, 0, 0, 0}) }},
		{"duplicate", ErrDuplicate, func() error { return g.Add(1, []float32{0, 1, 0, 0}) }},
		{"duplicate in batch", ErrDuplicate, func() error {
			return g.AddBatch(context.Background(), []uint64{5, 5}, [][]float32{{1, 1, 0, 0}, {1, 0, 1, 0}})
		}},
		{"batch length", ErrOptions, func() error { return g.AddBatch(context.Background(), []uint64{5}, nil) }},
		{"delete missing", ErrNotFound, func() error { return g.Delete(99) }},
		{"search dim", ErrDim, func() error { _, err := g.Search([]float32{1}, 1, nil); return err }},
		{"search nan", ErrNonFinite, func() error { _, err := g.Search([]float32{nan, 0, 0, 0}, 1, nil); return err }},
		{"search zero", ErrZeroVector, func() error { _, err := g.Search(make([]float32, 4), 1, nil); return err }},
		{"search k", ErrOptions, func() error { _, err := g.Search([]float32{1, 0, 0, 0}, 0, nil); return err }},
		{"options dim", ErrOptions, func() error { _, err := New(Options{}); return err }},
		{"options M", ErrOptions, func() error { _, err := New(Options{Dim: 4, M: 1}); return err }},
		{"options quant", ErrOptions, func() error { _, err := New(Options{Dim: 4, Quantization: 7}); return err }},
		{"snapshot in memory", ErrNotPersistent, func() error { return g.Snapshot() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f()
			if !errors.Is(err, tc.err) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "hnsw") && !strings.Contains(err.Error(), "hnsw:") {
				t.Errorf("error %q does not name the package", err)
			}
		})
	}
	if g.Len() != 1 || g.Contains(2) || g.Contains(5) {
		t.Errorf("failed adds changed the graph: Len %d", g.Len())
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Add(3, []float32{1, 1, 1, 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %v", err)
	}
}

func TestConcurrentPersistent(t *testing.T) {
	const dim = 16
	g, err := Open(t.TempDir(), Options{Dim: dim, M: 8, EfConstruction: 40, SnapshotBytes: 16 << 10, Quantization: QuantInt8, TrainSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 3 {
		wg.Go(func() {
			for i := uint64(w); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := g.Search(crashVec(i), 5, &SearchOptions{Filter: func(id uint64) bool { return id%2 == 0 }}); err != nil {
					t.Error(err)
					return
				}
				g.Vector(i)
				g.Stats()
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			for i := range uint64(600) {
				id := uint64(w)*100000 + i
				if err := g.Add(id, crashVec(id)); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 4 {
					if err := g.Delete(id - 2); err != nil {
						t.Error(err)
						return
					}
				}
				if i%200 == 199 {
					if err := g.Compact(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if err := g.check(); err != nil {
		t.Fatal(err)
	}
	if g.Len() != 2*(600-120) {
		t.Fatalf("Len = %d, want %d", g.Len(), 2*(600-120))
	}
}

func TestAddBatchCancelled(t *testing.T) {
	base := clipLike(10000, 8, 4, 31)
	g, _ := New(Options{Dim: 8, M: 4, EfConstruction: 10})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.AddBatch(ctx, ids(100), base[:100]); !errors.Is(err, context.Canceled) || g.Len() != 0 {
		t.Fatalf("cancelled AddBatch = %v, Len %d", err, g.Len())
	}
	// Cancelled between chunks: a prefix of whole chunks is added, the rest
	// is released and can be added again.
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		for g.count.Load() == 0 {
			time.Sleep(time.Microsecond)
		}
		cancel()
	}()
	err := g.AddBatch(ctx, ids(len(base)), base)
	n := g.Len()
	if err == nil && n != len(base) || err != nil && (!errors.Is(err, context.Canceled) || n%insertChunk != 0) {
		t.Fatalf("AddBatch = %v with Len %d", err, n)
	}
	if err := g.AddBatch(context.Background(), ids(len(base))[n:], base[n:]); err != nil {
		t.Fatal(err)
	}
	if g.Len() != len(base) {
		t.Fatalf("Len = %d", g.Len())
	}
}

// TestUpperBeam: seeding level 0 with a level-1 beam finds more true
// neighbours of clustered data than hnswlib's single greedy entry point,
// mostly by rescuing queries whose greedy descent ends in the wrong
// cluster (a deliberately sparse graph, M=6, makes those common).
func TestUpperBeam(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 20k graph")
	}
	const dim = 64
	base := clipLike(20000, dim, 512, 11)
	queries := clipLike(500, dim, 512, 12)
	gt := groundTruth(base, queries, 10, nil)
	g := buildGraph(t, Options{Dim: dim, M: 6, EfConstruction: 40, EfSearch: 10}, base)
	measure := func(beam int) (recall float64, lost int) {
		for i, q := range queries {
			res, err := g.Search(q, 10, &SearchOptions{Ef: 10, UpperBeam: beam})
			if err != nil {
				t.Fatal(err)
			}
			r := recallOf(res, gt[i])
			if r == 0 {
				lost++
			}
			recall += r / float64(len(queries))
		}
		return recall, lost
	}
	greedy, greedyLost := measure(-1)
	beam, beamLost := measure(8)
	t.Logf("recall@10 at ef 10: greedy %.4f (%d queries lost), beam of 8 %.4f (%d lost)", greedy, greedyLost, beam, beamLost)
	if beam < greedy+0.02 || beamLost >= greedyLost {
		t.Errorf("the level-1 beam does not help: recall %.4f vs %.4f, lost queries %d vs %d", beam, greedy, beamLost, greedyLost)
	}
}
