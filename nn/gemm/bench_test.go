package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// benchShapes are m×k×n products of CLIP ViT-B/32 inference.
var benchShapes = []shape{
	{50, 768, 768}, {1600, 3072, 768}, {1600, 768, 3072}, {77, 512, 512},
	{1, 512, 512}, {8, 2048, 512},
}

// reportFlops reports GFLOP/s over wall time; as best-GFLOP/s, over the
// fastest single call (best is its duration, 0 if not timed); and, as
// GFLOP/cpu-s, over the CPU time the process used since cpu0 (throughput
// per busy core). The last two are less disturbed by other processes on a
// shared machine.
func reportFlops(b *testing.B, s shape, cpu0 float64, best time.Duration) {
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if best > 0 {
		b.ReportMetric(flops/best.Seconds()/1e9, "best-GFLOP/s")
	}
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
	}
}

// timed runs f and lowers *best to its duration if shorter.
func timed(best *time.Duration, f func()) {
	t0 := time.Now()
	f()
	if d := time.Since(t0); *best == 0 || d < *best {
		*best = d
	}
}

type linear interface {
	Mul(dst, x []float32, m int, bias []float32, pool *Pool)
}

// benchLinear measures a packed product with bias on Pools of 1 worker
// (w1) and of GOMAXPROCS workers (wN).
func benchLinear(b *testing.B, pack func(w []float32, n, k int) linear) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		x := randSlice(rng, s.m*s.k)
		pk := pack(randSlice(rng, s.n*s.k), s.n, s.k)
		bias := randSlice(rng, s.n)
		dst := make([]float32, s.m*s.n)
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%dx%dx%d/w%d", s.m, s.k, s.n, workers), func(b *testing.B) {
				pool := NewPool(workers)
				defer pool.Close()
				pk.Mul(dst, x, s.m, bias, pool)
				var best time.Duration
				cpu0 := cpuSeconds()
				for b.Loop() {
					timed(&best, func() { pk.Mul(dst, x, s.m, bias, pool) })
				}
				reportFlops(b, s, cpu0, best)
			})
		}
	}
}

// BenchmarkMul measures Packed.Mul.
func BenchmarkMul(b *testing.B) {
	benchLinear(b, func(w []float32, n, k int) linear { return Pack(w, n, k) })
}

// BenchmarkAttention measures the on-the-fly packed products of one
// attention head: Q·Kᵀ (MulT) and P·V (Mul).
func BenchmarkAttention(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, tc := range []struct {
		name string
		s    shape
		t    bool
	}{{"QKt-50x64x50", shape{50, 50, 64}, true}, {"PV-50x50x64", shape{50, 64, 50}, false}} {
		b.Run(tc.name, func(b *testing.B) {
			a := randSlice(rng, tc.s.m*tc.s.k)
			bm := randSlice(rng, tc.s.n*tc.s.k)
			dst := make([]float32, tc.s.m*tc.s.n)
			pool := NewPool(0)
			defer pool.Close()
			cpu0 := cpuSeconds()
			for b.Loop() {
				if tc.t {
					MulT(dst, a, bm, tc.s.m, tc.s.n, tc.s.k, pool)
				} else {
					Mul(dst, a, bm, tc.s.m, tc.s.n, tc.s.k, pool)
				}
			}
			reportFlops(b, tc.s, cpu0, 0)
		})
	}
}

// BenchmarkMulBF16 measures PackedBF16.Mul.
func BenchmarkMulBF16(b *testing.B) {
	benchLinear(b, func(w []float32, n, k int) linear { return PackBF16(w, n, k) })
}
