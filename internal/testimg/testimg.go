// Package testimg makes synthetic test images shared by the tests and
// benchmarks of several packages.
package testimg

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	mrand "math/rand"
	"math/rand/v2"
)

// CameraJPEG encodes a camera-like w x h photo: a smooth sky-to-ground
// gradient, soft-edged shapes, fine texture and sensor noise; 4:2:0 at
// quality 90, about 2.8 MB for 12 megapixels like a phone's photo. The same
// seed gives the same bytes.
func CameraJPEG(w, h int, seed uint64) []byte {
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
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // encoding into memory cannot fail
	}
	return buf.Bytes()
}

// TexturedJPEG encodes a w x h photo of gradients, a coarse checkerboard, a
// fine aliasing-prone texture and sensor noise; 4:2:0 at quality 90. Its
// near-Nyquist texture makes it the hard case for reduced-size decoding.
// The same seed gives the same bytes.
func TexturedJPEG(w, h int, seed int64) []byte {
	rng := mrand.New(mrand.NewSource(seed))
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			v := 60 + 120*fx*fy + 30*float64((x/37+y/23)%2) + 12*float64(((x*x+y*3)>>4)%5) + rng.NormFloat64()*4
			m.Y[m.YOffset(x, y)] = clamp8(v)
		}
	}
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < (w+1)/2; x++ {
			i := m.COffset(2*x, 2*y)
			m.Cb[i] = clamp8(128 + 40*float64(x)/float64(w) - 20*float64(y)/float64(h) + rng.NormFloat64()*2)
			m.Cr[i] = clamp8(128 - 30*float64(x)/float64(w) + 35*float64(y)/float64(h) + rng.NormFloat64()*2)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // encoding into memory cannot fail
	}
	return buf.Bytes()
}

// clamp8 rounds v to the nearest 8-bit level.
func clamp8(v float64) uint8 { return uint8(max(0, min(255, v+0.5))) }
