package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sightsearch/sight/internal/testimg"
)

// syntheticPhoto makes a camera-like test image: smooth gradients, blobs,
// hard edges and sensor-like noise.
func syntheticPhoto(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(6*fx+2*fy)
			g := 128 + 90*math.Cos(5*fy-3*fx*fx)
			b := 128 + 80*math.Sin(9*fx*fy)
			if (x/97+y/61)%5 == 0 {
				r, g, b = 240-r/2, g/3, 255-b
			}
			n := rng.NormFloat64() * 6
			img.Set(x, y, color.RGBA{clampF(r + n), clampF(g + n), clampF(b + n), 255})
		}
	}
	return img
}

func clampF(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }

func benchFiles(b *testing.B) map[string][]byte {
	b.Helper()
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, syntheticPhoto(4000, 3000), &stdjpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return map[string][]byte{
		"astronaut": mustRead(b, clipDir+"/images/astronaut.jpg"),
		"12MP":      buf.Bytes(),
	}
}

func BenchmarkDecode(b *testing.B) {
	files := benchFiles(b)
	for _, name := range []string{"astronaut", "12MP"} {
		data := files[name]
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		pixels := int64(cfg.Width * cfg.Height)
		b.Run(name+"/sight", func(b *testing.B) {
			b.SetBytes(pixels * 3) // output RGB bytes per op
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/sight-scale8", func(b *testing.B) {
			b.SetBytes(pixels * 3) // full-size equivalent, for comparison
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(data), &Options{Scale: 8}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/sight-scale4", func(b *testing.B) {
			b.SetBytes(pixels * 3) // full-size equivalent, for comparison
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(data), &Options{Scale: 4}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/stdlib", func(b *testing.B) {
			b.SetBytes(pixels * 3)
			for b.Loop() {
				if _, err := stdjpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCamera decodes a 12-megapixel camera-like photo (4000x3000,
// 4:2:0, quality 90) at each scale and reports the time per photo in ms,
// with DecodeBytes (no copy of the data) and Decode from a bytes.Reader.
// Run with -cpu 1 for the single-core figure.
func BenchmarkCamera(b *testing.B) {
	data := testimg.CameraJPEG(4000, 3000, 1)
	for _, scale := range []int{8, 4, 2, 1} {
		opts := &Options{Scale: scale}
		run := func(b *testing.B, decode func() error) {
			start := time.Now()
			for b.Loop() {
				if err := decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/photo")
		}
		b.Run(fmt.Sprintf("scale1_%d/bytes", scale), func(b *testing.B) {
			run(b, func() error { _, err := DecodeBytes(data, opts); return err })
		})
		b.Run(fmt.Sprintf("scale1_%d/reader", scale), func(b *testing.B) {
			run(b, func() error { _, err := Decode(bytes.NewReader(data), opts); return err })
		})
	}
}
