// Package imageio turns untrusted image bytes into the exact 8-bit RGB
// pixels, and from there the exact float32 pixel tensor, that Hugging Face's
// CLIPImageProcessor produces with Pillow 9.4: format sniffing by content,
// decompression-bomb limits checked from the header before any pixel is
// decoded, Pillow's convert("RGB") rules, EXIF orientation
// (ImageOps.exif_transpose semantics) and Pillow-exact resampling.
//
// Supported formats: JPEG (via imageio/jpeg, libjpeg-turbo-exact), PNG, GIF
// (first frame, on the logical screen), WebP (lossy, lossless, alpha, first
// frame of animations; lossy YUV converted with libwebp's fancy upsampling
// and fixed-point math, so bit-exact with Pillow), BMP and TIFF (the
// variants golang.org/x/image decodes; others give ErrUnsupported).
//
// Orientation follows Pillow's getexif: JPEG APP1 Exif, WebP EXIF chunk,
// TIFF's own Orientation tag, and for PNG the eXIf chunk, a
// "Raw profile type exif" text chunk or XMP tiff:Orientation.
//
// Deliberate differences from Pillow 9.4: a TIFF Orientation is applied
// once (Pillow applies it when loading and exif_transpose applies it again);
// 16-bit grayscale keeps the high byte (Pillow clips values to 255).
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Format names an image container format.
type Format string

// The formats Decode understands.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
)

// DefaultMaxPixels is the pixel limit used when Limits.MaxPixels is zero.
const DefaultMaxPixels = 100_000_000

// Sentinel errors; test for them with errors.Is.
var (
	// ErrTooLarge reports an image whose header claims more pixels than allowed.
	ErrTooLarge = errors.New("image too large")
	// ErrUnsupported reports a recognised format using a feature this package
	// cannot decode (e.g. a TIFF compression or colour model).
	ErrUnsupported = errors.New("unsupported image")
	// ErrNotImage reports bytes that are not an image in a supported format,
	// or an image whose data is corrupt or truncated.
	ErrNotImage = errors.New("not a supported image")
)

// Info describes an image as displayed.
type Info struct {
	Format Format
	// Width and Height are the displayed size, after EXIF orientation.
	Width, Height int
	// Orientation is the EXIF orientation 1..8 (1 when absent or invalid).
	Orientation int
	// EXIF holds the file's EXIF metadata (date taken, camera, GPS) when
	// HasEXIF is set: JPEG APP1, PNG eXIf, WebP EXIF chunk or TIFF IFD0.
	EXIF    EXIF
	HasEXIF bool
}

// Limits bounds the resources Decode may use.
type Limits struct {
	// MaxPixels is the largest width*height accepted; 0 means DefaultMaxPixels.
	MaxPixels int64
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// RGB is an 8-bit RGB image: 3 bytes per pixel, rows of Width*3 bytes.
type RGB struct {
	Width, Height int
	Pix           []uint8
	// Scale is the DCT scale (2, 4 or 8) of an image DecodeReduced
	// decoded at reduced size, 0 otherwise. Preprocess resizes such an
	// image with ResizeFast: it is not Pillow's pixels to begin with.
	Scale int
}

// NewRGB returns a zeroed width x height image.
func NewRGB(width, height int) *RGB {
	return &RGB{Width: width, Height: height, Pix: make([]uint8, width*height*3)}
}

// Sniff identifies the format from the first bytes of a file (its magic
// number); the file name plays no part.
func Sniff(head []byte) (Format, bool) {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return JPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, true
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF, true
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP, true
	case len(head) >= 2 && head[0] == 'B' && head[1] == 'M':
		return BMP, true
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return TIFF, true
	}
	return "", false
}

// unsupportedFormat names image formats recognised but not decoded.
func unsupportedFormat(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "avif", "avis":
			return "AVIF"
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "HEIF"
		}
	case bytes.HasPrefix(b, []byte{0xFF, 0x0A}), bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "JPEG XL"
	case bytes.HasPrefix(b, []byte("II+\x00")), bytes.HasPrefix(b, []byte("MM\x00+")):
		return "BigTIFF"
	case bytes.HasPrefix(b, []byte("\x00\x00\x01\x00")):
		return "ICO"
	}
	return ""
}

// header is what DecodeConfig learns without decoding pixels.
type header struct {
	format        Format
	width, height int // as stored
	orientation   int
	exif          []byte    // the EXIF block, nil if none
	png           pngHeader // PNG only
}

func (h header) info() Info {
	in := Info{Format: h.format, Width: h.width, Height: h.height, Orientation: h.orientation}
	if h.exif != nil {
		if ex, err := ParseEXIF(h.exif); err == nil {
			in.EXIF, in.HasEXIF = ex, true
		}
	}
	if h.orientation >= 5 {
		in.Width, in.Height = h.height, h.width
	}
	return in
}

// DecodeConfig reads the format, displayed dimensions and EXIF orientation
// from the header without decoding pixels.
func DecodeConfig(data []byte) (Info, error) {
	h, err := readHeader(data)
	if err != nil {
		return Info{}, err
	}
	return h.info(), nil
}

func readHeader(data []byte) (header, error) {
	f, ok := Sniff(data)
	if !ok {
		if len(data) == 0 {
			return header{}, fmt.Errorf("empty input: %w", ErrNotImage)
		}
		if name := unsupportedFormat(data); name != "" {
			return header{}, fmt.Errorf("%s images: %w", name, ErrUnsupported)
		}
		return header{}, fmt.Errorf("unrecognised file signature % x: %w", data[:min(len(data), 8)], ErrNotImage)
	}
	h := header{format: f, orientation: 1}
	var err error
	switch f {
	case JPEG:
		var jh jpegHeader
		jh, err = scanJPEG(data)
		h.width, h.height = jh.width, jh.height
		h.exif = jh.exif
		if jh.exif != nil {
			h.orientation = orientationOf(jh.exif)
		}
	case PNG:
		var ph pngHeader
		ph, err = scanPNG(data)
		h.png = ph
		h.width, h.height = ph.width, ph.height
		h.exif = ph.exif
		h.orientation = ph.orientation
	case WebP:
		if isAnimatedWebP(data) {
			h.width, h.height, err = webpCanvas(data)
		} else {
			var cfg image.Config
			cfg, err = webp.DecodeConfig(bytes.NewReader(data))
			h.width, h.height = cfg.Width, cfg.Height
		}
		if err == nil {
			if ex := webpEXIF(data); ex != nil {
				h.exif = ex
				h.orientation = orientationOf(ex)
			}
		}
	case GIF:
		var cfg image.Config
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
		h.width, h.height = cfg.Width, cfg.Height
	case BMP:
		var cfg image.Config
		cfg, err = bmp.DecodeConfig(bytes.NewReader(data))
		h.width, h.height = cfg.Width, cfg.Height
		if errors.Is(err, bmp.ErrUnsupported) {
			return header{}, fmt.Errorf("bmp header: %v: %w", err, ErrUnsupported)
		}
	case TIFF:
		var cfg image.Config
		cfg, err = tiff.DecodeConfig(bytes.NewReader(data))
		h.width, h.height = cfg.Width, cfg.Height
		if err == nil {
			h.exif = data
			h.orientation = orientationOf(data)
		}
		var ue tiff.UnsupportedError
		if errors.As(err, &ue) {
			return header{}, fmt.Errorf("tiff header: %v: %w", err, ErrUnsupported)
		}
	}
	if errors.Is(err, ErrUnsupported) {
		return header{}, fmt.Errorf("%s header: %w", f, err)
	}
	if err != nil {
		return header{}, fmt.Errorf("%s header: %v: %w", f, err, ErrNotImage)
	}
	if h.width <= 0 || h.height <= 0 {
		return header{}, fmt.Errorf("%s header: empty image %dx%d: %w", f, h.width, h.height, ErrNotImage)
	}
	return h, nil
}

// preflight rejects files too short for the pixels their header announces,
// where that is cheap to know, so that no image memory is allocated for them.
func (h header) preflight(data []byte) error {
	switch h.format {
	case PNG:
		return h.png.checkData()
	case BMP:
		return checkBMPData(data, h.width, h.height)
	}
	return nil
}

// orientationOf returns the EXIF orientation in an EXIF/TIFF block, 1 when
// absent or unreadable.
func orientationOf(exif []byte) int {
	e, err := ParseEXIF(exif)
	if err != nil {
		return 1
	}
	return e.Orientation
}

// Decode decodes an image into RGB the way Pillow's
// ImageOps.exif_transpose(Image.open(f)).convert("RGB") does. The header is
// checked against lim before any pixel is decoded: an image over the limit
// fails with ErrTooLarge (Info is still returned), and a file too short for
// the size it claims fails before image memory is allocated where the format
// allows knowing that cheaply (PNG, BMP).
func Decode(data []byte, lim Limits) (*RGB, Info, error) {
	return decode(data, lim, 0)
}

// decode is Decode with a JPEG reduced-size rule: minSide > 0 lets a JPEG
// decode at the DCT scale ReduceScale picks (see DecodeReduced).
func decode(data []byte, lim Limits, minSide int) (*RGB, Info, error) {
	h, err := readHeader(data)
	if err != nil {
		return nil, Info{}, err
	}
	info := h.info()
	if n, max := int64(h.width)*int64(h.height), lim.maxPixels(); n > max {
		return nil, info, fmt.Errorf("%s is %dx%d = %d pixels, limit %d: %w", h.format, h.width, h.height, n, max, ErrTooLarge)
	}
	if err := h.preflight(data); err != nil {
		return nil, info, fmt.Errorf("decode %s: %v: %w", h.format, err, ErrNotImage)
	}
	scale := 1
	if h.format == JPEG {
		scale = ReduceScale(h.width, h.height, minSide)
	}
	rgb, err := h.decodePixels(data, lim.maxPixels(), scale)
	if err != nil {
		if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrNotImage) || errors.Is(err, ErrTooLarge) {
			return nil, info, fmt.Errorf("decode %s: %w", h.format, err)
		}
		var te tiff.UnsupportedError
		if errors.As(err, &te) || errors.Is(err, bmp.ErrUnsupported) {
			return nil, info, fmt.Errorf("decode %s: %v: %w", h.format, err, ErrUnsupported)
		}
		return nil, info, fmt.Errorf("decode %s: %v: %w", h.format, err, ErrNotImage)
	}
	if w, ht := ceilDiv(h.width, scale), ceilDiv(h.height, scale); rgb.Width != w || rgb.Height != ht {
		if scale > 1 {
			return nil, info, fmt.Errorf("decode %s: header says %dx%d, pixels at 1/%d scale are %dx%d: %w", h.format, h.width, h.height, scale, rgb.Width, rgb.Height, ErrNotImage)
		}
		return nil, info, fmt.Errorf("decode %s: header says %dx%d, pixels are %dx%d: %w", h.format, h.width, h.height, rgb.Width, rgb.Height, ErrNotImage)
	}
	rgb = Orient(rgb, h.orientation)
	if scale > 1 {
		rgb.Scale = scale
	}
	return rgb, info, nil
}

// decodePixels runs the format's decoder (a JPEG at 1/scale size). A panic
// inside a third-party decoder on hostile input is turned into an error
// rather than taking the process down.
func (h header) decodePixels(data []byte, maxPixels int64, scale int) (rgb *RGB, err error) {
	defer func() {
		if r := recover(); r != nil {
			rgb, err = nil, fmt.Errorf("decoder panic: %v: %w", r, ErrNotImage)
		}
	}()
	switch h.format {
	case JPEG:
		if scale > 1 {
			return decodeJPEG(data, maxPixels, scale)
		}
		return decodeJPEG(data, maxPixels, 1)
	case PNG:
		if h.png.cleanEnd {
			data = append(data[:len(data):len(data)], "\x00\x00\x00\x00IEND\xaeB`\x82"...)
		}
		return decodeStd(data, png.Decode)
	case GIF:
		return decodeGIF(data)
	case WebP:
		return decodeWebP(data)
	case BMP:
		return decodeStd(data, bmp.Decode)
	case TIFF:
		return decodeStd(data, tiff.Decode)
	}
	return nil, fmt.Errorf("format %q: %w", h.format, ErrUnsupported)
}

func decodeStd(data []byte, dec func(r io.Reader) (image.Image, error)) (*RGB, error) {
	m, err := dec(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return toRGB(m)
}
