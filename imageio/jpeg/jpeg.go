// Package jpeg decodes baseline and progressive JPEG images into 8-bit RGB or
// grayscale pixels that are identical to what libjpeg-turbo 2.1.5 produces with
// its default settings (as used by Pillow 9.4's Image.open(f).convert("RGB")):
// the accurate integer inverse DCT (JDCT_ISLOW), "fancy" triangle-filter
// upsampling of subsampled chroma, and libjpeg's fixed-point YCbCr->RGB
// conversion. CMYK and YCCK images are converted to RGB the way Pillow converts
// its "CMYK;I" JPEG images.
//
// Not supported (a clear error is returned): arithmetic coding, lossless and
// hierarchical JPEG, 12- and 16-bit samples, and DNL-defined heights.
package jpeg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Image is a decoded JPEG image.
type Image struct {
	// Width and Height are the image size in pixels.
	Width, Height int
	// Components is 1 for grayscale or 3 for RGB (CMYK/YCCK images are
	// converted to RGB).
	Components int
	// Pix holds the samples interleaved, row by row, with a stride of
	// Width*Components bytes.
	Pix []uint8
}

// Options control decoding. A nil *Options means the defaults.
type Options struct {
	// MaxPixels makes Decode refuse images whose Width*Height exceeds it,
	// checked from the frame header before any pixel memory is allocated.
	// 0 means no limit.
	MaxPixels int64
	// Scale reduces the output size by 2, 4 or 8 in the DCT domain, like
	// libjpeg's scale_num/scale_denom = 1/Scale (djpeg -scale 1/N): the
	// result is ceil(Width/Scale) x ceil(Height/Scale) and matches
	// libjpeg-turbo's reduced-size IDCTs exactly. 0 or 1 means full size.
	Scale int
}

// Config describes a JPEG image without decoding its pixels.
type Config struct {
	// Width and Height are the image size in pixels.
	Width, Height int
	// Components is the number of components Decode returns: 1 (grayscale) or
	// 3 (RGB, also for CMYK/YCCK files).
	Components int
	// Progressive reports a progressive (SOF2) frame.
	Progressive bool
	// Subsampling names the chroma subsampling of 3-component images, such as
	// "4:4:4", "4:2:2", "4:2:0", "4:1:1" or "4:4:0"; "4:0:0" for grayscale;
	// otherwise the per-component sampling factors as "HxV,HxV,...".
	Subsampling string
}

// ErrTruncated is wrapped by errors for input that ends too early.
var ErrTruncated = errors.New("jpeg: truncated data")

// ErrUnsupported is wrapped by errors for valid JPEG features that this
// package does not decode (arithmetic coding, 12-bit samples, lossless, ...).
var ErrUnsupported = errors.New("jpeg: unsupported feature")

// FormatError reports malformed JPEG data.
type FormatError string

// Error implements error.
func (e FormatError) Error() string { return "jpeg: invalid format: " + string(e) }

func truncated(what string) error { return fmt.Errorf("%w: %s", ErrTruncated, what) }

func unsupported(what string) error { return fmt.Errorf("%w: %s", ErrUnsupported, what) }

// Decode reads a JPEG image from r and decodes it like libjpeg-turbo's
// default decompression followed by Pillow's conversion to RGB (or L for
// grayscale images).
func Decode(r io.Reader, opts *Options) (*Image, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("jpeg: read: %w", err)
	}
	return DecodeBytes(data, opts)
}

// DecodeBytes decodes the JPEG image in data like Decode, without copying
// the data. data is only read, and not retained after the call.
func DecodeBytes(data []byte, opts *Options) (*Image, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	switch o.Scale {
	case 0:
		o.Scale = 1
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("jpeg: Options.Scale %d is not 1, 2, 4 or 8", o.Scale)
	}
	return decode(&decoder{data: data, maxPixels: o.MaxPixels, scale: o.Scale})
}

func decode(d *decoder) (*Image, error) {
	if err := d.run(false); err != nil {
		return nil, err
	}
	return d.output()
}

// DecodeConfig reads the JPEG headers from r up to the frame header and
// returns the image's size and layout.
func DecodeConfig(r io.Reader) (Config, error) {
	d := &decoder{src: r}
	if err := d.run(true); err != nil {
		return Config{}, err
	}
	return d.config(), nil
}

func (d *decoder) config() Config {
	c := Config{Width: d.width, Height: d.height, Progressive: d.progressive}
	c.Components = 3
	if len(d.comps) == 1 {
		c.Components = 1
	}
	c.Subsampling = subsamplingName(d.comps)
	return c
}

func subsamplingName(comps []component) string {
	if len(comps) == 1 {
		return "4:0:0"
	}
	generic := func() string {
		s := ""
		for i, c := range comps {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprintf("%dx%d", c.h, c.v)
		}
		return s
	}
	if len(comps) != 3 || comps[1].h != comps[2].h || comps[1].v != comps[2].v ||
		comps[1].h != 1 || comps[1].v != 1 {
		return generic()
	}
	switch [2]int{comps[0].h, comps[0].v} {
	case [2]int{1, 1}:
		return "4:4:4"
	case [2]int{2, 1}:
		return "4:2:2"
	case [2]int{2, 2}:
		return "4:2:0"
	case [2]int{4, 1}:
		return "4:1:1"
	case [2]int{1, 2}:
		return "4:4:0"
	case [2]int{4, 2}:
		return "4:1:0"
	}
	return generic()
}

// readAll is io.ReadAll that, for readers reporting their unread length
// (bytes.Reader, strings.Reader, bytes.Buffer), reads into one buffer of
// that size instead of growing one step by step.
func readAll(r io.Reader) ([]byte, error) {
	l, ok := r.(interface{ Len() int })
	if !ok {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(l.Len(), 0)+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}
