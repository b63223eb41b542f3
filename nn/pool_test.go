package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// countTask records which items ran.
type countTask struct{ seen []atomic.Int32 }

func (c *countTask) Run(_, lo, hi int) {
	for i := lo; i < hi; i++ {
		c.seen[i].Add(1)
	}
}

func TestPoolFor(t *testing.T) {
	for _, p := range []*Pool{nil, NewPool(1), NewPool(3)} {
		for _, n := range []int{0, 1, 7, 1000} {
			c := &countTask{seen: make([]atomic.Int32, n)}
			p.For(n, 2, c)
			for i := range c.seen {
				if v := c.seen[i].Load(); v != 1 {
					t.Fatalf("workers=%d n=%d: item %d ran %d times", p.Workers(), n, i, v)
				}
			}
		}
		p.Close()
		p.Close() // idempotent
		c := &countTask{seen: make([]atomic.Int32, 50)}
		p.For(50, 1, c) // after Close: on the caller
		for i := range c.seen {
			if c.seen[i].Load() != 1 {
				t.Fatalf("after Close: item %d ran %d times", i, c.seen[i].Load())
			}
		}
	}
}

// TestPooledOpsMatch checks that the pooled layers give the results of
// the serial ones, and allocate nothing in steady state.
func TestPooledOpsMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	p := NewPool(2)
	defer p.Close()
	rows, dim := 77, 512
	x := randSlice(r, rows*dim, 3)
	n := Norm{Gain: randSlice(r, dim, 1), Bias: randSlice(r, dim, 1), Eps: 1e-5}
	want := make([]float32, len(x))
	LayerNorm(want, x, n.Gain, n.Bias, rows, dim, n.Eps)
	got := make([]float32, len(x))
	n.Forward(got, x, rows, p)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Norm.Forward with a pool: [%d] = %g, want %g", i, got[i], want[i])
		}
	}
	// AddForward equals Add then LayerNorm, with or without a pool, and
	// may write over the residual.
	res := randSlice(r, rows*dim, 1)
	wantX := append([]float32(nil), x...)
	Add(wantX, res)
	wantN := make([]float32, len(x))
	LayerNorm(wantN, wantX, n.Gain, n.Bias, rows, dim, n.Eps)
	for _, pool := range []*Pool{nil, p} {
		xx, rr := append([]float32(nil), x...), append([]float32(nil), res...)
		n.AddForward(rr, xx, rr, rows, pool)
		for i := range xx {
			if xx[i] != wantX[i] || rr[i] != wantN[i] {
				t.Fatalf("AddForward (workers %d): [%d] = %g, %g, want %g, %g", pool.Workers(), i, xx[i], rr[i], wantX[i], wantN[i])
			}
		}
	}
	act := append([]float32(nil), x...)
	p.Apply(act, QuickGELU)
	ref := append([]float32(nil), x...)
	QuickGELU(ref)
	for i := range act {
		if act[i] != ref[i] {
			t.Fatalf("Apply: [%d] = %g, want %g", i, act[i], ref[i])
		}
	}
	l := Linear{W: randSlice(r, 96*dim, 0.05), B: randSlice(r, 96, 1), In: dim, Out: 96}
	l.Prepack()
	dst := make([]float32, rows*96)
	s := AttentionShape{Batch: 2, Seq: 50, Heads: 8, HeadDim: 64}
	q, k, v := randSlice(r, 100*512, 1), randSlice(r, 100*512, 1), randSlice(r, 100*512, 1)
	att := make([]float32, 100*512)
	allocs := testing.AllocsPerRun(10, func() {
		n.Forward(got, x, rows, p)
		p.Apply(act, ReLU)
		l.Forward(dst, x, rows, p)
		Attention(att, q, k, v, s, p)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per pooled pass, want 0", allocs)
	}
}

// TestAttentionQuery checks that computing only one query row per
// sequence gives exactly that row of the full attention.
func TestAttentionQuery(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	p := NewPool(2)
	defer p.Close()
	for _, s := range []AttentionShape{
		{Batch: 3, Seq: 10, Heads: 4, HeadDim: 16, Causal: true, Lengths: []int{10, 4, 7}},
		{Batch: 2, Seq: 50, Heads: 12, HeadDim: 64, Stride: 3 * 768},
	} {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			width := s.Heads * s.HeadDim
			stride := max(s.Stride, width)
			buf := randSlice(r, s.Batch*s.Seq*stride+2*width, 1)
			q, k, v := buf, buf[width:], buf[2*width:]
			full := make([]float32, s.Batch*s.Seq*width)
			Attention(full, q, k, v, s, p)
			if d := maxAbsDiff(full, refAttention(q, k, v, s)); d > 1e-5 {
				t.Errorf("full: max abs diff %g", d)
			}
			s.Query = make([]int, s.Batch)
			for b := range s.Query {
				s.Query[b] = (3*b + 2) % s.Seq
			}
			one := make([]float32, s.Batch*width)
			Attention(one, q, k, v, s, p)
			for b, qi := range s.Query {
				for c := 0; c < width; c++ {
					if g, w := one[b*width+c], full[(b*s.Seq+qi)*width+c]; math.Abs(float64(g-w)) > 1e-6 {
						t.Fatalf("sequence %d row %d col %d: %g, want %g", b, qi, c, g, w)
					}
				}
			}
		})
	}
}

// TestLinearPrecisions checks each precision against float64 with a
// tolerance of its rounding, with and without a pool.
func TestLinearPrecisions(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	rows, in, out := 37, 300, 70
	l := Linear{W: randSlice(r, out*in, 0.05), B: randSlice(r, out, 1), In: in, Out: out}
	x := randSlice(r, rows*in, 1)
	want := refMatMulT(x, l.W, rows, out, in)
	for i := range want {
		want[i] += float64(l.B[i%out])
	}
	p := NewPool(2)
	defer p.Close()
	for _, tc := range []struct {
		prec Precision
		tol  float64 // max abs error for outputs of rms ≈ 1.3
	}{{FP32, 1e-5}, {BF16, 0.03}, {Int8, 0.05}} {
		if err := l.SetPrecision(tc.prec); err != nil {
			t.Fatal(err)
		}
		if l.Precision() != tc.prec {
			t.Fatalf("Precision() = %v, want %v", l.Precision(), tc.prec)
		}
		for _, pool := range []*Pool{nil, p} {
			dst := make([]float32, rows*out)
			l.Forward(dst, x, rows, pool)
			if d := maxAbsDiff(dst, want); d > tc.tol {
				t.Errorf("%v (workers %d): max abs diff %g > %g", tc.prec, pool.Workers(), d, tc.tol)
			}
			var num, a, b float64
			for i, v := range dst {
				num += float64(v) * want[i]
				a += float64(v) * float64(v)
				b += want[i] * want[i]
			}
			t.Logf("%v: max abs diff %.3g, cosine %.7f", tc.prec, maxAbsDiff(dst, want), num/math.Sqrt(a*b))
		}
	}
	if err := l.SetPrecision(Precision(7)); err == nil {
		t.Error("SetPrecision(7) accepted")
	}
	l.W[5] = float32(math.Inf(-1))
	if err := l.SetPrecision(Int8); err == nil {
		t.Error("SetPrecision(Int8) accepted an infinite weight")
	} else if l.Precision() != Int8 || l.int8 == nil {
		t.Errorf("after a failed SetPrecision: precision %v", l.Precision())
	}
	for _, s := range []string{"fp32", "bf16", "int8"} {
		if p, err := ParsePrecision(s); err != nil || p.String() != s {
			t.Errorf("ParsePrecision(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParsePrecision("fp8"); err == nil {
		t.Error(`ParsePrecision("fp8") accepted`)
	}
}

// sumTask adds the worked items to total.
type sumTask struct{ total atomic.Int64 }

func (s *sumTask) Run(_, lo, hi int) { s.total.Add(int64(hi - lo)) }

// TestPoolStress runs many loops back to back and after pauses (so that
// workers both spin and park) and checks that For returns only when every
// item is done.
func TestPoolStress(t *testing.T) {
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		t.Run(fmt.Sprint(spin), func(t *testing.T) { poolStress(t, spin) })
	}
}

func poolStress(t *testing.T, spin time.Duration) {
	p := NewPool(3)
	defer p.Close()
	p.SetSpin(spin)
	r := rand.New(rand.NewPCG(27, 28))
	var s sumTask
	want := int64(0)
	for i := 0; i < 3000; i++ {
		n := 1 + r.IntN(40)
		p.For(n, 1, &s)
		want += int64(n)
		if got := s.total.Load(); got != want {
			t.Fatalf("loop %d: %d items done when For returned, want %d", i, got, want)
		}
		if i%500 == 0 {
			time.Sleep(2*spin + time.Millisecond) // let the workers park
		}
	}
}

// TestLinearReleaseW checks that a layer whose W was released computes
// exactly what one keeping W computes, through every change of precision.
func TestLinearReleaseW(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	rows, in, out := 13, 200, 70
	w := randSlice(r, out*in, 0.05)
	keep := Linear{W: w, B: randSlice(r, out, 1), In: in, Out: out}
	rel := Linear{W: slices.Clone(w), B: keep.B, In: in, Out: out}
	keep.Prepack()
	rel.ReleaseW()
	rel.ReleaseW() // idempotent
	if rel.W != nil {
		t.Fatal("W kept after ReleaseW")
	}
	x := randSlice(r, rows*in, 1)
	p := NewPool(2)
	defer p.Close()
	for _, prec := range []Precision{FP32, Int8, BF16, Int8, FP32, BF16, FP32} {
		for _, l := range []*Linear{&keep, &rel} {
			if err := l.SetPrecision(prec); err != nil {
				t.Fatal(err)
			}
		}
		if rel.Precision() != prec {
			t.Fatalf("released layer: Precision() = %v, want %v", rel.Precision(), prec)
		}
		want, got := make([]float32, rows*out), make([]float32, rows*out)
		keep.Forward(want, x, rows, p)
		rel.Forward(got, x, rows, p)
		if !slices.Equal(got, want) {
			t.Fatalf("%v: released layer differs from the one keeping W", prec)
		}
	}
}
