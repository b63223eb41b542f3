package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

type shape struct{ m, n, k int }

// clipShapes are the products of CLIP ViT-B/32 (m×k·(n×k)ᵀ) at batch 1
// (text: 77 tokens, image: 50 tokens) and at batch 32 (1600 tokens).
var clipShapes = []shape{
	{50, 768, 768}, {50, 2304, 768}, {50, 3072, 768}, {50, 768, 3072},
	{77, 512, 512}, {77, 1536, 512}, {77, 2048, 512}, {77, 512, 2048},
	{1, 512, 512}, {1, 512, 768}, {8, 2048, 512},
	{50, 50, 64}, {50, 64, 50}, {77, 77, 64},
	{1600, 3072, 768}, {1600, 768, 3072},
}

// edgeShapes straddle the register block (14 or 6 rows, 32 columns) and
// the k blocking (kc = 256).
var edgeShapes = []shape{
	{1, 1, 1}, {14, 32, 1}, {15, 33, 2}, {13, 31, 255}, {28, 64, 256}, {29, 65, 257},
	{6, 16, 512}, {7, 17, 513}, {113, 40, 300}, {230, 70, 70}, {3, 100, 1000},
}

// rowShapes have every row count 1..15, so that each row variant of the
// micro-kernels runs, with both halves of a 32-column panel ragged.
func rowShapes() []shape {
	var s []shape
	for m := 1; m <= 15; m++ {
		s = append(s, shape{m, 45 + m%2*4, 19 + m})
	}
	return s
}

func randShapes(rng *rand.Rand, count int) []shape {
	s := make([]shape, count)
	for i := range s {
		s[i] = shape{1 + rng.IntN(70), 1 + rng.IntN(70), 1 + rng.IntN(70)}
	}
	return s
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// checker compares a product against a float64 evaluation of
// Σ a[i,p]·bt[j,p] + bias[j] (bt is [n×k]).
type checker struct {
	t                  *testing.T
	name               string
	a, bt, bias        []float32
	m, n, k            int
	sample             int // check this many random entries; 0 = all
	checked, worstULPs float64
}

func (c *checker) check(got []float32) {
	c.t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	count := c.m * c.n
	if c.sample > 0 {
		count = c.sample
	}
	tol := 1e-6 * math.Sqrt(float64(c.k))
	bad := 0
	for e := 0; e < count; e++ {
		idx := e
		if c.sample > 0 {
			idx = rng.IntN(c.m * c.n)
		}
		i, j := idx/c.n, idx%c.n
		var sum, mag float64
		for p := 0; p < c.k; p++ {
			v := float64(c.a[i*c.k+p]) * float64(c.bt[j*c.k+p])
			sum += v
			mag += math.Abs(v)
		}
		if c.bias != nil {
			sum += float64(c.bias[j])
			mag += math.Abs(float64(c.bias[j]))
		}
		diff := math.Abs(float64(got[idx]) - sum)
		if !(diff <= tol*mag+1e-30) {
			if bad < 5 {
				c.t.Errorf("%s m=%d n=%d k=%d: [%d,%d] = %g, want %g (|diff| %.3g > %.3g)",
					c.name, c.m, c.n, c.k, i, j, got[idx], sum, diff, tol*mag)
			}
			bad++
		}
		if mag > 0 {
			c.worstULPs = max(c.worstULPs, diff/mag/math.Sqrt(float64(c.k)))
		}
	}
	if bad > 0 {
		c.t.Errorf("%s m=%d n=%d k=%d: %d of %d entries wrong", c.name, c.m, c.n, c.k, bad, count)
	}
}

// forceParallel runs a product on all of pool's workers whatever its
// size, so that small ragged shapes exercise the parallel split too.
func forceParallel(pool *Pool, ks *kernelSet, dst, x, w, bias []float32, m, n, k, kx int) {
	if pool.workers < 2 {
		execute(pool, ks, product{dst: dst, ldd: n, x: x, lda: kx, w: w, bias: bias, m: m, n: n, k: k, kx: kx})
		return
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	pool.job = newJob(ks, product{dst: dst, ldd: n, x: x, lda: kx, w: w, bias: bias, m: m, n: n, k: k, kx: kx}, pool.workers)
	pool.run(pool.workers)
	pool.job = job{}
}

func transpose(b []float32, rows, cols int) []float32 {
	t := make([]float32, len(b))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = b[r*cols+c]
		}
	}
	return t
}

// TestKernels runs every kernel usable on this CPU through the blocked
// driver on random, edge and CLIP shapes, with and without bias, serially
// and on pools of 2 and 3 workers, against float64.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := append(append(append(randShapes(rng, 60), rowShapes()...), edgeShapes...), clipShapes...)
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3), {}}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	for _, ks := range kernelSets() {
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
			pk := Pack(w, s.n, s.k)
			pool := pools[si%len(pools)]
			dst := nanSlice(s.m * s.n)
			if si%3 == 2 {
				forceParallel(pool, ks, dst, x, pk.w, bias, s.m, s.n, s.k, s.k)
			} else {
				execute(pool, ks, product{dst: dst, ldd: s.n, x: x, lda: s.k, w: pk.w, bias: bias, m: s.m, n: s.n, k: s.k, kx: s.k})
			}
			c := checker{t: t, name: ks.name, a: x, bt: w, bias: bias, m: s.m, n: s.n, k: s.k}
			if s.m*s.n*s.k > 1<<21 {
				c.sample = 3000
			}
			c.check(dst)
			worst = max(worst, c.worstULPs)
		}
		t.Logf("kernel %s: %d shapes, worst |err|/(Σ|terms|·√k) = %.3g", ks.name, len(shapes), worst)
	}
}

// TestAPI checks Packed.Mul, MulT and Mul (with the active kernel) on
// random and attention shapes, with nil and real pools.
func TestAPI(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pool := NewPool(0)
	defer pool.Close()
	shapes := append(randShapes(rng, 20), shape{50, 50, 64}, shape{50, 64, 50}, shape{77, 77, 64}, shape{77, 64, 77}, shape{300, 130, 90})
	for i, s := range shapes {
		p := pool
		if i%3 == 0 {
			p = nil
		}
		a := randSlice(rng, s.m*s.k)
		bt := randSlice(rng, s.n*s.k)
		bias := randSlice(rng, s.n)
		dst := nanSlice(s.m * s.n)
		pk := Pack(bt, s.n, s.k)
		pk.Mul(dst, a, s.m, bias, p)
		(&checker{t: t, name: "Packed.Mul", a: a, bt: bt, bias: bias, m: s.m, n: s.n, k: s.k}).check(dst)
		un := nanSlice(s.n * s.k)
		pk.Unpack(un)
		if !slices.Equal(un, bt[:s.n*s.k]) {
			t.Errorf("Unpack %v does not give back the packed matrix", s)
		}

		dst = nanSlice(s.m * s.n)
		MulT(dst, a, bt, s.m, s.n, s.k, p)
		(&checker{t: t, name: "MulT", a: a, bt: bt, m: s.m, n: s.n, k: s.k}).check(dst)

		dst = nanSlice(s.m * s.n)
		Mul(dst, a, transpose(bt, s.n, s.k), s.m, s.n, s.k, p)
		(&checker{t: t, name: "Mul", a: a, bt: bt, m: s.m, n: s.n, k: s.k}).check(dst)
	}
}

// TestStrided checks MulTStrided and MulStrided on matrices that are
// column ranges of wider ones (as one head of a fused QKV buffer): the
// results must equal the contiguous products, and the elements between
// the rows of dst must stay untouched.
func TestStrided(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := NewPool(0)
	defer pool.Close()
	// embed copies rows×cols m into a buffer with row stride ld, the rest NaN.
	embed := func(m []float32, rows, cols, ld int) []float32 {
		out := nanSlice(max(0, (rows-1)*ld+cols))
		for i := 0; i < rows; i++ {
			copy(out[i*ld:i*ld+cols], m[i*cols:i*cols+cols])
		}
		return out
	}
	shapes := append(randShapes(rng, 10), shape{50, 50, 64}, shape{50, 64, 50}, shape{1, 77, 64}, shape{300, 130, 90}, shape{40, 700, 600})
	for i, s := range shapes {
		p := pool
		if i%2 == 1 {
			p = nil
		}
		pad := 1 + rng.IntN(40)
		a := randSlice(rng, s.m*s.k)
		bt := randSlice(rng, s.n*s.k)
		b := transpose(bt, s.n, s.k)
		for _, mode := range []string{"MulTStrided", "MulStrided"} {
			lda, ldb, ldd := s.k+pad, s.k+2*pad, s.n+3*pad
			dst := nanSlice(max(0, (s.m-1)*ldd+s.n))
			if mode == "MulTStrided" {
				MulTStrided(dst, ldd, embed(a, s.m, s.k, lda), lda, embed(bt, s.n, s.k, ldb), ldb, s.m, s.n, s.k, p)
			} else {
				ldb = s.n + 2*pad
				MulStrided(dst, ldd, embed(a, s.m, s.k, lda), lda, embed(b, s.k, s.n, ldb), ldb, s.m, s.n, s.k, p)
			}
			got := make([]float32, s.m*s.n)
			for r := 0; r < s.m; r++ {
				copy(got[r*s.n:r*s.n+s.n], dst[r*ldd:r*ldd+s.n])
				if r+1 < s.m {
					for _, v := range dst[r*ldd+s.n : (r+1)*ldd] {
						if !math.IsNaN(float64(v)) {
							t.Fatalf("%s %v: wrote between rows of dst", mode, s)
						}
					}
				}
			}
			(&checker{t: t, name: mode, a: a, bt: bt, m: s.m, n: s.n, k: s.k}).check(got)
		}
	}
}

// TestZeroK checks that k = 0 yields the bias (or zeros).
func TestZeroK(t *testing.T) {
	p := Pack(nil, 3, 0)
	dst := nanSlice(6)
	p.Mul(dst, nil, 2, []float32{1, 2, 3}, nil)
	want := []float32{1, 2, 3, 1, 2, 3}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("k=0 with bias: got %v, want %v", dst, want)
		}
	}
	p.Mul(dst, nil, 2, nil, nil)
	for i := range dst {
		if dst[i] != 0 {
			t.Fatalf("k=0 without bias: got %v, want zeros", dst)
		}
	}
}

// TestBadShapes checks that short slices are reported, not written past.
func TestBadShapes(t *testing.T) {
	p := Pack(make([]float32, 12), 3, 4)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"Pack short w", func() { Pack(make([]float32, 11), 3, 4) }},
		{"Mul short dst", func() { p.Mul(make([]float32, 5), make([]float32, 8), 2, nil, nil) }},
		{"Mul short x", func() { p.Mul(make([]float32, 6), make([]float32, 7), 2, nil, nil) }},
		{"Mul short bias", func() { p.Mul(make([]float32, 6), make([]float32, 8), 2, make([]float32, 2), nil) }},
		{"MulT short b", func() { MulT(make([]float32, 6), make([]float32, 8), make([]float32, 11), 2, 3, 4, nil) }},
		{"Mul negative", func() { Mul(nil, nil, nil, -1, 3, 4, nil) }},
		{"MulTStrided short a", func() {
			MulTStrided(make([]float32, 6), 3, make([]float32, 8), 5, make([]float32, 12), 4, 2, 3, 4, nil)
		}},
		{"MulStrided stride below width", func() { MulStrided(make([]float32, 6), 2, make([]float32, 8), 4, make([]float32, 12), 3, 2, 3, 4, nil) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.fn()
		}()
	}
}

// TestNoAlloc proves that products on a warm Pool do not allocate.
func TestNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := NewPool(2)
	defer pool.Close()
	for _, s := range []shape{{50, 768, 768}, {1, 512, 512}, {300, 200, 600}, {50, 50, 64}} {
		x := randSlice(rng, s.m*s.k)
		w := randSlice(rng, s.n*s.k)
		bias := randSlice(rng, s.n)
		pk := Pack(w, s.n, s.k)
		dst := make([]float32, s.m*s.n)
		pk.Mul(dst, x, s.m, bias, pool)
		if a := testing.AllocsPerRun(20, func() { pk.Mul(dst, x, s.m, bias, pool) }); a != 0 {
			t.Errorf("Packed.Mul %v: %v allocations per call", s, a)
		}
		MulT(dst, x, w, s.m, s.n, s.k, pool)
		if a := testing.AllocsPerRun(20, func() { MulT(dst, x, w, s.m, s.n, s.k, pool) }); a != 0 {
			t.Errorf("MulT %v: %v allocations per call", s, a)
		}
		Mul(dst, x, w, s.m, s.n, s.k, pool)
		if a := testing.AllocsPerRun(20, func() { Mul(dst, x, w, s.m, s.n, s.k, pool) }); a != 0 {
			t.Errorf("Mul %v: %v allocations per call", s, a)
		}
	}
}

// TestConcurrent runs products on one Packed from several goroutines,
// sharing one Pool and using their own, and checks every result equals the
// serial one bit for bit.
func TestConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const m, n, k = 37, 70, 90
	x := randSlice(rng, m*k)
	w := randSlice(rng, n*k)
	bias := randSlice(rng, n)
	pk := Pack(w, n, k)
	want := make([]float32, m*n)
	pk.Mul(want, x, m, bias, nil)
	shared := NewPool(2)
	defer shared.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool := shared
			if g%2 == 1 {
				pool = NewPool(2)
				defer pool.Close()
			}
			dst := make([]float32, m*n)
			for it := 0; it < 20; it++ {
				clear(dst)
				pk.Mul(dst, x, m, bias, pool)
				for i := range dst {
					if dst[i] != want[i] {
						errs <- fmt.Errorf("goroutine %d iteration %d: dst[%d] = %g, want %g", g, it, i, dst[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConcurrentSmall runs attention-sized MulT and Mul (which run on
// their callers, concurrently) and a large product (which takes the
// workers) from many goroutines on one Pool, checking against serial
// results bit for bit.
func TestConcurrentSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const m, n, k = 50, 50, 64
	a, b := randSlice(rng, m*k), randSlice(rng, n*k)
	wantT, wantN := make([]float32, m*n), make([]float32, m*n)
	MulT(wantT, a, b, m, n, k, nil)
	Mul(wantN, a, b, m, n, k, nil)
	const bm, bn, bk = 200, 96, 300
	bx, bw := randSlice(rng, bm*bk), randSlice(rng, bn*bk)
	pk := Pack(bw, bn, bk)
	wantBig := make([]float32, bm*bn)
	pk.Mul(wantBig, bx, bm, nil, nil)
	pool := NewPool(2)
	defer pool.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float32, bm*bn)
			for it := 0; it < 30; it++ {
				var want []float32
				switch (g + it) % 3 {
				case 0:
					MulT(dst, a, b, m, n, k, pool)
					want = wantT
				case 1:
					Mul(dst, a, b, m, n, k, pool)
					want = wantN
				default:
					pk.Mul(dst, bx, bm, nil, pool)
					want = wantBig
				}
				for i := range want {
					if dst[i] != want[i] {
						errs <- fmt.Errorf("goroutine %d iteration %d: dst[%d] = %g, want %g", g, it, i, dst[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestZeroPool checks that a zero Pool runs products on the caller.
func TestZeroPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var pool Pool
	const m, n, k = 120, 70, 300
	a, bt := randSlice(rng, m*k), randSlice(rng, n*k)
	dst := nanSlice(m * n)
	MulT(dst, a, bt, m, n, k, &pool)
	(&checker{t: t, name: "zero pool", a: a, bt: bt, m: m, n: n, k: k}).check(dst)
	pool.Close()
}

// TestClosedPool checks that a closed Pool still computes, serially.
func TestClosedPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pool := NewPool(2)
	pool.Close()
	pool.Close()
	const m, n, k = 100, 100, 100
	a, bt := randSlice(rng, m*k), randSlice(rng, n*k)
	dst := nanSlice(m * n)
	MulT(dst, a, bt, m, n, k, pool)
	(&checker{t: t, name: "closed pool", a: a, bt: bt, m: m, n: n, k: k}).check(dst)
}

func TestKernelName(t *testing.T) {
	sets := kernelSets()
	if want := sets[len(sets)-1].name; Kernel() != want {
		t.Errorf("Kernel() = %q, want %q (best of %d usable)", Kernel(), want, len(sets))
	}
	t.Logf("kernel %s, GOMAXPROCS %d", Kernel(), runtime.GOMAXPROCS(0))
}

// goTeam is a Team of plain goroutines started per call, for
// TestPoolOnTeam.
type goTeam struct {
	workers int
	calls   atomic.Int64
}

func (g *goTeam) Workers() int { return g.workers }

func (g *goTeam) RunTeam(t TeamTask) {
	g.calls.Add(1)
	var wg sync.WaitGroup
	for w := 1; w < g.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Work(w)
		}()
	}
	t.Work(0)
	t.Work(0) // a second call finds the product done
	wg.Wait()
}

// TestPoolOnTeam checks products on a pool that borrows a team's
// goroutines: the large ones go to the team, and all are exact.
func TestPoolOnTeam(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	team := &goTeam{workers: 3}
	pool := NewPoolOn(team)
	for _, s := range []shape{{50, 768, 768}, {10, 512, 2048}, {300, 130, 90}, {3, 5, 7}} {
		a, bt, bias := randSlice(rng, s.m*s.k), randSlice(rng, s.n*s.k), randSlice(rng, s.n)
		dst := nanSlice(s.m * s.n)
		Pack(bt, s.n, s.k).Mul(dst, a, s.m, bias, pool)
		(&checker{t: t, name: "Packed.Mul on a team", a: a, bt: bt, bias: bias, m: s.m, n: s.n, k: s.k}).check(dst)
	}
	if team.calls.Load() != 3 {
		t.Errorf("the team ran %d products, want 3 (the large ones)", team.calls.Load())
	}
	pool.Close()
	dst := nanSlice(50 * 768)
	a, bt := randSlice(rng, 50*768), randSlice(rng, 768*768)
	Pack(bt, 768, 768).Mul(dst, a, 50, nil, pool)
	(&checker{t: t, name: "Packed.Mul after Close", a: a, bt: bt, m: 50, n: 768, k: 768}).check(dst)
	if team.calls.Load() != 3 {
		t.Error("a closed pool still used its team")
	}
}
