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

// cameraJPEG encodes a camera-like w x h photo like library/ingest_test.go's
// cameraJPEG: a smooth sky-to-ground gradient, soft-edged shapes, fine
// texture and sensor noise; 4:2:0 at quality 90, about 2.8 MB for 12
// megapixels like a phone's photo.
func cameraJPEG(tb testing.TB, w, h int, seed uint64) []byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 0x5151))
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	type blob struct{ x, y, r, v float64 }
	blobs := make([]blob, 12)
	for i := range blobs {
		blobs[i] = blob{r.Float64() * float64(w), r.Float64() * float64(h), (0.03 + 0.15*r.Float64()) * float64(h), 80*r.Float64() - 40}
	}
	phase := r.Float64() * 10
	for y := 0; y < h; y++ {
		fy := float64(y) / float64(h)
		for x := 0; x < w; x++ {
			fx := float64(x) / float64(w)
			v := 170 - 90*fy + 20*fx
			for _, b := range blobs {
				dx, dy := float64(x)-b.x, float64(y)-b.y
				if d2 := dx*dx + dy*dy; d2 < b.r*b.r {
					v += b.v * (1 - d2/(b.r*b.r))
				}
			}
			if fy > 0.5 { // textured ground
				v += 14 * math.Sin(float64(x)*0.35+phase) * math.Sin(float64(y)*0.21)
			}
			v += 4.5 * r.NormFloat64() // sensor noise
			m.Y[m.YOffset(x, y)] = uint8(max(0, min(255, v+0.5)))
		}
	}
	for y := 0; y < (h+1)/2; y++ {
		fy := 2 * float64(y) / float64(h)
		for x := 0; x < (w+1)/2; x++ {
			i := m.COffset(2*x, 2*y)
			m.Cb[i] = uint8(max(0, min(255, 150-50*fy+r.NormFloat64())))
			m.Cr[i] = uint8(max(0, min(255, 115+30*fy+r.NormFloat64())))
		}
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, m, &stdjpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkCamera decodes a 12-megapixel camera-like photo (4000x3000,
// 4:2:0, quality 90) at each scale and reports the time per photo in ms,
// with DecodeBytes (no copy of the data) and Decode from a bytes.Reader.
// Run with -cpu 1 for the single-core figure.
func BenchmarkCamera(b *testing.B) {
	data := cameraJPEG(b, 4000, 3000, 1)
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
