package nn

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

func maxAbsDiff(a []float32, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-b[i]))
	}
	return m
}

func refMatMulT(a, b []float32, m, n, k int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[j*k+p])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func TestLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		rows, in, out int
		bias, prepack bool
	}{
		{1, 8, 5, true, false}, {7, 33, 12, false, true}, {9, 64, 130, true, true},
	} {
		l := Linear{W: randSlice(r, tc.out*tc.in, 0.3), In: tc.in, Out: tc.out}
		if tc.bias {
			l.B = randSlice(r, tc.out, 1)
		}
		if tc.prepack {
			l.Prepack()
		}
		x := randSlice(r, tc.rows*tc.in, 1)
		dst := make([]float32, tc.rows*tc.out)
		l.Forward(dst, x, tc.rows, nil)
		want := refMatMulT(x, l.W, tc.rows, tc.out, tc.in)
		if tc.bias {
			for i := range want {
				want[i] += float64(l.B[i%tc.out])
			}
		}
		if d := maxAbsDiff(dst, want); d > 1e-5 {
			t.Errorf("%+v: max abs diff %g", tc, d)
		}
	}
}

func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		rows, dim int
		eps       float32
		offset    float64
	}{{1, 1, 1e-5, 0}, {3, 64, 1e-5, 0}, {4, 768, 1e-5, 100}, {2, 5, 1e-1, 3}} {
		x := randSlice(r, tc.rows*tc.dim, 2)
		for i := range x {
			x[i] += float32(tc.offset)
		}
		g := randSlice(r, tc.dim, 1)
		b := randSlice(r, tc.dim, 1)
		dst := make([]float32, len(x))
		LayerNorm(dst, x, g, b, tc.rows, tc.dim, tc.eps)
		want := make([]float64, len(x))
		for rr := 0; rr < tc.rows; rr++ {
			var mean, v float64
			for i := 0; i < tc.dim; i++ {
				mean += float64(x[rr*tc.dim+i])
			}
			mean /= float64(tc.dim)
			for i := 0; i < tc.dim; i++ {
				d := float64(x[rr*tc.dim+i]) - mean
				v += d * d
			}
			v /= float64(tc.dim)
			for i := 0; i < tc.dim; i++ {
				want[rr*tc.dim+i] = (float64(x[rr*tc.dim+i])-mean)/math.Sqrt(v+float64(tc.eps))*float64(g[i]) + float64(b[i])
			}
		}
		if d := maxAbsDiff(dst, want); d > 2e-5 {
			t.Errorf("%+v: max abs diff %g", tc, d)
		}
		// In place gives the same result.
		LayerNorm(x, x, g, b, tc.rows, tc.dim, tc.eps)
		if d := maxAbsDiff(x, want); d > 2e-5 {
			t.Errorf("%+v in place: max abs diff %g", tc, d)
		}
	}
}

func TestActivations(t *testing.T) {
	xs := []float32{-10, -3, -1.5, -0.5, -1e-3, 0, 1e-3, 0.3, 1, 2.5, 8}
	for _, tc := range []struct {
		name string
		ref  func(float64) float64
	}{
		{"quick_gelu", func(x float64) float64 { return x / (1 + math.Exp(-1.702*x)) }},
		{"gelu", func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }},
		{"gelu_new", func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*math.Pow(x, 3))))
		}},
		{"gelu_pytorch_tanh", func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*math.Pow(x, 3))))
		}},
		{"relu", func(x float64) float64 { return math.Max(x, 0) }},
	} {
		f, ok := Activation(tc.name)
		if !ok {
			t.Fatalf("Activation(%q) unknown", tc.name)
		}
		got := append([]float32(nil), xs...)
		f(got)
		want := make([]float64, len(xs))
		for i, x := range xs {
			want[i] = tc.ref(float64(x))
		}
		if d := maxAbsDiff(got, want); d > 1e-6 {
			t.Errorf("%s: max abs diff %g (got %v)", tc.name, d, got)
		}
	}
	if _, ok := Activation("swish"); ok {
		t.Error("Activation(swish) accepted")
	}
	// The activations really differ (a test mixing them up would fail).
	a, b := []float32{1}, []float32{1}
	QuickGELU(a)
	GELU(b)
	if math.Abs(float64(a[0]-b[0])) < 1e-3 {
		t.Errorf("quick_gelu(1)=%g and gelu(1)=%g too close", a[0], b[0])
	}
}

func TestSoftmax(t *testing.T) {
	for _, x := range [][]float32{{0}, {1, 2, 3}, {1000, 1000, -1000}, {-5, float32(math.Inf(-1)), 2}} {
		got := append([]float32(nil), x...)
		Softmax(got)
		mx := math.Inf(-1)
		for _, v := range x {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		want := make([]float64, len(x))
		for i, v := range x {
			want[i] = math.Exp(float64(v) - mx)
			sum += want[i]
		}
		for i := range want {
			want[i] /= sum
		}
		if d := maxAbsDiff(got, want); d > 1e-7 {
			t.Errorf("Softmax(%v) = %v, max abs diff %g", x, got, d)
		}
	}
}

// refAttention is a float64 reference with explicit masks.
func refAttention(q, k, v []float32, s AttentionShape) []float64 {
	width := s.Heads * s.HeadDim
	stride := s.Stride
	if stride == 0 {
		stride = width
	}
	out := make([]float64, s.Batch*s.Seq*width)
	for b := 0; b < s.Batch; b++ {
		for h := 0; h < s.Heads; h++ {
			for i := 0; i < s.Seq; i++ {
				sc := make([]float64, s.Seq)
				allowed := make([]bool, s.Seq)
				mx := math.Inf(-1)
				for j := 0; j < s.Seq; j++ {
					allowed[j] = (!s.Causal || j <= i) && (s.Lengths == nil || j < s.Lengths[b])
					if !allowed[j] {
						continue
					}
					for c := 0; c < s.HeadDim; c++ {
						sc[j] += float64(q[(b*s.Seq+i)*stride+h*s.HeadDim+c]) * float64(k[(b*s.Seq+j)*stride+h*s.HeadDim+c])
					}
					sc[j] /= math.Sqrt(float64(s.HeadDim))
					mx = math.Max(mx, sc[j])
				}
				var sum float64
				for j := range sc {
					if allowed[j] {
						sc[j] = math.Exp(sc[j] - mx)
						sum += sc[j]
					} else {
						sc[j] = 0
					}
				}
				for j := range sc {
					for c := 0; c < s.HeadDim; c++ {
						out[(b*s.Seq+i)*width+h*s.HeadDim+c] += sc[j] / sum * float64(v[(b*s.Seq+j)*stride+h*s.HeadDim+c])
					}
				}
			}
		}
	}
	return out
}

func TestAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range []AttentionShape{
		{Batch: 1, Seq: 1, Heads: 1, HeadDim: 4},
		{Batch: 2, Seq: 5, Heads: 3, HeadDim: 8},
		{Batch: 2, Seq: 7, Heads: 2, HeadDim: 16, Causal: true},
		{Batch: 3, Seq: 6, Heads: 2, HeadDim: 4, Causal: true, Lengths: []int{6, 2, 4}},
		{Batch: 2, Seq: 9, Heads: 4, HeadDim: 8, Lengths: []int{3, 9}, Stride: 3 * 32},
		{Batch: 2, Seq: 50, Heads: 4, HeadDim: 16},
	} {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			width := s.Heads * s.HeadDim
			stride := s.Stride
			if stride == 0 {
				stride = width
			}
			buf := randSlice(r, s.Batch*s.Seq*stride+2*width, 1.5)
			q, k, v := buf, buf[width:], buf[2*width:]
			if stride == width {
				q = randSlice(r, s.Batch*s.Seq*width, 1.5)
				k = randSlice(r, s.Batch*s.Seq*width, 1.5)
				v = randSlice(r, s.Batch*s.Seq*width, 1.5)
			}
			dst := make([]float32, s.Batch*s.Seq*width)
			Attention(dst, q, k, v, s, nil)
			want := refAttention(q, k, v, s)
			if d := maxAbsDiff(dst, want); d > 1e-5 {
				t.Errorf("max abs diff %g", d)
			}
		})
	}
	// The causal mask matters: the first row without it differs.
	s := AttentionShape{Batch: 1, Seq: 4, Heads: 1, HeadDim: 4}
	q, k, v := randSlice(r, 16, 1), randSlice(r, 16, 1), randSlice(r, 16, 1)
	a, b := make([]float32, 16), make([]float32, 16)
	Attention(a, q, k, v, s, nil)
	s.Causal = true
	Attention(b, q, k, v, s, nil)
	if a[0] == b[0] {
		t.Error("causal mask has no effect")
	}
	for c := 0; c < 4; c++ {
		if b[c] != v[c] {
			t.Errorf("causal row 0 = %v, want v[0] = %v", b[:4], v[:4])
		}
	}
}

func TestArena(t *testing.T) {
	var a Arena
	for pass := 0; pass < 3; pass++ {
		x := a.Alloc(10)
		y := a.Alloc(1 << 17) // forces a second chunk on the first pass
		z := a.Alloc(5)
		for i := range x {
			x[i] = 1
		}
		for i := range y {
			y[i] = 2
		}
		for i := range z {
			z[i] = 3
		}
		if x[9] != 1 || y[0] != 2 || z[0] != 3 || cap(x) != 10 {
			t.Fatalf("pass %d: buffers overlap", pass)
		}
		a.Reset()
		if pass > 0 && len(a.chunks) != 1 {
			t.Errorf("pass %d: %d chunks after Reset, want 1", pass, len(a.chunks))
		}
	}
}

func TestParallelApply(t *testing.T) {
	x := make([]float32, 100000)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	ParallelApply(x, ReLU)
	for i, v := range x {
		if want := max(float32(i%7)-3, 0); v != want {
			t.Fatalf("x[%d] = %g, want %g", i, v, want)
		}
	}
}

// BenchmarkAttention measures one layer's attention of ViT-B/32 at batch
// 8 (8 sequences of 50 positions, 12 heads of 64) reading a fused QKV
// buffer, as the image tower does.
func BenchmarkAttention(b *testing.B) {
	s := AttentionShape{Batch: 8, Seq: 50, Heads: 12, HeadDim: 64, Stride: 3 * 768}
	rng := rand.New(rand.NewPCG(3, 3))
	qkv := make([]float32, s.Batch*s.Seq*s.Stride)
	for i := range qkv {
		qkv[i] = float32(rng.NormFloat64())
	}
	dst := make([]float32, s.Batch*s.Seq*768)
	p := NewPool(0)
	defer p.Close()
	for b.Loop() {
		Attention(dst, qkv, qkv[768:], qkv[2*768:], s, p)
	}
	flops := 4 * float64(s.Batch*s.Heads*s.Seq*s.Seq*s.HeadDim)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
