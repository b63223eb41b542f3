package flat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// naive is the reference: score everything in float32 with a plain loop,
// sort by score desc then id asc.
func naive(ids []uint64, vs [][]float32, q []float32, k int, filter func(uint64) bool) []Result {
	var all []Result
	for i, v := range vs {
		if filter != nil && !filter(ids[i]) {
			continue
		}
		var s float64
		for j := range v {
			s += float64(v[j]) * float64(q[j])
		}
		all = append(all, Result{ID: ids[i], Score: float32(s)})
	}
	slices.SortFunc(all, compareResults)
	return all[:min(k, len(all))]
}

// sameRanking checks ids and scores, allowing float32 rounding differences
// between SIMD and the float64 reference: an id swap is accepted only
// between results whose reference scores are within tol.
func sameRanking(t *testing.T, got, want []Result, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i].Score-want[i].Score)) > tol {
			t.Fatalf("rank %d: score %v, want %v (ids %d, %d)", i, got[i].Score, want[i].Score, got[i].ID, want[i].ID)
		}
		if got[i].ID != want[i].ID && math.Abs(float64(got[i].Score-want[i].Score)) > tol {
			t.Fatalf("rank %d: id %d, want %d", i, got[i].ID, want[i].ID)
		}
		if i > 0 && compareResults(got[i-1], got[i]) >= 0 {
			t.Fatalf("results not sorted at %d: %v then %v", i, got[i-1], got[i])
		}
	}
}

func TestAddErrors(t *testing.T) {
	x := New(3)
	if err := x.Add(1, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   uint64
		v    []float32
		want error
	}{
		{"short", 2, []float32{1, 2}, ErrDim},
		{"long", 2, []float32{1, 2, 3, 4}, ErrDim},
		{"nil", 2, nil, ErrDim},
		{"nan", 2, []float32{1, float32(math.NaN()), 3}, ErrNotFinite},
		{"inf", 2, []float32{1, 2, float32(math.Inf(-1))}, ErrNotFinite},
		{"zero", 2, []float32{0, 0, 0}, ErrZero},
		{"duplicate", 1, []float32{4, 5, 6}, ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := x.Add(tt.id, tt.v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Add: %v, want %v", err, tt.want)
			}
			if x.Len() != 1 {
				t.Fatalf("failed Add changed Len to %d", x.Len())
			}
		})
	}
	if err := x.Delete(7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete missing: %v", err)
	}
	if _, err := x.Search([]float32{1, 2}, 1, nil); !errors.Is(err, ErrDim) {
		t.Fatalf("Search short query: %v", err)
	}
	if _, err := x.Search([]float32{1, 2, float32(math.NaN())}, 1, nil); !errors.Is(err, ErrNotFinite) {
		t.Fatalf("Search NaN query: %v", err)
	}
	if _, err := x.Search([]float32{1, 2, 3}, -1, nil); !errors.Is(err, ErrK) {
		t.Fatalf("Search k=-1: %v", err)
	}
	if res, err := x.Search([]float32{1, 2, 3}, 0, nil); err != nil || len(res) != 0 {
		t.Fatalf("Search k=0: %v %v", res, err)
	}
}

func TestSearchMatchesNaive(t *testing.T) {
	tests := []struct {
		n, dim, k int
		filter    func(uint64) bool
	}{
		{0, 8, 5, nil},
		{1, 8, 5, nil},
		{10, 3, 20, nil},
		{100, 17, 10, nil},
		{5000, 37, 10, nil},
		{9000, 64, 100, nil},
		{9000, 64, 10, func(id uint64) bool { return id%3 == 0 }},
		{3000, 20, 10, func(uint64) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d/dim=%d/k=%d/filter=%v", tt.n, tt.dim, tt.k, tt.filter != nil), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tt.n), uint64(tt.dim)))
			x := New(tt.dim)
			var ids []uint64
			var vs [][]float32
			for i := range tt.n {
				id := uint64(i)*7919 + 13
				v := randVec(r, tt.dim)
				if err := x.Add(id, v); err != nil {
					t.Fatal(err)
				}
				ids, vs = append(ids, id), append(vs, v)
			}
			for range 5 {
				q := randVec(r, tt.dim)
				got, err := x.Search(q, tt.k, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				sameRanking(t, got, naive(ids, vs, q, tt.k, tt.filter), 1e-4)
				serial, err := x.SearchSerial(q, tt.k, tt.filter)
				if err != nil || !slices.Equal(serial, got) {
					t.Fatalf("SearchSerial %v (%v) differs from Search %v", serial, err, got)
				}
			}
		})
	}
}

func TestTiesByID(t *testing.T) {
	// Integer vectors give exact, heavily tied scores.
	x := New(4)
	r := rand.New(rand.NewPCG(1, 1))
	var ids []uint64
	var vs [][]float32
	for i := range 6000 {
		v := []float32{float32(r.IntN(3)), float32(r.IntN(3)), 1, 0}
		id := uint64(6000 - i)
		if err := x.Add(id, v); err != nil {
			t.Fatal(err)
		}
		ids, vs = append(ids, id), append(vs, v)
	}
	q := []float32{1, 1, 1, 1}
	got, err := x.Search(q, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := naive(ids, vs, q, 50, nil)
	if !slices.Equal(got, want) {
		t.Fatalf("tie order differs:\n got %v\nwant %v", got[:5], want[:5])
	}
}

func TestDelete(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	x := New(16)
	vs := map[uint64][]float32{}
	for i := range 500 {
		v := randVec(r, 16)
		vs[uint64(i)] = v
		if err := x.Add(uint64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(0); i < 500; i += 3 {
		if err := x.Delete(i); err != nil {
			t.Fatal(err)
		}
		delete(vs, i)
	}
	if err := x.Delete(0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if x.Len() != len(vs) {
		t.Fatalf("Len %d, want %d", x.Len(), len(vs))
	}
	for id, v := range vs {
		got, ok := x.Vector(id)
		if !ok || !slices.Equal(got, v) {
			t.Fatalf("vector %d lost or moved wrongly after deletes", id)
		}
	}
	// Re-adding a deleted id works.
	if err := x.Add(0, randVec(r, 16)); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	var rows [][]float32
	for id, v := range vs {
		ids, rows = append(ids, id), append(rows, v)
	}
	v0, _ := x.Vector(0)
	ids, rows = append(ids, 0), append(rows, v0)
	q := randVec(r, 16)
	got, err := x.Search(q, 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameRanking(t, got, naive(ids, rows, q, 400, nil), 1e-4)
}

func TestSearchBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	x := New(48)
	for i := range 7000 {
		if err := x.Add(uint64(i), randVec(r, 48)); err != nil {
			t.Fatal(err)
		}
	}
	qs := make([][]float32, 20)
	for i := range qs {
		qs[i] = randVec(r, 48)
	}
	batch, err := x.SearchBatch(context.Background(), qs, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		one, err := x.Search(q, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one, batch[i]) {
			t.Fatalf("query %d: batch %v, single %v", i, batch[i], one)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.SearchBatch(ctx, qs, 10, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled SearchBatch: %v", err)
	}
	qs[7] = qs[7][:3]
	if _, err := x.SearchBatch(context.Background(), qs, 10, nil); !errors.Is(err, ErrDim) {
		t.Fatalf("bad query in batch: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	x := New(8)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range 3000 {
				id := uint64(w*10000 + i)
				if err := x.Add(id, randVec(r, 8)); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if err := x.Delete(id); err != nil {
						t.Error(err)
						return
					}
				}
				if i%50 == 1 {
					res, err := x.Search(randVec(r, 8), 5, nil)
					if err != nil || len(res) == 0 {
						t.Errorf("search: %v %v", res, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if x.Len() != 4*2400 {
		t.Fatalf("Len %d, want %d", x.Len(), 4*2400)
	}
}

func TestPersist(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	x := New(5)
	for i := range 300 {
		if err := x.Add(uint64(i)*3+1, randVec(r, 5)); err != nil {
			t.Fatal(err)
		}
	}
	path := t.TempDir() + "/idx.flat"
	if err := x.Save(path); err != nil {
		t.Fatal(err)
	}
	y, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != x.Len() || y.Dim() != 5 || !slices.Equal(y.ids, x.ids) || !slices.Equal(y.data, x.data) {
		t.Fatal("round trip changed the index")
	}
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) || n != headerSize+300*8+300*5*4+4 {
		t.Fatalf("WriteTo: n=%d len=%d err=%v", n, buf.Len(), err)
	}
	good := buf.Bytes()
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"empty", func(b []byte) []byte { return nil }, ErrFormat},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, ErrFormat},
		{"version", func(b []byte) []byte { b[8] = 9; return b }, ErrFormat},
		{"dim zero", func(b []byte) []byte { copy(b[12:16], []byte{0, 0, 0, 0}); return b }, ErrFormat},
		{"truncated ids", func(b []byte) []byte { return b[:headerSize+100] }, ErrFormat},
		{"truncated vectors", func(b []byte) []byte { return b[:len(b)-50] }, ErrFormat},
		{"no checksum", func(b []byte) []byte { return b[:len(b)-4] }, ErrFormat},
		{"flipped vector bit", func(b []byte) []byte { b[len(b)-10] ^= 1; return b }, ErrFormat},
		{"duplicate id", func(b []byte) []byte { copy(b[headerSize+8:headerSize+16], b[headerSize:headerSize+8]); return b }, ErrDuplicate},
		{"nan vector", func(b []byte) []byte {
			copy(b[headerSize+300*8:], []byte{0, 0, 0xc0, 0x7f})
			return b
		}, ErrNotFinite},
		{"huge count", func(b []byte) []byte { b[23] = 0x7f; return b }, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.mutate(slices.Clone(good))))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read: %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	x := New(3)
	_ = x.Add(1, []float32{1, 2, 3})
	_ = x.Add(9, []float32{-1, 0, 0.5})
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to the same bytes and be searchable.
		var out bytes.Buffer
		if _, err := y.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[:out.Len()]) {
			t.Fatal("re-encoding differs")
		}
		q := make([]float32, y.Dim())
		q[0] = 1
		if _, err := y.Search(q, 3, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// benchIndex builds n random unit vectors of dimension dim.
func benchIndex(b *testing.B, n, dim int) (*Index, [][]float32) {
	r := rand.New(rand.NewPCG(5, 5))
	x := New(dim)
	for i := range n {
		v := randVec(r, dim)
		if err := x.Add(uint64(i), v); err != nil {
			b.Fatal(err)
		}
	}
	qs := make([][]float32, 64)
	for i := range qs {
		qs[i] = randVec(r, dim)
	}
	return x, qs
}

func BenchmarkSearch100kx512(b *testing.B) {
	x, qs := benchIndex(b, 100_000, 512)
	b.Run("single", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := x.Search(qs[i%len(qs)], 10, nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "QPS")
	})
	b.Run("batch64", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.SearchBatch(context.Background(), qs, 10, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(qs))/b.Elapsed().Seconds(), "QPS")
	})
}
