package qgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

func mustPack(t testing.TB, w []float32, n, k int) *Packed {
	t.Helper()
	p, err := Pack(w, n, k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPackRejectsNonFinite(t *testing.T) {
	for _, bad := range []float32{float32(math.Inf(1)), float32(math.NaN())} {
		w := []float32{1, 2, 3, 4, 5, bad}
		if _, err := Pack(w, 2, 3); err == nil {
			t.Errorf("Pack accepted a weight %g", bad)
		}
	}
	p, err := Pack(make([]float32, 6), 2, 3) // all zero: fine
	if err != nil {
		t.Fatal(err)
	}
	rows := quantized([]float32{1, 2, 3}, 1, 3)
	dst := []float32{9, 9}
	p.MulBlock(dst, rows, []float32{0.5, -1}, 0, 1, 0, 1)
	if dst[0] != 0.5 || dst[1] != -1 {
		t.Errorf("zero weights give %v, want the bias", dst)
	}
}

func quantized(x []float32, m, k int) Rows {
	rows := Rows{Q: make([]uint8, m*RowBytes(k)), Scale: make([]float32, m), Zero: make([]int32, m)}
	QuantizeRows(rows, x, k, 0, m)
	return rows
}

// TestMulBlockMatchesGo compares the kernel in use (VNNI assembly unless
// built with -tags purego) with the portable one on every row count, odd
// k, a partial last panel and a sub-block of rows and panels.
func TestMulBlockMatchesGo(t *testing.T) {
	t.Logf("kernel %s", Kernel())
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ m, n, k int }{
		{1, 32, 4}, {3, 7, 5}, {8, 64, 64}, {9, 33, 130}, {10, 40, 512}, {11, 33, 36}, {12, 64, 2048},
		{13, 40, 8}, {17, 100, 768}, {23, 70, 100}, {50, 64, 768}, {64, 96, 3072}, {5, 1, 1},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(t *testing.T) {
			w := randSlice(r, s.n*s.k, 0.05)
			x := randSlice(r, s.m*s.k, 1)
			bias := randSlice(r, s.n, 1)
			p := mustPack(t, w, s.n, s.k)
			rows := quantized(x, s.m, s.k)
			for _, b := range [][]float32{bias, nil} {
				got := make([]float32, s.m*s.n+5)
				want := make([]float32, s.m*s.n+5)
				for i := range got {
					got[i], want[i] = 7, 7
				}
				p.MulBlock(got, rows, b, 0, s.m, 0, p.Panels())
				goMulBlock(p, want, rows, b, 0, s.m, 0, p.Panels())
				for i := range got {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("bias=%v: element %d = %g, want %g", b != nil, i, got[i], want[i])
					}
				}
			}
			// A sub-block leaves everything else alone.
			if s.m > 2 && p.Panels() > 1 {
				got := make([]float32, s.m*s.n)
				p.MulBlock(got, rows, bias, 1, s.m-1, 1, p.Panels())
				full := make([]float32, s.m*s.n)
				goMulBlock(p, full, rows, bias, 0, s.m, 0, p.Panels())
				for i := 0; i < s.m; i++ {
					for j := 0; j < s.n; j++ {
						in := i >= 1 && i < s.m-1 && j >= Panel
						g := got[i*s.n+j]
						if !in && g != 0 || in && math.Abs(float64(g-full[i*s.n+j])) > 1e-5*(1+math.Abs(float64(g))) {
							t.Fatalf("sub-block: element (%d,%d) = %g (inside: %v)", i, j, g, in)
						}
					}
				}
			}
		})
	}
}

// TestAccuracy checks the int8 product against float64 within the error
// quantisation allows: per term half a step of x times |w| plus half a
// step of w times |x|.
func TestAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m, n, k := 6, 40, 300
	w := randSlice(r, n*k, 0.05)
	x := randSlice(r, m*k, 1)
	x[5] = 0 // a row with a zero is fine; also an all-zero row:
	for i := k; i < 2*k; i++ {
		x[i] = 0
	}
	p := mustPack(t, w, n, k)
	rows := quantized(x, m, k)
	got := make([]float32, m*n)
	p.MulBlock(got, rows, nil, 0, m, 0, p.Panels())
	var cosNum, cosA, cosB float64
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var want, bound float64
			for q := 0; q < k; q++ {
				xv, wv := float64(x[i*k+q]), float64(w[j*k+q])
				want += xv * wv
				bound += 0.5*float64(rows.Scale[i])*math.Abs(wv) + 0.5*float64(p.scale[j])*math.Abs(xv)
			}
			g := float64(got[i*n+j])
			if math.Abs(g-want) > bound+1e-6 {
				t.Errorf("(%d,%d) = %g, want %g ± %g", i, j, g, want, bound)
			}
			cosNum += g * want
			cosA += g * g
			cosB += want * want
		}
	}
	if c := cosNum / math.Sqrt(cosA*cosB); c < 0.999 {
		t.Errorf("cosine with float64 %.6f < 0.999", c)
	}
	for j := 0; j < n; j++ {
		if got[n+j] != 0 {
			t.Fatalf("all-zero row gives %g", got[n+j])
		}
	}
}

func TestQuantizeRows(t *testing.T) {
	x := []float32{-1, 0, 2, 0.5, 3, 3, 3, 3, -2, -4, 0, -1}
	rows := quantized(x, 3, 4)
	// Row 0 spans [-1, 2]: step 3/255, zero point 85.
	if s, z := rows.Scale[0], rows.Zero[0]; math.Abs(float64(s)-3.0/255) > 1e-9 || z != 85 {
		t.Errorf("row 0: scale %g zero %d", s, z)
	}
	if q := rows.Q[:4]; q[0] != 0 || q[1] != 85 || q[2] != 255 {
		t.Errorf("row 0: %v", q)
	}
	// Row 1 is positive: the grid starts at 0.
	if rows.Zero[1] != 0 || rows.Q[4] != 255 {
		t.Errorf("row 1: zero %d, q %v", rows.Zero[1], rows.Q[4:8])
	}
	// Row 2 is non-positive: the grid ends at 0.
	if rows.Zero[2] != 255 || rows.Q[9] != 0 || rows.Q[10] != 255 {
		t.Errorf("row 2: zero %d, q %v", rows.Zero[2], rows.Q[8:12])
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a short destination")
		}
	}()
	QuantizeRows(Rows{}, x, 4, 0, 3)
}

func BenchmarkMulBlock(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{{64, 768, 768}, {64, 3072, 768}, {64, 768, 3072}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			p := mustPack(b, randSlice(r, s.n*s.k, 0.05), s.n, s.k)
			rows := quantized(randSlice(r, s.m*s.k, 1), s.m, s.k)
			dst := make([]float32, s.m*s.n)
			for b.Loop() {
				p.MulBlock(dst, rows, nil, 0, s.m, 0, p.Panels())
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// TestQuantizeMatchesGo compares the quantiser in use with the portable
// one on lengths that exercise the vector tails.
func TestQuantizeMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 3, 15, 16, 17, 33, 64, 100, 768, 3072} {
		x := randSlice(r, 3*k, 2)
		x[0] = 1e-3 // not the extreme
		if k > 20 {
			x[k+17] = -50 // extremes inside and past the vector part
			x[2*k+k-1] = 70
		}
		got := quantized(x, 3, k)
		kp := RowBytes(k)
		for i := 0; i < 3; i++ {
			lo, hi := minMaxGo(x[i*k : i*k+k])
			if l, h := minMax(x[i*k : i*k+k]); l != lo || h != hi {
				t.Errorf("k=%d row %d: minMax = %g, %g, want %g, %g", k, i, l, h, lo, hi)
			}
			want := make([]uint8, k)
			quantizeRowGo(want, x[i*k:i*k+k], 1/got.Scale[i], float32(got.Zero[i]))
			for j := range want {
				if got.Q[i*kp+j] != want[j] {
					t.Fatalf("k=%d row %d: q[%d] = %d, want %d", k, i, j, got.Q[i*kp+j], want[j])
				}
			}
			for j := k; j < kp; j++ {
				if got.Q[i*kp+j] != 0 {
					t.Errorf("k=%d row %d: padding byte %d = %d", k, i, j, got.Q[i*kp+j])
				}
			}
		}
	}
}
