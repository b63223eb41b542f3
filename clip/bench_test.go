package clip

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkViTB32 runs a full-size ViT-B/32 (DefaultConfig) with random
// weights, so it needs no download, in every precision:
//
//	go test -run '^$' -bench ViTB32 ./clip/
//	go test -run '^$' -bench 'ViTB32/fp32/image' -benchtime 20x -count 5 ./clip/
func BenchmarkViTB32(b *testing.B) {
	m, err := NewRandom(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	cfg := m.Config()
	r := rand.New(rand.NewPCG(1, 2))
	images := func(n int) [][]float32 {
		out := make([][]float32, n)
		for i := range out {
			out[i] = make([]float32, 3*224*224)
			for j := range out[i] {
				out[i][j] = float32(r.NormFloat64())
			}
		}
		return out
	}
	texts := func(n, tokens int) [][]int {
		ids := make([][]int, n)
		for i := range ids {
			ids[i] = make([]int, tokens)
			ids[i][0] = cfg.Text.BOS
			for j := 1; j < tokens-1; j++ {
				ids[i][j] = 1000 + r.IntN(cfg.Text.VocabSize-2000)
			}
			ids[i][tokens-1] = cfg.Text.EOS
		}
		return ids
	}
	for _, p := range []Precision{FP32, BF16, Int8} {
		b.Run(p.String(), func(b *testing.B) {
			if err := m.SetPrecision(p); err != nil {
				b.Fatal(err)
			}
			for _, n := range []int{1, 8, 32} {
				px := images(n)
				b.Run(fmt.Sprintf("image/batch=%d", n), func(b *testing.B) {
					for b.Loop() {
						if _, err := m.ImageFeatures(px); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
				})
			}
			for _, s := range []struct{ n, tokens int }{{1, 10}, {32, 77}} {
				ids := texts(s.n, s.tokens)
				b.Run(fmt.Sprintf("text/%dx%d", s.n, s.tokens), func(b *testing.B) {
					for b.Loop() {
						if _, err := m.TextFeatures(ids); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
				})
			}
		})
	}
}
