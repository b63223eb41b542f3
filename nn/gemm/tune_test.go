package gemm

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestTune(t *testing.T) {
	if testing.Short() || !testing.Verbose() {
		t.Skip()
	}
	rng := rand.New(rand.NewPCG(1, 1))
	pool := NewPool(1)
	for _, s := range []shape{{112, 3072, 768}, {112, 768, 3072}, {50, 768, 768}, {336, 3072, 768}} {
		x := randSlice(rng, s.m*s.k)
		pk := Pack(randSlice(rng, s.n*s.k), s.n, s.k)
		bias := randSlice(rng, s.n)
		dst := make([]float32, s.m*s.n)
		best := time.Hour
		for i := 0; i < 40; i++ {
			t0 := time.Now()
			pk.Mul(dst, x, s.m, bias, pool)
			best = min(best, time.Since(t0))
		}
		t.Logf("%v: %.1f GFLOP/s (best of 40)", s, 2*float64(s.m*s.n*s.k)/best.Seconds()/1e9)
	}
}
