package clip

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/internal/testimg"
)

func TestDecodeMinSide(t *testing.T) {
	def := imageio.DefaultProcessorConfig()
	explicit := def
	explicit.ShortestEdge, explicit.Height, explicit.Width = 0, 256, 320
	noResize := def
	noResize.DoResize = false
	for _, c := range []struct {
		name string
		pc   imageio.ProcessorConfig
		want int
	}{
		{"shortest edge", def, 224},
		{"height x width", explicit, 320},
		{"no resize", noResize, 0},
	} {
		e := &Encoder{Processor: c.pc}
		if got := e.DecodeMinSide(); got != c.want {
			t.Errorf("%s: DecodeMinSide = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestFastDecode: OpenEncoder passes FastDecode on; small images embed
// exactly as without it; a large JPEG is decoded reduced and its embedding
// stays within cosine 0.999 of the exact path.
func TestFastDecode(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "testdata", "clip", "tiny-b32")
	exact, err := OpenEncoder(ctx, dir, EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := OpenEncoder(ctx, dir, EncoderOptions{FastDecode: true})
	if err != nil {
		t.Fatal(err)
	}
	if exact.FastDecode || !fast.FastDecode {
		t.Fatalf("FastDecode: exact %v, fast %v", exact.FastDecode, fast.FastDecode)
	}
	for _, name := range []string{"astronaut.jpg", "coffee_exif6.jpg", "rocket.jpg", "chelsea.png"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "clip", "images", name))
		if err != nil {
			t.Fatal(err)
		}
		a, err := exact.EmbedImage(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fast.EmbedImage(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbs(a, b); d != 0 {
			t.Errorf("%s (too small to reduce): fast differs by %g", name, d)
		}
	}
	data := upscaledJPEG(t, "rocket.jpg", 3200, 2136)
	img, info, err := fast.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != 800 || img.Height != 534 || info.Width != 3200 || info.Height != 2136 {
		t.Errorf("fast decode %dx%d info %dx%d, want 800x534 (1/4: 1/8 keeps < 1.5 x 224) of 3200x2136", img.Width, img.Height, info.Width, info.Height)
	}
	coarse := &Encoder{Processor: fast.Processor, FastDecode: true, DecodeMargin: 1}
	if img, _, err := coarse.Decode(data); err != nil || img.Width != 400 || img.Height != 267 {
		t.Errorf("margin 1: %v, want 400x267 (1/8)", err)
	}
	a, err := exact.EmbedImage(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fast.EmbedImage(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(a, b); c < 0.999 {
		t.Errorf("3200x2136 photo: cosine fast vs exact %.5f, want >= 0.999", c)
	}
}

// TestFastDecodeMargin measures the embedding difference of reduced
// decoding on large photos, for the tiny fixture model and a full-size
// ViT-B/32 with random weights, at DecodeMargin 1.5 (the default: short
// side >= 336 after reduction, 1/8 for these photos), 2 (>= 448, 1/4) and 4,
// next to a noise control (the exact decode with one sample in 7 raised
// by one level). It requires cosine >= 0.9999 for the full-size model at
// margins 1.5 and 2, and >= the given minimum for the tiny one, which reacts
// to pixel noise far more than real CLIP (testdata/clip/README.md): at
// margin 2, 0.999 on photo content and 0.995 on the synthetic camera image
// whose near-Nyquist texture aliases differently at every resolution; at
// margin 1.5, 0.995 on photos and 0.97 on the camera image. Slow: skipped
// with -short.
func TestFastDecodeMargin(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size model and 12-megapixel decodes")
	}
	ctx := context.Background()
	dir := filepath.Join("..", "testdata", "clip", "tiny-b32")
	tiny, err := OpenEncoder(ctx, dir, EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := NewRandom(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	full := &Encoder{Model: big, Tokenizer: tiny.Tokenizer, Processor: tiny.Processor}
	for _, p := range []struct {
		name    string
		data    []byte
		minTiny map[float64]float64 // by margin
	}{
		{"rocket 4000x2672", upscaledJPEG(t, "rocket.jpg", 4000, 2672), map[float64]float64{1.5: 0.995, 2: 0.999}},
		{"astronaut 4000x4000", upscaledJPEG(t, "astronaut.jpg", 4000, 4000), map[float64]float64{1.5: 0.995, 2: 0.999}},
		{"camera 4000x3000", testimg.TexturedJPEG(4000, 3000, 7), map[float64]float64{1.5: 0.97, 2: 0.995}},
		{"camera 3000x4000", testimg.TexturedJPEG(3000, 4000, 8), map[float64]float64{1.5: 0.97, 2: 0.995}},
	} {
		ref, _, err := imageio.Decode(p.data, imageio.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		noisy := &imageio.RGB{Width: ref.Width, Height: ref.Height, Pix: append([]uint8(nil), ref.Pix...)}
		for i := 0; i < len(noisy.Pix); i += 7 {
			noisy.Pix[i] = min(noisy.Pix[i]+1, 255)
		}
		for _, margin := range []float64{0, DefaultDecodeMargin, 2, 4} {
			img := noisy
			label := "noise control"
			if margin > 0 {
				e := &Encoder{Processor: tiny.Processor, FastDecode: true, DecodeMargin: margin}
				img, _, err = e.Decode(p.data)
				if err != nil {
					t.Fatal(err)
				}
				label = fmt.Sprintf("margin %g: 1/%d", margin, ref.Width/img.Width)
			}
			var cos [2]float64
			for k, e := range []*Encoder{tiny, full} {
				v, err := e.EmbedPixels(ctx, [][]float32{e.Pixels(ref), e.Pixels(img)})
				if err != nil {
					t.Fatal(err)
				}
				cos[k] = cosine(v[0], v[1])
			}
			t.Logf("%-20s %-16s %4dx%-4d cosine tiny %.6f, ViT-B/32 random %.7f", p.name, label, img.Width, img.Height, cos[0], cos[1])
			if want, ok := p.minTiny[margin]; ok && (cos[0] < want || cos[1] < 0.9999) {
				t.Errorf("%s at margin %g: cosine tiny %.6f (want >= %g), full-size %.7f (want >= 0.9999)", p.name, margin, cos[0], want, cos[1])
			}
		}
	}
}

// upscaledJPEG enlarges a fixture photo to w x h (bicubic) and adds sensor
// noise, for a large JPEG with real content.
func upscaledJPEG(t testing.TB, name string, w, h int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "clip", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := imageio.Decode(data, imageio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := imageio.Resize(src, w, h, imageio.ResampleBicubic)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(int64(len(name))))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < len(big.Pix); i, j = i+3, j+4 {
		n := rng.NormFloat64() * 3
		m.Pix[j], m.Pix[j+1], m.Pix[j+2], m.Pix[j+3] = clamp8(float64(big.Pix[i])+n), clamp8(float64(big.Pix[i+1])+n), clamp8(float64(big.Pix[i+2])+n), 255
	}
	return encodeJPEG(t, m)
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(fmt.Errorf("encode test JPEG: %w", err))
	}
	return buf.Bytes()
}

func clamp8(v float64) uint8 { return uint8(max(0, min(255, v+0.5))) }
