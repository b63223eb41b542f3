package imageio

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// TestRowKernels compares the row kernels in use (SIMD where the CPU has
// it) with the pure-Go ones, on every length up to 70 (the SIMD loops and
// their tails) and extreme accumulator values.
func TestRowKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 70; n++ {
		row := make([]uint8, n+5)
		for i := range row {
			row[i] = uint8(r.IntN(256))
		}
		for _, k := range []int32{0, 1, -1, 1 << 21, -(1 << 20), int32(r.IntN(1 << 22))} {
			acc := make([]int32, n)
			for i := range acc {
				acc[i] = int32(r.IntN(1<<30)) - 1<<29
			}
			want := append([]int32(nil), acc...)
			addRowScaled(acc, row, k)
			addRowScaledGeneric(want, row, k)
			for i := range acc {
				if acc[i] != want[i] {
					t.Fatalf("addRowScaled n=%d k=%d: [%d] = %d, want %d", n, k, i, acc[i], want[i])
				}
			}
			bias := int32(r.IntN(1<<24)) - 1<<23
			setRowScaled(acc, row, k, bias)
			setRowScaledGeneric(want, row, k, bias)
			for i := range acc {
				if acc[i] != want[i] {
					t.Fatalf("setRowScaled n=%d k=%d: [%d] = %d, want %d", n, k, i, acc[i], want[i])
				}
			}
		}
		acc := make([]int32, n+3)
		special := []int32{0, -1, 1, 1<<22 - 1, 1 << 22, 255 << 22, 256 << 22, 1 << 30, 1<<31 - 1, -1 << 31, 1<<30 - 1}
		for i := range acc {
			if i%3 == 0 {
				acc[i] = special[r.IntN(len(special))]
			} else {
				acc[i] = int32(r.Uint32())
			}
		}
		got, want := make([]uint8, n), make([]uint8, n)
		packRow(got, acc)
		packRowGeneric(want, acc)
		if !bytes.Equal(got, want) {
			t.Fatalf("packRow n=%d: %v, want %v (acc %v)", n, got, want, acc[:n])
		}
	}
}

// TestResizeFastCloseToResize: ResizeFast differs from the Pillow-exact
// Resize only by the rounding between its passes, for every filter,
// shrinking and enlarging, on a photo; and its regions are crops of the
// whole.
func TestResizeFastCloseToResize(t *testing.T) {
	src, _, err := Decode(fixture(t, "astronaut.jpg"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{224, 224}, {100, 57}, {512, 300}, {600, 600}, {512, 90}, {7, 512}} {
		for res := 0; res <= 5; res++ {
			exact, err := Resize(src, size[0], size[1], res)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := ResizeFast(src, size[0], size[1], res)
			if err != nil {
				t.Fatal(err)
			}
			if fast.Width != exact.Width || fast.Height != exact.Height {
				t.Fatalf("%v r%d: %dx%d, want %dx%d", size, res, fast.Width, fast.Height, exact.Width, exact.Height)
			}
			maxd, sum := 0, 0
			for i := range fast.Pix {
				d := int(fast.Pix[i]) - int(exact.Pix[i])
				d = max(d, -d)
				maxd = max(maxd, d)
				sum += d
			}
			// Bicubic and Lanczos overshoot: where the first pass's
			// values clip at 0 or 255 the two orders clip different
			// things, so single pixels near hard edges move further.
			limit := 3
			if res == ResampleBicubic || res == ResampleLanczos {
				limit = 20
			}
			if mean := float64(sum) / float64(len(fast.Pix)); maxd > limit || mean > 0.35 {
				t.Errorf("%v r%d: max diff %d, mean %.3f from Resize", size, res, maxd, mean)
			}
			for _, r := range []image.Rectangle{
				image.Rect(1, 2, size[0], size[1]),
				image.Rect(size[0]/3, size[1]/2, size[0]/3+2, size[1]/2+1),
				image.Rect(size[0]-1, 0, size[0], size[1]),
			} {
				got, err := ResizeFastRegion(src, size[0], size[1], res, r)
				if err != nil {
					t.Fatal(err)
				}
				if want := cropRGB(fast, r); !bytes.Equal(got.Pix, want.Pix) || got.Width != want.Width {
					t.Errorf("%v r%d: region %v differs from the whole", size, res, r)
				}
			}
		}
	}
	if _, err := ResizeFast(src, 0, 5, ResampleBicubic); err == nil {
		t.Error("zero width accepted")
	}
	if _, err := ResizeFastRegion(src, 10, 10, ResampleBicubic, image.Rect(5, 5, 11, 6)); err == nil {
		t.Error("region outside the output accepted")
	}
}

func BenchmarkResize12MPQuarter(b *testing.B) {
	// A 1/4 decode of a 4000x3000 photo to CLIP's 298x224 resize, centre
	// 224x224 region.
	src := benchImage(1000, 750)
	r := image.Rect(37, 0, 261, 224)
	for _, c := range []struct {
		name string
		f    func(*RGB, int, int, int, image.Rectangle) (*RGB, error)
	}{{"exact", ResizeRegion}, {"fast", ResizeFastRegion}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.f(src, 298, 224, ResampleBicubic, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPreprocessReducedUsesResizeFast: Preprocess resizes an image from a
// reduced decode (Scale > 1) with ResizeFast and any other with the
// Pillow-exact Resize.
func TestPreprocessReducedUsesResizeFast(t *testing.T) {
	cfg := loadCLIPConfig(t)
	img, _, err := Decode(fixture(t, "astronaut.jpg"), Limits{}) // 512x512
	if err != nil {
		t.Fatal(err)
	}
	noResize := cfg
	noResize.DoResize = false // the crop then keeps all of a 224x224 image
	for _, c := range []struct {
		scale  int
		name   string
		resize func(*RGB, int, int, int) (*RGB, error)
	}{{0, "Resize", Resize}, {2, "ResizeFast", ResizeFast}} {
		small, err := c.resize(img, 224, 224, cfg.Resample)
		if err != nil {
			t.Fatal(err)
		}
		want := noResize.Preprocess(small, nil)
		in := *img
		in.Scale = c.scale
		got := cfg.Preprocess(&in, nil)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("Scale %d: tensor differs at %d from %s's", c.scale, i, c.name)
			}
		}
	}
}
