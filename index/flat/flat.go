// Package flat is an exact (brute-force) inner-product vector index. Vectors
// are stored contiguously and every search scores all of them with the SIMD
// kernels of package vec, split across GOMAXPROCS goroutines. It is the
// ground-truth baseline for the approximate indexes and is fast enough on its
// own for collections up to a few hundred thousand vectors.
package flat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/sightsearch/sight/vec"
)

// Errors returned by Index methods; test with errors.Is.
var (
	ErrDim       = errors.New("flat: wrong vector dimension")
	ErrNotFinite = errors.New("flat: vector contains NaN or Inf")
	ErrZero      = errors.New("flat: zero vector")
	ErrDuplicate = errors.New("flat: duplicate id")
	ErrNotFound  = errors.New("flat: id not found")
	ErrK         = errors.New("flat: k must be >= 0")
)

// Result is one search hit: the vector's id and its inner product with the
// query.
type Result struct {
	ID    uint64
	Score float32
}

// Index is an exact inner-product index. All methods are safe for concurrent
// use; searches run in parallel with each other and exclude writers.
type Index struct {
	dim int

	mu   sync.RWMutex
	data []float32 // row-major, len(ids)*dim
	ids  []uint64
	pos  map[uint64]int // id -> row
}

// blockRows is the number of rows scored per DotBatch call: 256 rows of 512
// float32 are 512 KiB, which stays in L2 while a batch of queries is scored.
const blockRows = 256

// minRowsPerWorker keeps tiny indexes on one goroutine, where spawning
// workers costs more than the scan.
const minRowsPerWorker = 2048

// New returns an empty index for vectors of length dim. It panics if dim <= 0.
func New(dim int) *Index {
	if dim <= 0 {
		panic(fmt.Sprintf("flat.New: dimension %d must be positive", dim))
	}
	return &Index{dim: dim, pos: make(map[uint64]int)}
}

// Dim returns the vector dimension.
func (x *Index) Dim() int { return x.dim }

// Len returns the number of stored vectors.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids)
}

// Bytes returns the approximate memory held by the index: vectors, ids and
// the id lookup table.
func (x *Index) Bytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	const mapEntry = 8 + 8 + 8 // key, value and amortised bucket overhead
	return int64(cap(x.data))*4 + int64(cap(x.ids))*8 + int64(len(x.pos))*mapEntry
}

// check validates a vector against the index dimension.
func (x *Index) check(v []float32, what string) error {
	if len(v) != x.dim {
		return fmt.Errorf("%s has length %d, index dimension is %d: %w", what, len(v), x.dim, ErrDim)
	}
	zero := true
	for i, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("%s element %d is %v: %w", what, i, f, ErrNotFinite)
		}
		if f != 0 {
			zero = false
		}
	}
	if zero {
		return fmt.Errorf("%s: %w", what, ErrZero)
	}
	return nil
}

// Add stores a copy of v under id. It fails with ErrDim, ErrNotFinite,
// ErrZero or ErrDuplicate (wrapped) without modifying the index.
func (x *Index) Add(id uint64, v []float32) error {
	if err := x.check(v, fmt.Sprintf("vector %d", id)); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.pos[id]; ok {
		return fmt.Errorf("add %d: %w", id, ErrDuplicate)
	}
	x.pos[id] = len(x.ids)
	x.ids = append(x.ids, id)
	x.data = append(x.data, v...)
	return nil
}

// Delete removes the vector stored under id, or returns ErrNotFound. The last
// row is moved into the freed slot, so deletion is O(dim).
func (x *Index) Delete(id uint64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	row, ok := x.pos[id]
	if !ok {
		return fmt.Errorf("delete %d: %w", id, ErrNotFound)
	}
	last := len(x.ids) - 1
	if row != last {
		moved := x.ids[last]
		x.ids[row] = moved
		copy(x.data[row*x.dim:(row+1)*x.dim], x.data[last*x.dim:])
		x.pos[moved] = row
	}
	x.ids = x.ids[:last]
	x.data = x.data[:last*x.dim]
	delete(x.pos, id)
	return nil
}

// Vector returns a copy of the vector stored under id.
func (x *Index) Vector(id uint64) ([]float32, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	row, ok := x.pos[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(x.data[row*x.dim : (row+1)*x.dim]), true
}

// Search returns the k stored vectors with the largest inner product with q,
// best first, ties broken by smaller id. If filter is non-nil only ids for
// which it returns true are considered; it may be called concurrently from
// several goroutines and must not call back into the index. Fewer than k
// results are returned when fewer vectors pass.
func (x *Index) Search(q []float32, k int, filter func(uint64) bool) ([]Result, error) {
	res, err := x.SearchBatch(context.Background(), [][]float32{q}, k, filter)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// SearchSerial is Search on the calling goroutine only, for callers that
// parallelise over queries themselves (and for single-thread benchmarks).
func (x *Index) SearchSerial(q []float32, k int, filter func(uint64) bool) ([]Result, error) {
	res, err := x.search(context.Background(), [][]float32{q}, k, filter, 1)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// SearchBatch runs Search for every query in qs. Rows are scanned once in
// L2-sized blocks against all queries, which is several times faster than
// separate searches for large batches. ctx is checked between blocks.
func (x *Index) SearchBatch(ctx context.Context, qs [][]float32, k int, filter func(uint64) bool) ([][]Result, error) {
	return x.search(ctx, qs, k, filter, runtime.GOMAXPROCS(0))
}

// search scores qs against all rows using up to maxWorkers goroutines.
func (x *Index) search(ctx context.Context, qs [][]float32, k int, filter func(uint64) bool, maxWorkers int) ([][]Result, error) {
	if k < 0 {
		return nil, fmt.Errorf("search k=%d: %w", k, ErrK)
	}
	for i, q := range qs {
		if err := x.check(q, fmt.Sprintf("query %d", i)); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
	}
	out := make([][]Result, len(qs))
	if k == 0 || len(qs) == 0 {
		for i := range out {
			out[i] = []Result{}
		}
		return out, nil
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	rows := len(x.ids)
	workers := min(maxWorkers, max(1, rows/minRowsPerWorker))
	// Split rows into equal chunks aligned to whole blocks.
	chunk := (rows + workers - 1) / workers
	heaps := make([][]topK, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(w*chunk, rows), min((w+1)*chunk, rows)
		heaps[w] = make([]topK, len(qs))
		for i := range heaps[w] {
			heaps[w][i] = topK{k: k}
		}
		if workers == 1 {
			errs[w] = x.scan(ctx, qs, lo, hi, filter, heaps[w])
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = x.scan(ctx, qs, lo, hi, filter, heaps[w])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	for qi := range qs {
		var all []Result
		for w := range workers {
			all = append(all, heaps[w][qi].items...)
		}
		slices.SortFunc(all, compareResults)
		if len(all) > k {
			all = all[:k]
		}
		out[qi] = all
	}
	return out, nil
}

// scan scores rows [lo, hi) against every query, keeping the top k of each
// query in tops. The caller holds the read lock.
func (x *Index) scan(ctx context.Context, qs [][]float32, lo, hi int, filter func(uint64) bool, tops []topK) error {
	scores := make([]float32, blockRows)
	for b := lo; b < hi; b += blockRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := min(b+blockRows, hi)
		block := x.data[b*x.dim : e*x.dim]
		ids := x.ids[b:e]
		for qi, q := range qs {
			vec.DotBatch(scores, q, block, x.dim)
			t := &tops[qi]
			for r, s := range scores[:e-b] {
				if t.full() && !t.better(s, ids[r]) {
					continue
				}
				if filter != nil && !filter(ids[r]) {
					continue
				}
				t.push(Result{ID: ids[r], Score: s})
			}
		}
	}
	return nil
}

// compareResults orders by score descending, then id ascending.
func compareResults(a, b Result) int {
	if a.Score != b.Score {
		if a.Score > b.Score {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.ID, b.ID)
}

// worse reports whether a ranks below b.
func worse(a, b Result) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.ID > b.ID)
}

// topK is a bounded min-heap whose root is the worst of the best k results.
type topK struct {
	k     int
	items []Result
}

func (t *topK) full() bool { return len(t.items) >= t.k }

// better reports whether (s, id) would displace the current worst result.
func (t *topK) better(s float32, id uint64) bool {
	return worse(t.items[0], Result{ID: id, Score: s})
}

// push adds r, evicting the worst result if the heap is full. NaN scores
// (possible only if a product overflows) are ignored.
func (t *topK) push(r Result) {
	if r.Score != r.Score {
		return
	}
	if len(t.items) < t.k {
		t.items = append(t.items, r)
		i := len(t.items) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !worse(t.items[i], t.items[p]) {
				break
			}
			t.items[i], t.items[p] = t.items[p], t.items[i]
			i = p
		}
		return
	}
	if !worse(t.items[0], r) {
		return
	}
	t.items[0] = r
	i, n := 0, len(t.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && worse(t.items[r], t.items[l]) {
			m = r
		}
		if !worse(t.items[m], t.items[i]) {
			break
		}
		t.items[i], t.items[m] = t.items[m], t.items[i]
		i = m
	}
}
