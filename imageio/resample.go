package imageio

import (
	"fmt"
	"image"
	"math"
)

// Pillow resampling filter codes (PIL.Image.Resampling).
const (
	ResampleNearest  = 0
	ResampleLanczos  = 1
	ResampleBilinear = 2
	ResampleBicubic  = 3
	ResampleBox      = 4
	ResampleHamming  = 5
)

// precisionBits is Pillow's PRECISION_BITS for 8-bit images.
const precisionBits = 32 - 8 - 2

type filter struct {
	fn      func(x float64) float64
	support float64
}

func bicubicFilter(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((a+2)*x-(a+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

func bilinearFilter(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

func boxFilter(x float64) float64 {
	if x > -0.5 && x <= 0.5 {
		return 1
	}
	return 0
}

func hammingFilter(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x == 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	x *= math.Pi
	// Pillow writes 0.54f and 0.46f: float constants widened to double.
	return math.Sin(x) / x * (float64(float32(0.54)) + float64(float32(0.46))*math.Cos(x))
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

func lanczosFilter(x float64) float64 {
	if -3 <= x && x < 3 {
		return sinc(x) * sinc(x/3)
	}
	return 0
}

// filterFor returns Pillow's filter for a resample code (NEAREST excluded).
func filterFor(resample int) (filter, error) {
	switch resample {
	case ResampleBicubic:
		return filter{bicubicFilter, 2}, nil
	case ResampleBilinear:
		return filter{bilinearFilter, 1}, nil
	case ResampleBox:
		return filter{boxFilter, 0.5}, nil
	case ResampleHamming:
		return filter{hammingFilter, 1}, nil
	case ResampleLanczos:
		return filter{lanczosFilter, 3}, nil
	}
	return filter{}, fmt.Errorf("unknown resample code %d", resample)
}

// coeffs is Pillow's precompute_coeffs + normalize_coeffs_8bpc for a
// full-image box: for each output pixel, the first input index, the number
// of taps and ksize fixed-point weights.
type coeffs struct {
	ksize  int
	bounds []int   // 2 per output: xmin, count
	k      []int32 // ksize per output
}

// precomputeCoeffs computes the coefficients of output pixels from..to-1 of
// an inSize -> outSize resize (each output's are independent of the others).
func precomputeCoeffs(inSize, outSize int, f filter, from, to int) coeffs {
	in0, in1 := float32(0), float32(inSize)
	scale := float64(in1-in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	n := to - from
	c := coeffs{ksize: ksize, bounds: make([]int, 2*n), k: make([]int32, n*ksize)}
	tmp := make([]float64, ksize)
	for xx := from; xx < to; xx++ {
		center := float64(in0) + (float64(xx)+0.5)*scale
		ss := 1 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := f.fn((float64(x+xmin) - center + 0.5) * ss)
			tmp[x] = w
			ww += w
		}
		i := xx - from
		k := c.k[i*ksize : (i+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := tmp[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.bounds[2*i] = xmin
		c.bounds[2*i+1] = xmax
	}
	return c
}

func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// resampleHorizontal resamples rows y0..y0+rows-1 of in with c (one output
// column per coefficient set).
func resampleHorizontal(in *RGB, y0, rows int, c coeffs) *RGB {
	outW := len(c.bounds) / 2
	out := NewRGB(outW, rows)
	for y := 0; y < rows; y++ {
		src := in.Pix[(y0+y)*in.Width*3 : (y0+y+1)*in.Width*3]
		dst := out.Pix[y*outW*3 : (y+1)*outW*3]
		for xx := 0; xx < outW; xx++ {
			xmin, n := c.bounds[2*xx], c.bounds[2*xx+1]
			k := c.k[xx*c.ksize : xx*c.ksize+n]
			s := src[xmin*3 : (xmin+n)*3]
			var s0, s1, s2 int32 = 1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1)
			for x, kv := range k {
				p := s[3*x : 3*x+3]
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
			}
			dst[3*xx], dst[3*xx+1], dst[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
	return out
}

// resampleVertical resamples in vertically with c (one output row per
// coefficient set); in's row 0 is source row shift.
func resampleVertical(in *RGB, c coeffs, shift int) *RGB {
	w := in.Width
	outH := len(c.bounds) / 2
	out := NewRGB(w, outH)
	acc := make([]int32, 3*w)
	for yy := 0; yy < outH; yy++ {
		ymin, n := c.bounds[2*yy]-shift, c.bounds[2*yy+1]
		k := c.k[yy*c.ksize : yy*c.ksize+n]
		for i := range acc {
			acc[i] = 1 << (precisionBits - 1)
		}
		for y, kv := range k {
			row := in.Pix[(ymin+y)*w*3 : (ymin+y+1)*w*3]
			for i, p := range row {
				acc[i] += int32(p) * kv
			}
		}
		dst := out.Pix[yy*w*3 : (yy+1)*w*3]
		for i, v := range acc {
			dst[i] = clip8(v)
		}
	}
	return out
}

// Resize resizes img to width x height exactly as Pillow 9.4's
// Image.resize(size, resample) does for an RGB image (no box, no
// reducing_gap): separable passes (horizontal first), each skipped when
// that dimension is unchanged, 22-bit fixed-point weights and an 8-bit
// intermediate. resample is a PIL code (0 nearest, 1 lanczos, 2 bilinear,
// 3 bicubic, 4 box, 5 hamming). An unchanged size returns a copy.
func Resize(img *RGB, width, height, resample int) (*RGB, error) {
	return ResizeRegion(img, width, height, resample, image.Rect(0, 0, width, height))
}

// ResizeRegion returns the region r of Resize(img, width, height, resample)
// without computing the rest: identical pixels, but the work and memory
// scale with r (a centre crop of an extreme-aspect image stays cheap).
// r must lie within the width x height output.
func ResizeRegion(img *RGB, width, height, resample int, r image.Rectangle) (*RGB, error) {
	out, f, err := startResize(img, width, height, resample, r)
	if out != nil || err != nil {
		return out, err
	}
	needH := width != img.Width
	needV := height != img.Height
	var cv coeffs
	first, last := r.Min.Y, r.Max.Y // source rows the vertical pass reads
	if needV {
		cv = precomputeCoeffs(img.Height, height, f, r.Min.Y, r.Max.Y)
		n := len(cv.bounds) / 2
		first = cv.bounds[0]
		last = cv.bounds[2*n-2] + cv.bounds[2*n-1]
	}
	var tmp *RGB
	if needH {
		tmp = resampleHorizontal(img, first, last-first, precomputeCoeffs(img.Width, width, f, r.Min.X, r.Max.X))
	} else {
		tmp = cropRGB(img, image.Rect(r.Min.X, first, r.Max.X, last))
	}
	if !needV {
		return tmp, nil
	}
	return resampleVertical(tmp, cv, first), nil
}

// cropRGB copies the region r (within img).
func cropRGB(img *RGB, r image.Rectangle) *RGB {
	out := NewRGB(r.Dx(), r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(out.Pix[(y-r.Min.Y)*out.Width*3:], img.Pix[(y*img.Width+r.Min.X)*3:(y*img.Width+r.Max.X)*3])
	}
	return out
}

// ResizeBicubic is Resize with Pillow's BICUBIC filter (resample 3). It
// panics if width or height is not positive or img is empty (a caller bug,
// like make with a negative length); use Resize to get an error instead.
func ResizeBicubic(img *RGB, width, height int) *RGB {
	out, err := Resize(img, width, height, ResampleBicubic)
	if err != nil {
		panic(err) // only for non-positive sizes: a caller bug
	}
	return out
}

// ResizeBilinear is Resize with Pillow's BILINEAR filter (resample 2). It
// panics like ResizeBicubic.
func ResizeBilinear(img *RGB, width, height int) *RGB {
	out, err := Resize(img, width, height, ResampleBilinear)
	if err != nil {
		panic(err)
	}
	return out
}

// resizeNearest is region r of Pillow's NEAREST resize: an affine scale
// transform (ImagingScaleAffine) sampling at pixel centres, with the source
// positions accumulated step by step as Pillow does.
func resizeNearest(img *RGB, width, height int, r image.Rectangle) *RGB {
	out := NewRGB(r.Dx(), r.Dy())
	a0 := float64(float32(img.Width)) / float64(width)
	a4 := float64(float32(img.Height)) / float64(height)
	xin := make([]int, r.Dx())
	xo := a0 * 0.5
	for x := 0; x < r.Max.X; x++ {
		if x >= r.Min.X {
			xin[x-r.Min.X] = coord(xo, img.Width)
		}
		xo += a0
	}
	yo := a4 * 0.5
	for y := 0; y < r.Max.Y; y++ {
		sy := coord(yo, img.Height)
		yo += a4
		if y < r.Min.Y || sy < 0 {
			continue
		}
		src := img.Pix[sy*img.Width*3:]
		dst := out.Pix[(y-r.Min.Y)*out.Width*3:]
		for x, sx := range xin {
			if sx >= 0 {
				copy(dst[3*x:3*x+3], src[3*sx:3*sx+3])
			}
		}
	}
	return out
}

func coord(v float64, n int) int {
	if v < 0 {
		return -1
	}
	i := int(v)
	if i >= n {
		return -1
	}
	return i
}
