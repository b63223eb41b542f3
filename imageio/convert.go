package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"strings"

	"golang.org/x/image/webp"
)

// toRGB converts a decoded image to RGB with Pillow's convert("RGB") rules:
// stored (non-premultiplied) colour with alpha dropped, gray replicated,
// palette looked up, 16-bit samples reduced to their high byte, CMYK via
// Pillow's cmyk2rgb.
func toRGB(m image.Image) (*RGB, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	p := out.Pix
	switch m := m.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[(y)*m.Stride : y*m.Stride+w]
			o := p[y*w*3:]
			for x, v := range row {
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*w]
			o := p[y*w*3:]
			for x := 0; x < w; x++ {
				v := row[2*x]
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.RGBA:
		// Premultiplied (TIFF associated alpha; alpha is 255 for PNG/BMP
		// RGB): undone like Pillow's "RGBa" unpacker.
		copyUnpremultiply8(p, m.Pix, m.Stride, w, h)
	case *image.NRGBA:
		copyDropAlpha8(p, m.Pix, m.Stride, w, h)
	case *image.RGBA64:
		copyUnpremultiply16(p, m.Pix, m.Stride, w, h)
	case *image.NRGBA64:
		copyDropAlpha16(p, m.Pix, m.Stride, w, h)
	case *image.Paletted:
		pal := make([][3]uint8, 256)
		for i, c := range m.Palette {
			if i >= len(pal) {
				break
			}
			pal[i] = paletteRGB(c)
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			o := p[y*w*3:]
			for x, idx := range row {
				c := pal[idx]
				o[3*x], o[3*x+1], o[3*x+2] = c[0], c[1], c[2]
			}
		}
	case *image.CMYK:
		// No decoder used here returns CMYK today (imageio/jpeg converts its
		// own, x/image/tiff refuses it); Pillow's formula, tested directly.
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			o := p[y*w*3:]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = cmykToRGB(row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
			}
		}
	case *image.YCbCr:
		// No decoder used here returns full-range YCbCr (WebP's limited-range
		// YUV is converted by yuvToRGBWebP); kept for completeness.
		for y := 0; y < h; y++ {
			o := p[y*w*3:]
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				o[3*x], o[3*x+1], o[3*x+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	default:
		return nil, fmt.Errorf("colour model %T: %w", m, ErrUnsupported)
	}
	return out, nil
}

// paletteRGB returns the stored (non-premultiplied) RGB of a palette entry.
func paletteRGB(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.RGBA:
		if c.A == 0xFF || c.A == 0 {
			return [3]uint8{c.R, c.G, c.B}
		}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}

func copyDropAlpha8(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+4*w]
		o := dst[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

func copyUnpremultiply8(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+4*w]
		o := dst[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			s := row[4*x : 4*x+4]
			switch a := int(s[3]); a {
			case 255:
				o[3*x], o[3*x+1], o[3*x+2] = s[0], s[1], s[2]
			case 0:
				o[3*x], o[3*x+1], o[3*x+2] = 0, 0, 0
			default:
				o[3*x] = clipInt8(int(s[0]) * 255 / a)
				o[3*x+1] = clipInt8(int(s[1]) * 255 / a)
				o[3*x+2] = clipInt8(int(s[2]) * 255 / a)
			}
		}
	}
}

func clipInt8(v int) uint8 {
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// copyUnpremultiply16 undoes premultiplication in 16 bits, then keeps the
// high byte.
func copyUnpremultiply16(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+8*w]
		o := dst[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			s := row[8*x : 8*x+8]
			a := int(s[6])<<8 | int(s[7])
			for c := 0; c < 3; c++ {
				v := int(s[2*c])<<8 | int(s[2*c+1])
				switch a {
				case 0xffff:
				case 0:
					v = 0
				default:
					v = min(v*0xffff/a, 0xffff)
				}
				o[3*x+c] = uint8(v >> 8)
			}
		}
	}
}

func copyDropAlpha16(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+8*w]
		o := dst[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = row[8*x], row[8*x+2], row[8*x+4]
		}
	}
}

// cmykToRGB is Pillow's cmyk2rgb (libImaging/Convert.c).
func cmykToRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := 255 - int(k)
	f := func(v uint8) uint8 {
		t := int(v)*nk + 128
		r := nk - ((t>>8)+t)>>8
		if r < 0 {
			return 0
		}
		return uint8(r)
	}
	return f(c), f(m), f(y)
}

// decodeGIF decodes the first frame onto the logical screen as Pillow does:
// the area outside the frame holds palette index 0 (or the transparent
// index), and the transparent entry keeps its palette RGB.
func decodeGIF(data []byte) (*RGB, error) {
	fr, err := scanGIF(data)
	if err != nil {
		return nil, err
	}
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	m, err := gif.Decode(bytes.NewReader(data))
	if err != nil && strings.Contains(err.Error(), "invalid pixel value") && fr.palette != nil {
		// Pixels beyond the colour table: image/gif refuses them, Pillow
		// shows its default palette there (grey i,i,i). Retry with the
		// table padded to 256 entries.
		m, err = gif.Decode(bytes.NewReader(padGIFTable(data, fr)))
	}
	if err != nil {
		return nil, err
	}
	pm, ok := m.(*image.Paletted)
	if !ok {
		return nil, fmt.Errorf("gif: unexpected %T", m)
	}
	var pal [256][3]uint8
	for i := range pal {
		pal[i] = [3]uint8{uint8(i), uint8(i), uint8(i)} // Pillow's default palette
	}
	for i := 0; i+2 < len(fr.palette) && i/3 < 256; i += 3 {
		pal[i/3] = [3]uint8{fr.palette[i], fr.palette[i+1], fr.palette[i+2]}
	}
	out := NewRGB(cfg.Width, cfg.Height)
	bg := pal[0]
	if fr.transparent >= 0 {
		bg = pal[fr.transparent]
	}
	for i := 0; i < len(out.Pix); i += 3 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = bg[0], bg[1], bg[2]
	}
	r := pm.Bounds().Intersect(image.Rect(0, 0, cfg.Width, cfg.Height))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := pal[pm.Pix[pm.PixOffset(x, y)]]
			o := (y*cfg.Width + x) * 3
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = c[0], c[1], c[2]
		}
	}
	return out, nil
}

// padGIFTable returns a copy of a GIF whose first frame's colour table is
// extended to 256 entries (grey ramp after the stored ones).
func padGIFTable(data []byte, fr gifFrame) []byte {
	out := make([]byte, 0, len(data)+768)
	out = append(out, data[:fr.tableAt]...)
	out[fr.flagsAt] |= 7
	out = append(out, fr.palette...)
	for i := len(fr.palette) / 3; i < 256; i++ {
		out = append(out, byte(i), byte(i), byte(i))
	}
	return append(out, data[fr.tableAt+len(fr.palette):]...)
}

// decodeWebP decodes a still WebP. Lossless images are exact; lossy ones are
// converted from YUV 4:2:0 with libwebp's default "fancy" chroma upsampling
// and its 14-bit fixed-point BT.601 conversion, which is what Pillow's
// libwebp-based decoder returns.
func decodeWebP(data []byte) (*RGB, error) {
	if isAnimatedWebP(data) {
		return decodeWebPFirstFrame(data)
	}
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *image.YCbCr:
		return yuvToRGBWebP(m), nil
	case *image.NYCbCrA:
		return yuvToRGBWebP(&m.YCbCr), nil
	}
	return toRGB(m)
}

// libwebp's VP8YUVToR/G/B (src/dsp/yuv.h).
func webpMultHi(v, coeff int) int { return (v * coeff) >> 8 }

func webpClip8(v int) uint8 {
	const mask = (256 << 6) - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func webpYUVToRGB(y, u, v int, o []uint8) {
	yy := webpMultHi(y, 19077)
	o[0] = webpClip8(yy + webpMultHi(v, 26149) - 14234)
	o[1] = webpClip8(yy - webpMultHi(u, 6419) - webpMultHi(v, 13320) + 8708)
	o[2] = webpClip8(yy + webpMultHi(u, 33050) - 17685)
}

// yuvToRGBWebP is libwebp's EmitFancyRGB + UpsampleRgbLinePair.
func yuvToRGBWebP(m *image.YCbCr) *RGB {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	yrow := func(y int) []uint8 { return m.Y[y*m.YStride : y*m.YStride+w] }
	uvw := (w + 1) / 2
	urow := func(cy int) []uint8 { return m.Cb[cy*m.CStride : cy*m.CStride+uvw] }
	vrow := func(cy int) []uint8 { return m.Cr[cy*m.CStride : cy*m.CStride+uvw] }
	dst := func(y int) []uint8 { return out.Pix[y*w*3 : (y+1)*w*3] }

	webpUpsamplePair(yrow(0), nil, urow(0), vrow(0), urow(0), vrow(0), dst(0), nil, w)
	cy := 0
	y := 0
	for ; y+2 < h; y += 2 {
		webpUpsamplePair(yrow(y+1), yrow(y+2), urow(cy), vrow(cy), urow(cy+1), vrow(cy+1), dst(y+1), dst(y+2), w)
		cy++
	}
	if h&1 == 0 {
		webpUpsamplePair(yrow(h-1), nil, urow(cy), vrow(cy), urow(cy), vrow(cy), dst(h-1), nil, w)
	}
	return out
}

func webpUpsamplePair(topY, botY, topU, topV, curU, curV, topDst, botDst []uint8, n int) {
	load := func(u, v uint8) uint32 { return uint32(u) | uint32(v)<<16 }
	emit := func(y uint8, uv uint32, o []uint8) {
		webpYUVToRGB(int(y), int(uv&0xff), int(uv>>16), o)
	}
	last := (n - 1) >> 1
	tl := load(topU[0], topV[0])
	l := load(curU[0], curV[0])
	emit(topY[0], (3*tl+l+0x00020002)>>2, topDst[0:])
	if botY != nil {
		emit(botY[0], (3*l+tl+0x00020002)>>2, botDst[0:])
	}
	for x := 1; x <= last; x++ {
		t := load(topU[x], topV[x])
		uv := load(curU[x], curV[x])
		avg := tl + t + l + uv + 0x00080008
		d12 := (avg + 2*(t+l)) >> 3
		d03 := (avg + 2*(tl+uv)) >> 3
		emit(topY[2*x-1], (d12+tl)>>1, topDst[3*(2*x-1):])
		emit(topY[2*x], (d03+t)>>1, topDst[3*(2*x):])
		if botY != nil {
			emit(botY[2*x-1], (d03+l)>>1, botDst[3*(2*x-1):])
			emit(botY[2*x], (d12+uv)>>1, botDst[3*(2*x):])
		}
		tl, l = t, uv
	}
	if n&1 == 0 {
		emit(topY[n-1], (3*tl+l+0x00020002)>>2, topDst[3*(n-1):])
		if botY != nil {
			emit(botY[n-1], (3*l+tl+0x00020002)>>2, botDst[3*(n-1):])
		}
	}
}
