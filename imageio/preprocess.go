package imageio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
)

// ProcessorConfig is a Hugging Face CLIPImageProcessor configuration
// (preprocessor_config.json) with transformers' defaults applied.
type ProcessorConfig struct {
	// ShortestEdge > 0 resizes so the short side is ShortestEdge and the
	// long side int(ShortestEdge*long/short) (truncated). When it is 0,
	// Height and Width give an explicit target size.
	ShortestEdge  int
	Height, Width int
	// CropHeight, CropWidth are the centre crop size.
	CropHeight, CropWidth int

	// The do_* switches. DoConvertRGB is recorded only: Decode always
	// returns RGB, as convert("RGB") would.
	DoResize, DoCenterCrop, DoRescale, DoNormalize, DoConvertRGB bool

	// RescaleFactor multiplies each 8-bit value (in float64, as NumPy does)
	// before the result is rounded to float32.
	RescaleFactor float64
	// Mean and Std normalise each channel: (x - Mean) / Std in float32.
	Mean, Std [3]float32
	// Resample is the PIL filter code: 0 nearest, 1 lanczos, 2 bilinear,
	// 3 bicubic, 4 box, 5 hamming.
	Resample int
}

// DefaultProcessorConfig returns CLIPImageProcessor's defaults (mean and
// std are OpenAI CLIP's).
func DefaultProcessorConfig() ProcessorConfig {
	return ProcessorConfig{
		ShortestEdge: 224,
		CropHeight:   224, CropWidth: 224,
		DoResize: true, DoCenterCrop: true, DoRescale: true, DoNormalize: true, DoConvertRGB: true,
		RescaleFactor: 1.0 / 255,
		Mean:          [3]float32{0.48145466, 0.4578275, 0.40821073},
		Std:           [3]float32{0.26862954, 0.26130258, 0.27577711},
		Resample:      ResampleBicubic,
	}
}

// LoadProcessorConfig reads and parses a preprocessor_config.json file.
func LoadProcessorConfig(path string) (ProcessorConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ProcessorConfig{}, fmt.Errorf("load processor config: %w", err)
	}
	c, err := ParseProcessorConfig(data)
	if err != nil {
		return ProcessorConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseProcessorConfig parses preprocessor_config.json contents. Absent (or
// null) fields take transformers' defaults; "size" may be an int (shortest
// edge), {"shortest_edge": N}, {"height": H, "width": W} or [H, W];
// "crop_size" an int, {"height", "width"} or [H, W]; image_mean/image_std a
// list of 3 numbers or one number. Other keys are ignored. An invalid value
// is an error naming the field.
func ParseProcessorConfig(data []byte) (ProcessorConfig, error) {
	c := DefaultProcessorConfig()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return c, fmt.Errorf("processor config: %w", err)
	}
	present := func(k string) (json.RawMessage, bool) {
		v, ok := raw[k]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, false
		}
		return v, true
	}
	for k, dst := range map[string]*bool{
		"do_resize": &c.DoResize, "do_center_crop": &c.DoCenterCrop, "do_rescale": &c.DoRescale,
		"do_normalize": &c.DoNormalize, "do_convert_rgb": &c.DoConvertRGB,
	} {
		if v, ok := present(k); ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return c, fmt.Errorf("processor config: field %q: want true or false, got %s", k, v)
			}
		}
	}
	if v, ok := present("size"); ok {
		se, h, w, err := parseSize(v, false)
		if err != nil {
			return c, fmt.Errorf("processor config: field \"size\": %w", err)
		}
		c.ShortestEdge, c.Height, c.Width = se, h, w
	}
	if v, ok := present("crop_size"); ok {
		_, h, w, err := parseSize(v, true)
		if err != nil {
			return c, fmt.Errorf("processor config: field \"crop_size\": %w", err)
		}
		c.CropHeight, c.CropWidth = h, w
	}
	if v, ok := present("resample"); ok {
		var r int
		if err := json.Unmarshal(v, &r); err != nil {
			return c, fmt.Errorf("processor config: field \"resample\": want an integer PIL filter code, got %s", v)
		}
		c.Resample = r
	}
	if v, ok := present("rescale_factor"); ok {
		if err := json.Unmarshal(v, &c.RescaleFactor); err != nil {
			return c, fmt.Errorf("processor config: field \"rescale_factor\": want a number, got %s", v)
		}
	}
	for k, dst := range map[string]*[3]float32{"image_mean": &c.Mean, "image_std": &c.Std} {
		if v, ok := present(k); ok {
			t, err := parseTriple(v)
			if err != nil {
				return c, fmt.Errorf("processor config: field %q: %w", k, err)
			}
			*dst = t
		}
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("processor config: %w", err)
	}
	return c, nil
}

// parseSize decodes an int, {"shortest_edge"}, {"height","width"} or [H, W].
// An int means a square when square is set, else the shortest edge.
func parseSize(v json.RawMessage, square bool) (shortest, h, w int, err error) {
	var n int
	if json.Unmarshal(v, &n) == nil {
		if square {
			return 0, n, n, nil
		}
		return n, 0, 0, nil
	}
	var hw []int
	if json.Unmarshal(v, &hw) == nil {
		if len(hw) != 2 {
			return 0, 0, 0, fmt.Errorf("want [height, width], got %s", v)
		}
		return 0, hw[0], hw[1], nil
	}
	var m map[string]int
	if err := json.Unmarshal(v, &m); err != nil {
		return 0, 0, 0, fmt.Errorf("want an integer or an object of integers, got %s", v)
	}
	hh, okH := m["height"]
	ww, okW := m["width"]
	se, okS := m["shortest_edge"]
	switch {
	case okH && okW && len(m) == 2:
		return 0, hh, ww, nil
	case okS && len(m) == 1 && !square:
		return se, 0, 0, nil
	}
	return 0, 0, 0, fmt.Errorf("unsupported keys in %s (want {\"height\",\"width\"}%s)", v,
		map[bool]string{false: " or {\"shortest_edge\"}", true: ""}[square])
}

func parseTriple(v json.RawMessage) ([3]float32, error) {
	var one float64
	if json.Unmarshal(v, &one) == nil {
		f := float32(one)
		return [3]float32{f, f, f}, nil
	}
	var l []float64
	if err := json.Unmarshal(v, &l); err != nil || len(l) != 3 {
		return [3]float32{}, fmt.Errorf("want a number or a list of 3 numbers, got %s", v)
	}
	return [3]float32{float32(l[0]), float32(l[1]), float32(l[2])}, nil
}

// Validate reports the first invalid field, if any.
func (c ProcessorConfig) Validate() error {
	if c.DoResize {
		if c.ShortestEdge < 0 || (c.ShortestEdge == 0 && (c.Height <= 0 || c.Width <= 0)) {
			return fmt.Errorf("field \"size\": need a positive shortest_edge or height and width (got shortest_edge=%d height=%d width=%d)", c.ShortestEdge, c.Height, c.Width)
		}
		if c.Resample < ResampleNearest || c.Resample > ResampleHamming {
			return fmt.Errorf("field \"resample\": unknown PIL filter code %d (want 0..5)", c.Resample)
		}
	}
	if c.DoCenterCrop && (c.CropHeight <= 0 || c.CropWidth <= 0) {
		return fmt.Errorf("field \"crop_size\": need positive height and width (got %dx%d)", c.CropHeight, c.CropWidth)
	}
	if c.DoRescale && (c.RescaleFactor <= 0 || math.IsInf(c.RescaleFactor, 0) || math.IsNaN(c.RescaleFactor)) {
		return fmt.Errorf("field \"rescale_factor\": must be a positive number, got %v", c.RescaleFactor)
	}
	if c.DoNormalize {
		for i, s := range c.Std {
			if s == 0 || s != s {
				return fmt.Errorf("field \"image_std\": entry %d is %v", i, s)
			}
		}
	}
	return nil
}

// ResizeSize returns the size the resize step produces for a w x h image
// (transformers' get_resize_output_image_size), or w, h if DoResize is off.
func (c ProcessorConfig) ResizeSize(w, h int) (int, int) {
	if !c.DoResize {
		return w, h
	}
	if c.ShortestEdge <= 0 {
		return c.Width, c.Height
	}
	s := c.ShortestEdge
	if w <= h {
		return s, int(float64(s*h) / float64(w))
	}
	return int(float64(s*w) / float64(h)), s
}

// OutputSize returns the width and height of the tensor Preprocess returns
// for a w x h image.
func (c ProcessorConfig) OutputSize(w, h int) (int, int) {
	if c.DoCenterCrop {
		return c.CropWidth, c.CropHeight
	}
	return c.ResizeSize(w, h)
}

// Preprocess runs CLIPImageProcessor on an RGB image: resize, centre crop,
// rescale and normalise, returning a [3, H, W] channel-first float32 tensor
// (H, W from OutputSize; CropHeight x CropWidth with centre crop on). dst is
// reused when its capacity suffices. c must be valid (see Validate; configs
// from ParseProcessorConfig are); an invalid config panics. The resize is
// Pillow-exact (Resize), except for an image from a reduced decode (Scale >
// 1), which is resized with ResizeFast.
func (c ProcessorConfig) Preprocess(img *RGB, dst []float32) []float32 {
	if err := c.Validate(); err != nil {
		panic("imageio: Preprocess with invalid config: " + err.Error())
	}
	if c.DoResize {
		w, h := c.ResizeSize(img.Width, img.Height)
		r := image.Rect(0, 0, w, h)
		var dx, dy int
		if c.DoCenterCrop {
			// Resample only the pixels the crop keeps (same values).
			r, dx, dy = cropRegion(w, h, c.CropWidth, c.CropHeight)
		}
		resize := ResizeRegion
		if img.Scale > 1 {
			resize = ResizeFastRegion
		}
		out, err := resize(img, w, h, c.Resample, r)
		if err != nil {
			panic("imageio: Preprocess: " + err.Error())
		}
		img = out
		if c.DoCenterCrop && (img.Width != c.CropWidth || img.Height != c.CropHeight) {
			img = pasteAt(img, c.CropWidth, c.CropHeight, dx, dy)
		}
	} else if c.DoCenterCrop {
		img = CenterCrop(img, c.CropWidth, c.CropHeight)
	}
	n := img.Width * img.Height
	if cap(dst) < 3*n {
		dst = make([]float32, 3*n)
	}
	dst = dst[:3*n]
	var lut [3][256]float32
	for ch := 0; ch < 3; ch++ {
		for u := 0; u < 256; u++ {
			x := float32(u)
			if c.DoRescale {
				x = float32(float64(u) * c.RescaleFactor)
			}
			if c.DoNormalize {
				x = (x - c.Mean[ch]) / c.Std[ch]
			}
			lut[ch][u] = x
		}
	}
	r, g, b := dst[:n], dst[n:2*n], dst[2*n:]
	for i := 0; i < n; i++ {
		p := img.Pix[3*i : 3*i+3]
		r[i] = lut[0][p[0]]
		g[i] = lut[1][p[1]]
		b[i] = lut[2][p[2]]
	}
	return dst
}

// CenterCrop crops the centre width x height region at top = (H-height)//2,
// left = (W-width)//2 (floor), as transformers' center_crop does. Where the
// image is smaller than the crop it is padded with zeros, the image placed
// at ((height-H)//2, (width-W)//2). (transformers itself returns one row or
// column too few when the padding is odd; this returns the full size.)
func CenterCrop(img *RGB, width, height int) *RGB {
	r, dx, dy := cropRegion(img.Width, img.Height, width, height)
	return pasteAt(cropRGB(img, r), width, height, dx, dy)
}

// cropRegion returns the part of a w x h image that a width x height centre
// crop keeps, and where it lands in the crop (non-zero only when padding).
func cropRegion(w, h, width, height int) (r image.Rectangle, dx, dy int) {
	axis := func(size, crop int) (lo, hi, d int) {
		if size >= crop {
			lo = floorDiv(size-crop, 2)
			return lo, lo + crop, 0
		}
		return 0, size, floorDiv(crop-size, 2)
	}
	x0, x1, dx := axis(w, width)
	y0, y1, dy := axis(h, height)
	return image.Rect(x0, y0, x1, y1), dx, dy
}

// pasteAt places img at (dx, dy) on a zeroed width x height image; img is
// returned as is when it already has that size.
func pasteAt(img *RGB, width, height, dx, dy int) *RGB {
	if img.Width == width && img.Height == height {
		return img
	}
	out := NewRGB(width, height)
	for y := 0; y < img.Height; y++ {
		copy(out.Pix[((y+dy)*width+dx)*3:], img.Pix[y*img.Width*3:(y+1)*img.Width*3])
	}
	return out
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
