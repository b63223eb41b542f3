//go:build !purego

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMicro measures the bare micro-kernels with A and B in cache.
func BenchmarkMicro(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, ks := range kernelSets() {
		for _, r := range []int{ks.mr, 1} {
			for _, k := range []int{64, 256} {
				b.Run(fmt.Sprintf("%s/r%d/k%d", ks.name, r, k), func(b *testing.B) {
					a := randSlice(rng, r*k)
					w := randSlice(rng, k*nr)
					c := make([]float32, r*nr)
					cpu0 := cpuSeconds()
					for b.Loop() {
						ks.micro(r, k, a, k, w, c, nr, nil, nr, true)
					}
					reportFlops(b, shape{r, nr, k}, cpu0, 0)
				})
			}
		}
	}
}
