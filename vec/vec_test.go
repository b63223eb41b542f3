package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// lengths covers every length 0..300 plus some large ones.
func lengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 511, 512, 768, 1000, 4096, 10007, 65553)
}

// randSlice returns n random values at element offset off inside a larger
// buffer whose elements around the slice are NaN, so a kernel that reads
// past either end produces NaN.
func randSlice(r *rand.Rand, n, off int) []float32 {
	buf := make([]float32, off+n+32)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	s := buf[off : off+n]
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// refDot returns the float64 inner product and the sum of |a_i b_i|, the
// scale against which float32 rounding error is measured.
func refDot(a, b []float32) (dot, mag float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		dot += p
		mag += math.Abs(p)
	}
	return dot, mag
}

const relTol = 1e-5

func checkClose(t *testing.T, what string, got float32, want, mag float64) {
	t.Helper()
	if math.IsNaN(float64(got)) || math.Abs(float64(got)-want) > relTol*mag+1e-30 {
		t.Fatalf("%s: got %v, want %v (|a·b| scale %v)", what, got, want, mag)
	}
}

func TestDot(t *testing.T) {
	for _, k := range candidates() {
		t.Run(k.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for _, n := range lengths() {
				for off := 0; off < 3; off++ {
					a, b := randSlice(r, n, off), randSlice(r, n, (off*7)%5)
					want, mag := refDot(a, b)
					var got float32
					if n > 0 {
						got = k.dot(a, b)
					}
					checkClose(t, fmt.Sprintf("n=%d off=%d", n, off), got, want, mag)
					gen := dotGeneric(a, b)
					checkClose(t, fmt.Sprintf("generic n=%d", n), gen, want, mag)
					checkClose(t, fmt.Sprintf("asm vs generic n=%d", n), got, float64(gen), mag)
				}
			}
		})
	}
}

func TestDot4(t *testing.T) {
	for _, k := range candidates() {
		t.Run(k.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			for _, n := range lengths() {
				if n == 0 || n > 5000 {
					continue
				}
				q := randSlice(r, n, 1)
				base := randSlice(r, 4*n, 3)
				dstBuf := []float32{-1, 0, 0, 0, 0, -1}
				k.dot4(dstBuf[1:5], q, base)
				if dstBuf[0] != -1 || dstBuf[5] != -1 {
					t.Fatalf("n=%d: dot4 wrote outside dst: %v", n, dstBuf)
				}
				for row := 0; row < 4; row++ {
					want, mag := refDot(q, base[row*n:(row+1)*n])
					checkClose(t, fmt.Sprintf("n=%d row=%d", n, row), dstBuf[1+row], want, mag)
				}
			}
		})
	}
}

func TestDotBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range []int{1, 3, 15, 16, 17, 100, 512, 768} {
		for rows := 0; rows <= 11; rows++ {
			q := randSlice(r, dim, 2)
			base := randSlice(r, rows*dim, 1)
			dst := make([]float32, rows+1)
			dst[rows] = 42
			DotBatch(dst, q, base, dim)
			if dst[rows] != 42 {
				t.Fatalf("dim=%d rows=%d: wrote past the rows", dim, rows)
			}
			for i := 0; i < rows; i++ {
				want, mag := refDot(q, base[i*dim:(i+1)*dim])
				checkClose(t, fmt.Sprintf("dim=%d rows=%d i=%d", dim, rows, i), dst[i], want, mag)
			}
		}
	}
}

func TestDotBatchPanics(t *testing.T) {
	tests := []struct {
		name         string
		dst, q, base int
		dim          int
	}{
		{"zero dim", 1, 0, 0, 0},
		{"q length", 1, 3, 4, 4},
		{"ragged base", 2, 4, 7, 4},
		{"short dst", 1, 4, 8, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			DotBatch(make([]float32, tt.dst), make([]float32, tt.q), make([]float32, tt.base), tt.dim)
		})
	}
}

func TestDotPanicsOnMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Dot(make([]float32, 3), make([]float32, 4))
}

func TestScale(t *testing.T) {
	for _, k := range candidates() {
		t.Run(k.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			for _, n := range lengths() {
				if n == 0 {
					continue
				}
				v := randSlice(r, n, 1)
				want := append([]float32(nil), v...)
				scaleGeneric(want, 0.37)
				k.scale(v, 0.37)
				for i := range v {
					if v[i] != want[i] {
						t.Fatalf("n=%d i=%d: got %v want %v", n, i, v[i], want[i])
					}
				}
				if tail := v[:n+1][n]; !math.IsNaN(float64(tail)) {
					t.Fatalf("n=%d: wrote past the end (%v)", n, tail)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range lengths() {
		if n == 0 {
			continue
		}
		v := randSlice(r, n, 0)
		want, _ := refDot(v, v)
		norm := Normalize(v)
		if math.Abs(float64(norm)-math.Sqrt(want)) > relTol*math.Sqrt(want) {
			t.Fatalf("n=%d: norm %v, want %v", n, norm, math.Sqrt(want))
		}
		sq, _ := refDot(v, v)
		if math.Abs(sq-1) > 1e-5 {
			t.Fatalf("n=%d: |v|² after Normalize = %v", n, sq)
		}
	}
	tests := []struct {
		name string
		v    []float32
		norm float32
	}{
		{"empty", nil, 0},
		{"zero", []float32{0, 0, 0}, 0},
		{"three-four", []float32{3, 4}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]float32(nil), tt.v...)
			if got := Normalize(tt.v); got != tt.norm {
				t.Fatalf("norm %v, want %v", got, tt.norm)
			}
			if tt.norm == 0 {
				for i := range before {
					if tt.v[i] != before[i] {
						t.Fatalf("zero vector modified: %v", tt.v)
					}
				}
			}
		})
	}
	inf := []float32{float32(math.Inf(1)), 1}
	if n := Normalize(inf); !math.IsInf(float64(n), 1) || inf[1] != 1 {
		t.Fatalf("infinite vector: norm %v, v %v", n, inf)
	}
}

// randBytes returns codes and a query of length n at offsets inside larger
// buffers filled with extreme values, so out-of-range reads change the sum.
func randBytes(r *rand.Rand, n, off int) ([]uint8, []int8) {
	ab := make([]uint8, off+n+64)
	bb := make([]int8, off+n+64)
	for i := range ab {
		ab[i], bb[i] = 255, -128
	}
	a, b := ab[off:off+n:off+n], bb[off:off+n:off+n]
	for i := range a {
		a[i] = uint8(r.UintN(256))
		b[i] = int8(r.IntN(256) - 128)
	}
	return a, b
}

func TestDotU8I8(t *testing.T) {
	for _, k := range candidates() {
		t.Run(k.int8Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 12))
			for _, n := range lengths() {
				if n == 0 {
					continue
				}
				for off := 0; off < 3; off++ {
					a, b := randBytes(r, n, off)
					var want int64
					for i := range a {
						want += int64(a[i]) * int64(b[i])
					}
					if got, gen := k.dotU8I8(a, b), dotU8I8Generic(a, b); got != int32(want) || gen != got {
						t.Fatalf("n=%d off=%d: got %d want %d", n, off, got, int32(want))
					}
				}
			}
			// Extremes: the largest magnitude products, where VPMADDUBSW
			// would saturate, and a length whose sum wraps int32.
			for _, n := range []int{1, 63, 64, 65, 300, 70001} {
				for _, pair := range [][2]int{{255, -128}, {255, 127}, {0, -128}} {
					a := make([]uint8, n)
					b := make([]int8, n)
					for i := range a {
						a[i], b[i] = uint8(pair[0]), int8(pair[1])
					}
					want := int32(int64(n) * int64(pair[0]) * int64(pair[1]))
					if got := k.dotU8I8(a, b); got != want {
						t.Fatalf("n=%d pair=%v: got %d want %d", n, pair, got, want)
					}
					if got := dotU8I8Generic(a, b); got != want {
						t.Fatalf("generic n=%d pair=%v: got %d want %d", n, pair, got, want)
					}
				}
			}
		})
	}
	if DotU8I8(nil, nil) != 0 {
		t.Fatal("empty DotU8I8 not 0")
	}
}

func TestHas(t *testing.T) {
	switch h := Has(); h {
	case "avx512", "avx2", "generic":
	default:
		t.Fatalf("Has() = %q", h)
	}
	if Has() != candidates()[0].name || HasInt8() != candidates()[0].int8Name {
		t.Fatalf("dispatched %s/%s, best candidate %s/%s", Has(), HasInt8(), candidates()[0].name, candidates()[0].int8Name)
	}
	t.Logf("float kernels: %s, int8 kernel: %s", Has(), HasInt8())
}

func benchVecs(n int) ([]float32, []float32) {
	r := rand.New(rand.NewPCG(1, 1))
	return randSlice(r, n, 0), randSlice(r, n, 0)
}

func BenchmarkDot(b *testing.B) {
	for _, k := range candidates() {
		for _, dim := range []int{512, 768} {
			b.Run(fmt.Sprintf("%s/dim=%d", k.name, dim), func(b *testing.B) {
				x, y := benchVecs(dim)
				var s float32
				for b.Loop() {
					s += k.dot(x, y)
				}
				b.ReportMetric(2*float64(dim)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				_ = s
			})
		}
	}
}

func BenchmarkDotBatch(b *testing.B) {
	const rows = 256 // 512 KiB at dim 512: the block stays in L2
	for _, k := range candidates() {
		for _, dim := range []int{512, 768} {
			b.Run(fmt.Sprintf("%s/dim=%d", k.name, dim), func(b *testing.B) {
				r := rand.New(rand.NewPCG(2, 2))
				q, base := randSlice(r, dim, 0), randSlice(r, rows*dim, 0)
				dst := make([]float32, rows)
				for b.Loop() {
					for i := 0; i+4 <= rows; i += 4 {
						k.dot4(dst[i:i+4], q, base[i*dim:(i+4)*dim])
					}
				}
				b.ReportMetric(2*float64(dim*rows)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			})
		}
	}
}

func BenchmarkDotU8I8(b *testing.B) {
	for _, k := range candidates() {
		for _, dim := range []int{512, 768} {
			b.Run(fmt.Sprintf("%s/dim=%d", k.int8Name, dim), func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 3))
				x, y := randBytes(r, dim, 0)
				var s int32
				for b.Loop() {
					s += k.dotU8I8(x, y)
				}
				b.ReportMetric(2*float64(dim)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				_ = s
			})
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	x, _ := benchVecs(512)
	for b.Loop() {
		Normalize(x)
	}
}

// gatherCase is a base matrix and a list of row ids (with repeats, the last
// row and an unsorted order).
func gatherCase(r *rand.Rand, rows, dim, nids int) ([]uint32, []float32, []uint8) {
	base := randSlice(r, rows*dim, 1)
	codes, _ := randBytes(r, rows*dim, 1)
	ids := make([]uint32, nids)
	for j := range ids {
		ids[j] = uint32(r.IntN(rows))
	}
	if nids > 1 {
		ids[nids-1] = uint32(rows - 1)
		ids[0] = ids[nids-1]
	}
	return ids, base, codes
}

func TestDotGather(t *testing.T) {
	for _, k := range candidates() {
		t.Run(k.name+"/"+k.int8Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			for _, dim := range []int{1, 3, 15, 16, 17, 63, 64, 65, 100, 255, 256, 257, 512, 768} {
				for _, nids := range []int{1, 2, 5, 64} {
					ids, base, codes := gatherCase(r, 37, dim, nids)
					q := randSlice(r, dim, 2)
					_, q8 := randBytes(r, dim, 3)
					got := make([]float32, nids+1)
					got[nids] = 42
					k.dotGather(got, q, base, ids)
					goti := make([]int32, nids+1)
					goti[nids] = 42
					k.dotU8I8Gather(goti, q8, codes, ids)
					for j, id := range ids {
						row := base[int(id)*dim : int(id+1)*dim]
						want, mag := refDot(q, row)
						checkClose(t, fmt.Sprintf("dim=%d ids=%d j=%d", dim, nids, j), got[j], want, mag)
						if w := dotU8I8Generic(codes[int(id)*dim:int(id+1)*dim], q8); goti[j] != w {
							t.Fatalf("int8 dim=%d ids=%d j=%d: got %d want %d", dim, nids, j, goti[j], w)
						}
					}
					if got[nids] != 42 || goti[nids] != 42 {
						t.Fatalf("dim=%d: wrote past len(ids)", dim)
					}
				}
			}
		})
	}
}

func TestDotGatherPanics(t *testing.T) {
	base := make([]float32, 4*8)
	codes := make([]uint8, 4*8)
	q := make([]float32, 8)
	q8 := make([]int8, 8)
	for name, f := range map[string]func(){
		"row outside":      func() { DotGather(make([]float32, 1), q, base, []uint32{4}) },
		"dst short":        func() { DotGather(make([]float32, 1), q, base, []uint32{0, 1}) },
		"empty query":      func() { DotGather(make([]float32, 1), nil, base, []uint32{0}) },
		"int8 row outside": func() { DotU8I8Gather(make([]int32, 1), q8, codes, []uint32{1 << 31}) },
		"int8 dst short":   func() { DotU8I8Gather(nil, q8, codes, []uint32{0}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	DotGather(nil, q, base, nil) // no ids: nothing to do
	dst := []float32{0}
	DotGather(dst, q, base, []uint32{3})
	if dst[0] != 0 {
		t.Fatalf("zero rows: got %v", dst[0])
	}
}

func BenchmarkDotGather(b *testing.B) {
	const dim, rows = 512, 1 << 16
	r := rand.New(rand.NewPCG(5, 6))
	base := randSlice(r, rows*dim, 0)
	q := randSlice(r, dim, 0)
	ids := make([]uint32, 64)
	dst := make([]float32, 64)
	b.SetBytes(int64(len(ids) * dim * 4))
	for b.Loop() {
		for j := range ids {
			ids[j] = uint32(r.IntN(rows))
		}
		DotGather(dst, q, base, ids)
	}
}

func TestPrefetchUint32(t *testing.T) {
	// A hint only: it must accept any length and leave the data alone.
	for _, n := range []int{0, 1, 15, 16, 17, 300, 5000} {
		s := make([]uint32, n)
		for i := range s {
			s[i] = uint32(i)
		}
		PrefetchUint32(s)
		for i, x := range s {
			if x != uint32(i) {
				t.Fatalf("n=%d: element %d changed to %d", n, i, x)
			}
		}
	}
}

// BenchmarkStream reads 256 MB (far more than the last-level cache) with
// Dot on 1 and 2 goroutines and reports the memory bandwidth reached: the
// floor under any model pass that must stream its weights from memory,
// such as one short text through the text tower (see BENCHMARKS.md).
//
//	go test -run '^$' -bench Stream -count 5 ./vec/
func BenchmarkStream(b *testing.B) {
	const n = 64 << 20 // float32s
	a := make([]float32, n)
	for i := range a {
		a[i] = 1
	}
	const chunk = 8192
	q := make([]float32, chunk)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			b.SetBytes(n * 4)
			for b.Loop() {
				var wg sync.WaitGroup
				per := n / threads
				for w := range threads {
					wg.Add(1)
					go func(lo int) {
						defer wg.Done()
						var s float32
						for i := lo; i < lo+per; i += chunk {
							s += Dot(a[i:i+chunk], q)
						}
						_ = s
					}(w * per)
				}
				wg.Wait()
			}
		})
	}
}
