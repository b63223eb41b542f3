package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestVectorOps compares the element-wise kernels in use (assembly unless
// built with -tags purego) with float64 references and with the portable
// Go versions, over lengths that exercise the vector tails.
func TestVectorOps(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 77, 200, 3072} {
		x := randSlice(r, n, 4)
		if n > 3 {
			x[0], x[1], x[2] = -120, 80, 0 // the exponential's extremes
		}
		t.Run(fmt.Sprintf("quickGELU/%d", n), func(t *testing.T) {
			got := append([]float32(nil), x...)
			quickGELU(got)
			port := append([]float32(nil), x...)
			quickGELUGo(port)
			for i, v := range x {
				want := float64(v) / (1 + math.Exp(-1.702*float64(v)))
				// Rounding 1.702·x to float32 costs up to |1.702·x|
				// half-ulps of relative error.
				tol := (3e-7+1.2e-7*math.Abs(float64(v)))*math.Abs(want) + 1e-30
				if d := math.Abs(float64(got[i]) - want); d > tol {
					t.Errorf("quickGELU(%g) = %g, want %g", v, got[i], want)
				}
				if d := math.Abs(float64(port[i]) - want); d > tol {
					t.Errorf("quickGELUGo(%g) = %g, want %g", v, port[i], want)
				}
			}
		})
		t.Run(fmt.Sprintf("gelu/%d", n), func(t *testing.T) {
			got := append([]float32(nil), x...)
			gelu(got)
			port := append([]float32(nil), x...)
			geluGo(port)
			for i, v := range x {
				f := float64(v)
				want := 0.5 * f * math.Erfc(-f/math.Sqrt2)
				tol := 4e-7*math.Abs(want) + 1.5e-7*math.Min(1, math.Abs(f)) + 1e-37
				if d := math.Abs(float64(got[i]) - want); d > tol {
					t.Errorf("gelu(%g) = %g, want %g", v, got[i], want)
				}
				if d := math.Abs(float64(port[i]) - want); d > tol {
					t.Errorf("geluGo(%g) = %g, want %g", v, port[i], want)
				}
			}
		})
		t.Run(fmt.Sprintf("softmaxScaled/%d", n), func(t *testing.T) {
			if n == 0 {
				softmaxScaled(nil, 0.125) // no-op
				return
			}
			const scale = 0.125
			got := append([]float32(nil), x...)
			softmaxScaled(got, scale)
			port := append([]float32(nil), x...)
			softmaxScaledGo(port, scale)
			mx := math.Inf(-1)
			for _, v := range x {
				mx = math.Max(mx, float64(v))
			}
			want := make([]float64, n)
			var sum float64
			for i, v := range x {
				want[i] = math.Exp((float64(v) - mx) * scale)
				sum += want[i]
			}
			for i := range want {
				want[i] /= sum
				tol := 2e-6*want[i] + 1e-9
				if d := math.Abs(float64(got[i]) - want[i]); d > tol {
					t.Errorf("softmaxScaled[%d] = %g, want %g", i, got[i], want[i])
				}
				if d := math.Abs(float64(port[i]) - want[i]); d > tol {
					t.Errorf("softmaxScaledGo[%d] = %g, want %g", i, port[i], want[i])
				}
			}
		})
	}
}

func TestSoftmaxFast(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 2, 10, 16, 50, 77} {
		x := randSlice(r, n, 5)
		got := append([]float32(nil), x...)
		softmax(got)
		want := append([]float32(nil), x...)
		Softmax(want)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 3e-7 {
				t.Errorf("n=%d: softmax[%d] = %g, want %g", n, i, got[i], want[i])
			}
		}
	}
}

// TestLayerNormRowsMatchesGo compares the row normaliser in use with the
// portable one, with and without a residual, on large offsets too.
func TestLayerNormRowsMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, dim := range []int{16, 64, 512, 768, 100} {
		for _, offset := range []float32{0, 100} {
			rows := 3
			x := randSlice(r, rows*dim, 2)
			for i := range x {
				x[i] += offset
			}
			res := randSlice(r, rows*dim, 1)
			gain, bias := randSlice(r, dim, 1), randSlice(r, dim, 1)
			for _, withRes := range []bool{false, true} {
				var rs []float32
				if withRes {
					rs = res
				}
				xa, xg := append([]float32(nil), x...), append([]float32(nil), x...)
				da, dg := make([]float32, len(x)), make([]float32, len(x))
				layerNormRows(da, xa, rs, gain, bias, 0, rows, 1e-5)
				layerNormRowsGo(dg, xg, rs, gain, bias, 0, rows, 1e-5)
				for i := range da {
					if xa[i] != xg[i] {
						t.Fatalf("dim %d res %v: x[%d] = %g after, want %g", dim, withRes, i, xa[i], xg[i])
					}
					if d := math.Abs(float64(da[i] - dg[i])); d > 1e-5 {
						t.Fatalf("dim %d offset %g res %v: [%d] = %g, want %g", dim, offset, withRes, i, da[i], dg[i])
					}
				}
			}
		}
	}
}
