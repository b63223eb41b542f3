package imageio

import (
	"fmt"
	"testing"
)

func benchImage(w, h int) *RGB {
	img := NewRGB(w, h)
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + i/w)
	}
	return img
}

// BenchmarkPreprocess measures the CLIP pipeline (bicubic resize to short
// side 224, crop, normalise) on a VGA photo and a 12-megapixel photo.
func BenchmarkPreprocess(b *testing.B) {
	cfg := DefaultProcessorConfig()
	for _, sz := range [][2]int{{640, 480}, {4000, 3000}} {
		img := benchImage(sz[0], sz[1])
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			dst := make([]float32, 3*224*224)
			b.ReportAllocs()
			for b.Loop() {
				dst = cfg.Preprocess(img, dst)
			}
		})
	}
}

// BenchmarkDecode measures decoding of two CLIP fixture images.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"chelsea.png", "astronaut.jpg"} {
		data := fixture(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := Decode(data, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
