package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/sightsearch/sight/internal/testimg"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestReduceScale(t *testing.T) {
	for _, c := range []struct{ w, h, minSide, want int }{
		{4000, 3000, 224, 8},  // 375 >= 224, like Pillow's draft
		{4000, 3000, 448, 4},  // 750 >= 448; 1/8 would give 375
		{3000, 4000, 448, 4},  // orientation does not matter: short side
		{6000, 4000, 448, 8},  // 500 >= 448
		{4032, 3024, 448, 4},  // 756
		{4032, 3024, 224, 8},  // 378
		{1024, 768, 448, 1},   // 384 < 448
		{1024, 768, 224, 2},   // 384 >= 224, 192 < 224
		{2000, 896, 448, 2},   // 448 exactly
		{2000, 894, 448, 1},   // 447
		{4000, 2669, 224, 1},  // 2669 is odd: no reduction
		{4000, 2670, 448, 2},  // 1335 rows exactly
		{4004, 3000, 224, 4},  // 4004 = 4*1001, not 8*k
		{4000, 3000, 0, 1},    // no reduction asked
		{4000, 3000, -5, 1},   //
		{96, 72, 2, 8},        // 9 >= 2
		{100, 100, 2, 4},      // 100 = 4*25
		{8, 8, 2, 4},          // 1/8 gives 1 < 2
		{8, 8, 1, 8},          // 1 >= 1
		{1, 1, 1, 1},          //
		{240, 360, 30, 8},     // coffee: 30 >= 30
		{240, 360, 32, 4},     // 30 < 32, 60 >= 32
		{240, 360, 122, 1},    // 120 < 122
		{240, 360, 120, 2},    // 120 >= 120
		{1 << 20, 16, 224, 1}, // short side rules
	} {
		if got := ReduceScale(c.w, c.h, c.minSide); got != c.want {
			t.Errorf("ReduceScale(%d, %d, %d) = %d, want %d", c.w, c.h, c.minSide, got, c.want)
		}
	}
}

// TestDecodeReducedOrientation checks a reduced decode of an EXIF
// orientation 6 JPEG against djpeg -scale 1/N rotated clockwise
// (testdata/gen_reduced.py), and that Info keeps the original size.
func TestDecodeReducedOrientation(t *testing.T) {
	data := fixture(t, "coffee_exif6.jpg")
	for _, c := range []struct {
		minSide, scale int
		golden         string
	}{
		{30, 8, "coffee_exif6_s8.rgb"},
		{32, 4, "coffee_exif6_s4.rgb"},
		{60, 4, "coffee_exif6_s4.rgb"},
		{120, 2, "coffee_exif6_s2.rgb"},
	} {
		t.Run(fmt.Sprint(c.minSide), func(t *testing.T) {
			img, info, err := DecodeReduced(data, Limits{}, c.minSide)
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != JPEG || info.Width != 360 || info.Height != 240 || info.Orientation != 6 {
				t.Errorf("info %+v, want the original displayed 360x240", info)
			}
			if w, h := ceilDiv(360, c.scale), ceilDiv(240, c.scale); img.Width != w || img.Height != h {
				t.Fatalf("size %dx%d, want %dx%d", img.Width, img.Height, w, h)
			}
			want := readTestdata(t, c.golden)
			if mx, mean := pixelDiff(img.Pix, want); mx != 0 {
				t.Errorf("vs djpeg -scale 1/%d rotated: max |diff| %d, mean %.4f", c.scale, mx, mean)
			}
		})
	}
}

// TestDecodeReducedSameAsDecode: where no reduction applies the result is
// Decode's, byte for byte.
func TestDecodeReducedSameAsDecode(t *testing.T) {
	for _, c := range []struct {
		path    string
		minSide int
	}{
		{filepath.Join(clipDir, "images", "coffee_exif6.jpg"), 0},
		{filepath.Join(clipDir, "images", "coffee_exif6.jpg"), 122}, // 240/2 < 122
		{filepath.Join(clipDir, "images", "rocket.jpg"), 448},       // 427 < 448
		{filepath.Join(clipDir, "images", "chelsea.png"), 1},        // not a JPEG
		{filepath.Join("testdata", "orient6.png"), 1},               // not a JPEG, oriented
		{filepath.Join("testdata", "orient8.webp"), 1},              //
		{filepath.Join("testdata", "palette.gif"), 1},               //
		{filepath.Join("jpeg", "testdata", "cmyk_101x77.jpg"), 1},   // odd size
		{filepath.Join("testdata", "reduced_cmyk_96x72.jpg"), 37},   // 72/2 < 37
		{filepath.Join("jpeg", "testdata", "gray_101x77.jpg"), 100}, // larger than the image
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			data := readFile(t, c.path)
			want, wantInfo, err := Decode(data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, info, err := DecodeReduced(data, Limits{}, c.minSide)
			if err != nil {
				t.Fatal(err)
			}
			if info != wantInfo || got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("DecodeReduced(%d) = %dx%d %+v, Decode %dx%d %+v (pixels equal: %v)", c.minSide,
					got.Width, got.Height, info, want.Width, want.Height, wantInfo, bytes.Equal(got.Pix, want.Pix))
			}
		})
	}
}

// TestDecodeReducedVariants: grayscale, CMYK, progressive and mixed
// JPEGs reduce too, to W/s x H/s, and stay close to a box-filtered full
// decode (the DCT-domain scaling is an approximate s x s average; the
// scaled IDCTs themselves are tested exact in imageio/jpeg).
func TestDecodeReducedVariants(t *testing.T) {
	for _, c := range []struct {
		name           string
		minSide, scale int
	}{
		{"reduced_gray_96x72.jpg", 36, 2},
		{"reduced_cmyk_96x72.jpg", 18, 4},
		{"reduced_prog420_160x96.jpg", 12, 8},
		{"reduced_mixed_96x72.jpg", 8, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := readTestdata(t, c.name)
			full, info, err := Decode(data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			img, rinfo, err := DecodeReduced(data, Limits{}, c.minSide)
			if err != nil {
				t.Fatal(err)
			}
			if rinfo != info {
				t.Errorf("info %+v, Decode's %+v", rinfo, info)
			}
			if w, h := full.Width/c.scale, full.Height/c.scale; img.Width != w || img.Height != h {
				t.Fatalf("size %dx%d, want %dx%d (1/%d)", img.Width, img.Height, w, h, c.scale)
			}
			box := boxReduce(full, c.scale)
			if _, mean := pixelDiff(img.Pix, box.Pix); mean > 3 {
				t.Errorf("mean |diff| %.2f vs a %dx%d box filter of the full decode", mean, c.scale, c.scale)
			} else {
				t.Logf("mean |diff| %.2f vs a %dx%d box filter of the full decode", mean, c.scale, c.scale)
			}
		})
	}
}

// TestDecodeReducedLimits: the pixel limit is on the original size, and
// errors are Decode's.
func TestDecodeReducedLimits(t *testing.T) {
	data := testimg.TexturedJPEG(1600, 1200, 1)
	if _, info, err := DecodeReduced(data, Limits{MaxPixels: 1600*1200 - 1}, 200); !errors.Is(err, ErrTooLarge) || info.Width != 1600 {
		t.Errorf("over the limit: %v, %+v", err, info)
	}
	img, _, err := DecodeReduced(data, Limits{MaxPixels: 1600 * 1200}, 150)
	if err != nil || img.Width != 200 || img.Height != 150 {
		t.Fatalf("at the limit: %v", err)
	}
	_, _, errR := DecodeReduced(data[:len(data)/3], Limits{}, 150)
	_, _, errD := Decode(data[:len(data)/3], Limits{})
	if (errR == nil) != (errD == nil) {
		t.Errorf("truncated: DecodeReduced %v, Decode %v", errR, errD)
	}
	if _, _, err := DecodeReduced([]byte("not an image"), Limits{}, 100); !errors.Is(err, ErrNotImage) {
		t.Errorf("garbage: %v", err)
	}
}

// TestDecodeReducedPreprocessClose: the CLIP input tensor from a reduced
// decode of a large camera-like photo is close to the exact one.
func TestDecodeReducedPreprocessClose(t *testing.T) {
	cfg := loadCLIPConfig(t)
	data := testimg.TexturedJPEG(2000, 1500, 2)
	full, _, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	red, _, err := DecodeReduced(data, Limits{}, 2*cfg.ShortestEdge)
	if err != nil {
		t.Fatal(err)
	}
	if red.Width != 1000 {
		t.Fatalf("reduced to width %d, want 1000 (1/2)", red.Width)
	}
	a, b := cfg.Preprocess(full, nil), cfg.Preprocess(red, nil)
	var sum float64
	for i := range a {
		d := float64(a[i] - b[i])
		sum += d * d
	}
	// Normalised units: 1/255/0.27 per 8-bit level.
	rms := math.Sqrt(sum / float64(len(a)))
	t.Logf("rms difference of the pixel tensors: %.4f", rms)
	if rms > 0.05 {
		t.Errorf("rms difference of the pixel tensors %.4f", rms)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// boxReduce averages s x s blocks (partial at the edges).
func boxReduce(img *RGB, s int) *RGB {
	out := NewRGB(ceilDiv(img.Width, s), ceilDiv(img.Height, s))
	for y := 0; y < out.Height; y++ {
		for x := 0; x < out.Width; x++ {
			for ch := 0; ch < 3; ch++ {
				sum, n := 0, 0
				for yy := y * s; yy < min((y+1)*s, img.Height); yy++ {
					for xx := x * s; xx < min((x+1)*s, img.Width); xx++ {
						sum += int(img.Pix[(yy*img.Width+xx)*3+ch])
						n++
					}
				}
				out.Pix[(y*out.Width+x)*3+ch] = uint8((sum + n/2) / n)
			}
		}
	}
	return out
}

// BenchmarkDecodeReduced decodes a 12-megapixel camera-like JPEG for a
// 224-pixel model input at each DCT scale (minSide chosen to force it).
func BenchmarkDecodeReduced(b *testing.B) {
	data := testimg.TexturedJPEG(4000, 3000, 1)
	for _, c := range []struct{ scale, minSide int }{{1, 0}, {2, 1400}, {4, 600}, {8, 300}} {
		b.Run(fmt.Sprintf("1/%d", c.scale), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				img, _, err := DecodeReduced(data, Limits{}, c.minSide)
				if err != nil || img.Width != 4000/c.scale {
					b.Fatalf("%v, width %d", err, img.Width)
				}
			}
		})
	}
}

// FuzzDecodeReduced: DecodeReduced never panics, returns Decode's sentinel
// errors, reports the same Info as DecodeConfig and an image of the
// displayed size divided by the scale ReduceScale picks.
func FuzzDecodeReduced(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, minSide := range []int{1, 4} {
			img, info, err := DecodeReduced(data, Limits{MaxPixels: fuzzMaxPixels}, minSide)
			if err != nil {
				if !errors.Is(err, ErrNotImage) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("error without a sentinel: %v", err)
				}
				continue
			}
			if cfg, err := DecodeConfig(data); err != nil || cfg != info {
				t.Fatalf("DecodeConfig %+v, %v; DecodeReduced info %+v", cfg, err, info)
			}
			s := 1
			if info.Format == JPEG {
				s = ReduceScale(info.Width, info.Height, minSide)
			}
			if img.Width != info.Width/s || img.Height != info.Height/s || len(img.Pix) != 3*img.Width*img.Height {
				t.Fatalf("image %dx%d with %d bytes, info %+v, scale 1/%d", img.Width, img.Height, len(img.Pix), info, s)
			}
		}
	})
}
