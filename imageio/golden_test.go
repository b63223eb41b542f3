package imageio

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightsearch/sight/safetensors"
)

const clipDir = "../testdata/clip"

func openGolden(t testing.TB) *safetensors.File {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(clipDir, "expected.safetensors"))
	if err != nil {
		t.Fatalf("open golden: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func fixtureImages(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(clipDir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".png", ".gif":
			out = append(out, e.Name())
		}
	}
	if len(out) != 11 {
		t.Fatalf("found %d fixture images, want 11", len(out))
	}
	return out
}

// goldenRGB returns decoded_rgb.<name> as an RGB image.
func goldenRGB(t testing.TB, f *safetensors.File, name string) *RGB {
	t.Helper()
	key := "decoded_rgb." + name
	info, ok := f.Info(key)
	if !ok || len(info.Shape) != 3 || info.Shape[2] != 3 {
		t.Fatalf("%s: missing or bad shape %v", key, info.Shape)
	}
	pix, err := f.Uint8(key)
	if err != nil {
		t.Fatal(err)
	}
	return &RGB{Width: info.Shape[1], Height: info.Shape[0], Pix: pix}
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		if d := math.Abs(float64(a[i]) - float64(b[i])); d > m || d != d {
			m = d
		}
	}
	return m
}

func pixelDiff(a, b []uint8) (max int, mean float64) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
		if d > max {
			max = d
		}
	}
	return max, float64(sum) / float64(len(a))
}

func loadCLIPConfig(t testing.TB) ProcessorConfig {
	t.Helper()
	c, err := LoadProcessorConfig(filepath.Join(clipDir, "tiny-b32", "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGoldenPipeline checks every fixture image against the reference:
// decoding (exact for PNG/GIF), and pixel_values both from the file and from
// the reference's own decoded_rgb (which isolates resize/crop/normalise).
func TestGoldenPipeline(t *testing.T) {
	f := openGolden(t)
	cfg := loadCLIPConfig(t)
	for _, name := range fixtureImages(t) {
		t.Run(name, func(t *testing.T) {
			want, err := f.Float32("pixel_values." + name)
			if err != nil {
				t.Fatal(err)
			}
			ref := goldenRGB(t, f, name)

			// Pipeline from the reference's decoded pixels: strict.
			got := cfg.Preprocess(ref, nil)
			if len(got) != 3*224*224 {
				t.Fatalf("len %d", len(got))
			}
			if d := maxAbsDiff(got, want); d > 1e-5 {
				t.Errorf("pixel_values from decoded_rgb: max |diff| %.3g > 1e-5", d)
			}

			data, err := os.ReadFile(filepath.Join(clipDir, "images", name))
			if err != nil {
				t.Fatal(err)
			}
			img, info, err := Decode(data, Limits{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if img.Width != ref.Width || img.Height != ref.Height || info.Width != ref.Width || info.Height != ref.Height {
				t.Fatalf("decoded %dx%d (info %dx%d), want %dx%d", img.Width, img.Height, info.Width, info.Height, ref.Width, ref.Height)
			}
			// JPEGs too: the imageio/jpeg decoder reproduces libjpeg-turbo.
			mx, mean := pixelDiff(img.Pix, ref.Pix)
			if mx != 0 {
				t.Errorf("decoded RGB differs from decoded_rgb: max %d levels, mean %.4f", mx, mean)
			}
			pv := cfg.Preprocess(img, nil)
			if d := maxAbsDiff(pv, want); d > 1e-5 {
				t.Errorf("pixel_values from file: max |diff| %.3g > 1e-5", d)
			} else {
				t.Logf("%s: decoded RGB exact; pixel_values max |diff| %.2g", info.Format, d)
			}
		})
	}
}
