package clip

import (
	"math"
	"testing"
)

// BenchmarkViTB32 runs a full-size ViT-B/32 (DefaultConfig) with random
// weights, so it needs no download.
func BenchmarkViTB32(b *testing.B) {
	m, err := NewRandom(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	image := make([]float32, 3*224*224)
	for i := range image {
		image[i] = float32(math.Sin(float64(i) * 0.01))
	}
	images := func(n int) [][]float32 {
		out := make([][]float32, n)
		for i := range out {
			out[i] = image
		}
		return out
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	}
	b.Run("image/batch=1", func(b *testing.B) {
		px := images(1)
		for b.Loop() {
			if _, err := m.ImageFeatures(px); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("image/batch=8", func(b *testing.B) {
		px := images(8)
		for b.Loop() {
			if _, err := m.ImageFeatures(px); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(8*b.N), "ms/image")
	})
	b.Run("text/short", func(b *testing.B) {
		ids := [][]int{{49406, 320, 1125, 539, 320, 2368, 49407}} // "a photo of a cat"
		for b.Loop() {
			if _, err := m.TextFeatures(ids); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}
