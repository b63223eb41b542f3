package imageio

import (
	"bytes"
	"image"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseProcessorConfig(t *testing.T) {
	def := DefaultProcessorConfig()
	for _, tc := range []struct {
		name string
		json string
		want func(c *ProcessorConfig) // applied to the defaults
	}{
		{"empty object: all defaults", `{}`, func(c *ProcessorConfig) {}},
		{"legacy ints", `{"size": 336, "crop_size": 300}`, func(c *ProcessorConfig) {
			c.ShortestEdge, c.CropHeight, c.CropWidth = 336, 300, 300
		}},
		{"shortest_edge dict", `{"size": {"shortest_edge": 256}, "crop_size": {"height": 240, "width": 200}}`, func(c *ProcessorConfig) {
			c.ShortestEdge, c.CropHeight, c.CropWidth = 256, 240, 200
		}},
		{"height/width size", `{"size": {"height": 100, "width": 120}}`, func(c *ProcessorConfig) {
			c.ShortestEdge, c.Height, c.Width = 0, 100, 120
		}},
		{"list size", `{"size": [100, 120], "crop_size": [50, 60]}`, func(c *ProcessorConfig) {
			c.ShortestEdge, c.Height, c.Width, c.CropHeight, c.CropWidth = 0, 100, 120, 50, 60
		}},
		{"mean/std from file, flags, nulls", `{"image_mean": [0.5, 0.5, 0.5], "image_std": 0.25, "do_center_crop": false,
			"do_convert_rgb": null, "rescale_factor": 0.5, "resample": 2, "do_normalize": false, "processor_class": "CLIPProcessor"}`,
			func(c *ProcessorConfig) {
				c.Mean, c.Std = [3]float32{0.5, 0.5, 0.5}, [3]float32{0.25, 0.25, 0.25}
				c.DoCenterCrop, c.RescaleFactor, c.Resample, c.DoNormalize = false, 0.5, 2, false
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcessorConfig([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			want := def
			tc.want(&want)
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	clip := loadCLIPConfig(t)
	if clip != def {
		t.Errorf("tiny-b32 config %+v, want the CLIP defaults %+v", clip, def)
	}
}

func TestParseProcessorConfigErrors(t *testing.T) {
	for _, tc := range []struct{ json, field string }{
		{`{"size": "big"}`, `"size"`},
		{`{"size": {"longest_edge": 5}}`, `"size"`},
		{`{"size": -3}`, `"size"`},
		{`{"size": [1, 2, 3]}`, `"size"`},
		{`{"crop_size": {"shortest_edge": 5}}`, `"crop_size"`},
		{`{"crop_size": 0}`, `"crop_size"`},
		{`{"resample": 7}`, `"resample"`},
		{`{"resample": "bicubic"}`, `"resample"`},
		{`{"do_resize": "yes"}`, `"do_resize"`},
		{`{"image_mean": [0.5, 0.5]}`, `"image_mean"`},
		{`{"image_std": [0.5, 0, 0.5]}`, `"image_std"`},
		{`{"rescale_factor": 0}`, `"rescale_factor"`},
		{`[1, 2]`, `processor config`},
		{`{`, `processor config`},
	} {
		_, err := ParseProcessorConfig([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.json, err, tc.field)
		}
	}
	if _, err := LoadProcessorConfig("testdata/no-such-file.json"); err == nil || !strings.Contains(err.Error(), "no-such-file.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestResizeSize(t *testing.T) {
	c := DefaultProcessorConfig()
	for _, tc := range []struct{ w, h, ww, wh int }{
		{451, 300, 336, 224}, // chelsea
		{54, 512, 224, 2123}, // tall, 2123.9 truncated
		{640, 58, 2471, 224}, // wide, 2471.7 truncated
		{7, 5, 313, 224},     // tiny, 313.6 truncated
		{224, 224, 224, 224}, // unchanged
		{300, 300, 224, 224}, // square
		{1, 100000, 224, 22400000},
	} {
		if w, h := c.ResizeSize(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("%dx%d -> %dx%d, want %dx%d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
	c.ShortestEdge, c.Height, c.Width = 0, 10, 20
	if w, h := c.ResizeSize(640, 480); w != 20 || h != 10 {
		t.Errorf("explicit size: %dx%d", w, h)
	}
}

func TestCenterCrop(t *testing.T) {
	img := NewRGB(5, 3)
	for i := range img.Pix {
		img.Pix[i] = uint8(i + 1)
	}
	px := func(m *RGB, x, y int) uint8 { return m.Pix[(y*m.Width+x)*3] }
	// Inside: top=(3-1)//2=1, left=(5-2)//2=1.
	c := CenterCrop(img, 2, 1)
	if c.Width != 2 || c.Height != 1 || px(c, 0, 0) != px(img, 1, 1) || px(c, 1, 0) != px(img, 2, 1) {
		t.Errorf("inner crop %v", c.Pix)
	}
	// Larger than the image: zero padding, image at ((8-3)//2, (8-5)//2) = (2, 1).
	p := CenterCrop(img, 8, 8)
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			want := uint8(0)
			if x >= 1 && x < 6 && y >= 2 && y < 5 {
				want = px(img, x-1, y-2)
			}
			if got := px(p, x, y); got != want {
				t.Fatalf("padded (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
	// Mixed: wider crop, shorter height.
	m := CenterCrop(img, 7, 1)
	if px(m, 0, 0) != 0 || px(m, 1, 0) != px(img, 0, 1) || px(m, 5, 0) != px(img, 4, 1) || px(m, 6, 0) != 0 {
		t.Errorf("mixed crop %v", m.Pix)
	}
}

func TestPreprocessReusesDst(t *testing.T) {
	cfg := DefaultProcessorConfig()
	img := NewRGB(300, 200)
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	first := cfg.Preprocess(img, nil)
	buf := make([]float32, 0, 3*224*224+10)
	second := cfg.Preprocess(img, buf)
	if &second[0] != &buf[:1][0] || len(second) != 3*224*224 {
		t.Errorf("dst not reused")
	}
	if maxAbsDiff(first, second) != 0 {
		t.Errorf("results differ")
	}
	// No resize, no crop, no normalisation: rescale only, CHW layout.
	cfg.DoResize, cfg.DoCenterCrop, cfg.DoNormalize = false, false, false
	small := &RGB{Width: 2, Height: 1, Pix: []uint8{0, 51, 255, 102, 153, 204}}
	out := cfg.Preprocess(small, nil)
	want := []float32{0, 0.4, 0.2, 0.6, 1, 0.8}
	for i := range want {
		if d := out[i] - want[i]; d > 1e-7 || d < -1e-7 {
			t.Errorf("out %v, want %v", out, want)
			break
		}
	}
}

func TestResizeErrors(t *testing.T) {
	img := NewRGB(4, 4)
	for _, tc := range []struct{ w, h, r int }{{0, 4, 3}, {4, -1, 3}, {5, 5, 6}, {5, 5, -1}} {
		if _, err := Resize(img, tc.w, tc.h, tc.r); err == nil {
			t.Errorf("Resize(%d, %d, %d): no error", tc.w, tc.h, tc.r)
		}
	}
	if out, err := Resize(img, 4, 4, 99); err != nil || out == img {
		t.Errorf("same size must return a copy, got %v", err)
	}
}

func TestOrientInverse(t *testing.T) {
	img := NewRGB(4, 3)
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	// Applying 6 then 8 (rotate cw then ccw) restores the image; 2,3,4,5,7 are involutions.
	pairs := [][2]int{{6, 8}, {8, 6}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {7, 7}}
	for _, p := range pairs {
		back := Orient(Orient(img, p[0]), p[1])
		if back.Width != 4 || back.Height != 3 || string(back.Pix) != string(img.Pix) {
			t.Errorf("Orient %d then %d is not the identity", p[0], p[1])
		}
	}
	if Orient(img, 1) != img || Orient(img, 0) != img || Orient(img, 9) != img {
		t.Error("orientations 0, 1, 9 must return the input")
	}
}

// TestResizeRegionMatchesFull: every region equals the same crop of the
// full resize, for all filters, up- and downscaling and one-axis changes.
func TestResizeRegionMatchesFull(t *testing.T) {
	src := benchImage(37, 23)
	for i := range src.Pix {
		src.Pix[i] = uint8(i*131 + i*i/7)
	}
	for _, size := range [][2]int{{111, 46}, {18, 7}, {37, 60}, {80, 23}, {5, 3}} {
		for res := 0; res <= 5; res++ {
			full, err := Resize(src, size[0], size[1], res)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []image.Rectangle{
				image.Rect(0, 0, size[0], size[1]),
				image.Rect(1, 1, size[0], size[1]),
				image.Rect(size[0]/3, size[1]/2, size[0]/3+2, size[1]/2+1),
				image.Rect(size[0]-1, 0, size[0], size[1]),
			} {
				got, err := ResizeRegion(src, size[0], size[1], res, r)
				if err != nil {
					t.Fatal(err)
				}
				want := cropRGB(full, r)
				if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
					t.Errorf("%v r%d region %v differs from the full resize", size, res, r)
				}
			}
		}
	}
	if _, err := ResizeRegion(src, 10, 10, 3, image.Rect(5, 5, 11, 6)); err == nil {
		t.Error("region outside the output accepted")
	}
}

// TestPreprocessExtremeAspect: a 3x600 image resizes to 224x44800; the
// cropped result must equal cropping the full resize, and a 1x100000 image
// (224x22400000 after resize) must stay cheap.
func TestPreprocessExtremeAspect(t *testing.T) {
	cfg := DefaultProcessorConfig()
	img := benchImage(3, 600)
	full, err := Resize(img, 224, 44800, ResampleBicubic)
	if err != nil {
		t.Fatal(err)
	}
	ref := DefaultProcessorConfig()
	ref.DoResize = false
	want := ref.Preprocess(CenterCrop(full, 224, 224), nil)
	if d := maxAbsDiff(cfg.Preprocess(img, nil), want); d != 0 {
		t.Errorf("region pipeline differs from the full one by %g", d)
	}

	huge := benchImage(1, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	out := cfg.Preprocess(huge, nil)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if len(out) != 3*224*224 {
		t.Fatalf("len %d", len(out))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("1x100000 preprocess allocated %d MB", alloc>>20)
	}
	t.Logf("1x100000 -> 224x22400000 -> crop: %v, %d KB allocated", elapsed, (after.TotalAlloc-before.TotalAlloc)>>10)
}
