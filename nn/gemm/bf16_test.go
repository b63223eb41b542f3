package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func roundBF16(s []float32) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = math.Float32frombits(toBF16(v) << 16)
	}
	return r
}

// TestBF16Kernels checks every bf16 kernel through the driver against
// float64 sums of the bf16-rounded inputs (tight, fp32 accumulation
// tolerance) and against the exact float32 inputs (bf16 tolerance:
// bf16 keeps 8 significant bits, so each product is off by at most
// 2·2⁻⁸ relative).
func TestBF16Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	shapes := append(append(append(randShapes(rng, 40), rowShapes()...), edgeShapes...), clipShapes...)
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	for _, ks := range bf16KernelSets() {
		worst := 0.0
		for si, s := range shapes {
			big := s.m*s.n*s.k > 1<<24
			if big && (ks.name == "go" || testing.Short()) {
				continue
			}
			x := randSlice(rng, s.m*s.k)
			w := randSlice(rng, s.n*s.k)
			var bias []float32
			if si%2 == 0 {
				bias = randSlice(rng, s.n)
			}
			pk := PackBF16(w, s.n, s.k)
			dst := nanSlice(s.m * s.n)
			pool := pools[si%len(pools)]
			if si%3 == 2 {
				forceParallel(pool, ks, dst, x, pk.w, bias, s.m, s.n, (s.k+1)/2, s.k)
			} else {
				execute(pool, ks, product{dst: dst, ldd: s.n, x: x, lda: s.k, w: pk.w, bias: bias, m: s.m, n: s.n, k: (s.k + 1) / 2, kx: s.k})
			}
			sample := 0
			if s.m*s.n*s.k > 1<<21 {
				sample = 2000
			}
			c := checker{t: t, name: ks.name + " vs bf16 inputs", a: roundBF16(x), bt: roundBF16(w), bias: bias,
				m: s.m, n: s.n, k: s.k, sample: sample}
			c.check(dst)
			worst = max(worst, c.worstULPs)
			checkLoose(t, ks.name, dst, x, w, bias, s, sample)
		}
		t.Logf("bf16 kernel %s: %d shapes, worst |err|/(Σ|terms|·√k) vs rounded inputs = %.3g", ks.name, len(shapes), worst)
	}
}

// checkLoose compares with the float32 inputs: |err| ≤ 8e-3·Σ|terms|.
func checkLoose(t *testing.T, name string, got, x, w, bias []float32, s shape, sample int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 3))
	count := s.m * s.n
	if sample > 0 {
		count = sample
	}
	for e := 0; e < count; e++ {
		idx := e
		if sample > 0 {
			idx = rng.IntN(s.m * s.n)
		}
		i, j := idx/s.n, idx%s.n
		var sum, mag float64
		for p := 0; p < s.k; p++ {
			v := float64(x[i*s.k+p]) * float64(w[j*s.k+p])
			sum += v
			mag += math.Abs(v)
		}
		if bias != nil {
			sum += float64(bias[j])
		}
		if d := math.Abs(float64(got[idx]) - sum); !(d <= 8e-3*mag+1e-6*math.Sqrt(float64(s.k))*mag) {
			t.Fatalf("%s vs float32 %v: [%d,%d] = %g, want %g ± %.3g", name, s, i, j, got[idx], sum, 8e-3*mag)
		}
	}
}

// TestCvtBF16 checks that every bf16 converter rounds like toBF16
// (nearest, ties to even), including exact ties and odd lengths.
func TestCvtBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	src := make([]float32, 101)
	for i := range src {
		bits := math.Float32bits(float32(rng.NormFloat64() * 100))
		switch i % 4 {
		case 0:
			bits = bits&^0xffff | 0x8000 // tie
		case 1:
			bits = bits&^0xffff | 0x18000 // tie, odd
		}
		src[i] = math.Float32frombits(bits)
	}
	src[3] = float32(math.Inf(-1))
	for _, ks := range bf16KernelSets() {
		for _, n := range []int{0, 1, 16, 31, 32, 101} {
			dst := nanSlice(51)
			ks.cvt(dst[:(n+1)/2], src[:n])
			for i := 0; i < (n+1)/2; i++ {
				b := math.Float32bits(dst[i])
				lo, hi := b&0xffff, b>>16
				if want := toBF16(src[2*i]); lo != want {
					t.Fatalf("%s n=%d: element %d = %#04x, want %#04x (from %#08x)", ks.name, n, 2*i, lo, want, math.Float32bits(src[2*i]))
				}
				want := uint32(0)
				if 2*i+1 < n {
					want = toBF16(src[2*i+1])
				}
				if hi != want {
					t.Fatalf("%s n=%d: element %d = %#04x, want %#04x", ks.name, n, 2*i+1, hi, want)
				}
			}
			if n < 101 && !math.IsNaN(float64(dst[(n+1)/2])) {
				t.Fatalf("%s n=%d wrote past its output", ks.name, n)
			}
		}
	}
	if got := toBF16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("toBF16(NaN) = %#04x, not a NaN", got)
	}
}

// TestBF16API checks PackedBF16.Mul on a Pool: results, no allocation.
func TestBF16API(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	pool := NewPool(0)
	defer pool.Close()
	for _, s := range []shape{{50, 768, 768}, {3, 5, 7}, {77, 512, 512}, {1, 512, 512}} {
		x := randSlice(rng, s.m*s.k)
		w := randSlice(rng, s.n*s.k)
		bias := randSlice(rng, s.n)
		pk := PackBF16(w, s.n, s.k)
		if pk.N() != s.n || pk.K() != s.k {
			t.Fatalf("PackBF16 %v: N, K = %d, %d", s, pk.N(), pk.K())
		}
		dst := nanSlice(s.m * s.n)
		pk.Mul(dst, x, s.m, bias, pool)
		(&checker{t: t, name: "PackedBF16.Mul", a: roundBF16(x), bt: roundBF16(w), bias: bias, m: s.m, n: s.n, k: s.k}).check(dst)
		if a := testing.AllocsPerRun(10, func() { pk.Mul(dst, x, s.m, bias, pool) }); a != 0 {
			t.Errorf("PackedBF16.Mul %v: %v allocations per call", s, a)
		}
	}
	t.Logf("bf16 kernel %s", KernelBF16())
}
