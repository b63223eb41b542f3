package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are m×k×n products of CLIP ViT-B/32 inference.
var benchShapes = []shape{
	{50, 768, 768}, {1600, 3072, 768}, {1600, 768, 3072}, {77, 512, 512},
	{1, 512, 512}, {8, 2048, 512},
}

// reportFlops reports GFLOP/s over wall time and, as GFLOP/cpu-s, over
// the CPU time the process used since cpu0 (throughput per busy core,
// which is less disturbed by other processes on a shared machine).
func reportFlops(b *testing.B, s shape, cpu0 float64) {
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkMul measures Packed.Mul with bias on a Pool of GOMAXPROCS
// workers (use -cpu 1 for one core).
func BenchmarkMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) {
			x := randSlice(rng, s.m*s.k)
			pk := Pack(randSlice(rng, s.n*s.k), s.n, s.k)
			bias := randSlice(rng, s.n)
			dst := make([]float32, s.m*s.n)
			pool := NewPool(0)
			defer pool.Close()
			pk.Mul(dst, x, s.m, bias, pool)
			cpu0 := cpuSeconds()
			for b.Loop() {
				pk.Mul(dst, x, s.m, bias, pool)
			}
			reportFlops(b, s, cpu0)
		})
	}
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
			reportFlops(b, tc.s, cpu0)
		})
	}
}

// BenchmarkMulBF16 measures PackedBF16.Mul like BenchmarkMul.
func BenchmarkMulBF16(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) {
			x := randSlice(rng, s.m*s.k)
			pk := PackBF16(randSlice(rng, s.n*s.k), s.n, s.k)
			bias := randSlice(rng, s.n)
			dst := make([]float32, s.m*s.n)
			pool := NewPool(0)
			defer pool.Close()
			pk.Mul(dst, x, s.m, bias, pool)
			cpu0 := cpuSeconds()
			for b.Loop() {
				pk.Mul(dst, x, s.m, bias, pool)
			}
			reportFlops(b, s, cpu0)
		})
	}
}
