package jpeg

import "fmt"

// Upsampling methods chosen like libjpeg-turbo's jinit_upsampler with
// do_fancy_upsampling = TRUE.
const (
	upFull = iota // fullsize_upsample
	upH2V1        // h2v1_fancy_upsample
	upH1V2        // h1v2_fancy_upsample
	upH2V2        // h2v2_fancy_upsample
	upBox         // h2v1_upsample, h2v2_upsample, int_upsample
)

// plane is one component's decoded samples and how to upsample them.
type plane struct {
	pix    []uint8
	stride int
	dw, dh int // valid samples (libjpeg's downsampled_width/height)
	method int
	hr, vr int      // expansion factors
	ss     int      // IDCT output size of a block (1, 2, 4 or 8)
	idct   idctFunc // the IDCT producing ss x ss samples
	buf    []uint8
	colsum []int32
	lastY  int // output row currently in buf, -1 if none
}

// setupPlane sizes the sample plane p of component c. Its IDCT size p.ss
// follows jdmaster.c jpeg_calc_output_dimensions: 8/scale (libjpeg's
// min_DCT_scaled_size), or larger so that subsampled chroma needs less
// upsampling.
func (d *decoder) setupPlane(c *component, p *plane) {
	s := 8 / d.scale
	ss := s
	for ss < 8 && (d.maxH*s)%(c.h*ss*2) == 0 && (d.maxV*s)%(c.v*ss*2) == 0 {
		ss *= 2
	}
	p.ss = ss
	p.idct = idctFor(ss)
	// The plane covers whole MCUs (bw x bh blocks), so that the fast
	// decoder can store every block of an MCU unchecked.
	p.stride = c.bw * ss
	p.dw = divUp(d.width*c.h*ss, d.maxH*8)
	p.dh = divUp(d.height*c.v*ss, d.maxV*8)
	p.pix = make([]uint8, p.stride*c.bh*ss)
}

// output runs the IDCT, upsampling and color conversion.
func (d *decoder) output() (*Image, error) {
	if !d.frameSeen {
		return nil, FormatError("no frame header")
	}
	if d.scans == 0 {
		return nil, FormatError("no scans")
	}
	// DCT-domain scaling (jdmaster.c jpeg_calc_output_dimensions): s is
	// libjpeg's min_DCT_scaled_size; each component may use a larger IDCT
	// so that subsampled chroma needs less upsampling.
	s := 8 / d.scale
	streamed := d.planes != nil // samples already made by sampleMCU
	planes := d.planes
	if !streamed {
		planes = make([]plane, len(d.comps))
		d.allocCoef()
	}
	smooth := d.smoothingOK()
	var ws [64]int16
	for i := range d.comps {
		c := &d.comps[i]
		p := &planes[i]
		if !streamed {
			if c.quant == nil {
				// Never in a scan: libjpeg's IDCT table stays zero (mid-grey).
				c.quant = new([64]int32)
			}
			d.setupPlane(c, p)
		}
		ss := p.ss
		idct := idctFor(ss)
		for by := 0; by < c.rbh && !streamed; by++ {
			var rows, cols [5]int
			var bits [10]int
			if smooth {
				rows = d.smoothRows(c, by)
				bits = d.smoothBits(c, by)
				cols = [5]int{} // libjpeg's sliding registers start at column 0
			}
			for bx := 0; bx < c.rbw; bx++ {
				blk := c.coef[(by*c.bw+bx)*64:][:64]
				if smooth {
					// Emulate the register updates of decompress_smooth_data.
					if bx < c.rbw-1 {
						cols[3] = bx + 1
					}
					if bx+1 < c.rbw-1 {
						cols[4] = bx + 2
					}
					smoothBlock(c, bx, by, &rows, &cols, &bits, &ws)
					blk = ws[:]
					copy(cols[:4], cols[1:])
				}
				idct(blk, c.quant, p.pix[by*ss*p.stride+bx*ss:], p.stride)
			}
		}
		c.coef = nil // release memory early
		// jdsample.c jinit_upsampler's choice of method.
		hin, vin := c.h*ss/s, c.v*ss/s
		hout, vout := d.maxH, d.maxV
		fancy := s > 1
		p.hr, p.vr = hout/hin, vout/vin
		switch {
		case hin == hout && vin == vout:
			p.method = upFull
		case hin*2 == hout && vin == vout && fancy && p.dw > 2:
			p.method = upH2V1
		case hin == hout && vin*2 == vout && fancy:
			p.method = upH1V2
		case hin*2 == hout && vin*2 == vout && fancy && p.dw > 2:
			p.method = upH2V2
		case hout%hin == 0 && vout%vin == 0:
			p.method = upBox
		default:
			return nil, unsupported(fmt.Sprintf("fractional sampling factors (component %d)", i))
		}
		p.lastY = -1
		if p.method != upFull {
			p.buf = make([]uint8, p.dw*p.hr)
			if p.method == upH2V2 {
				p.colsum = make([]int32, p.dw)
			}
		}
	}
	w, h := divUp(d.width, d.scale), divUp(d.height, d.scale)
	switch len(d.comps) {
	case 1:
		img := &Image{Width: w, Height: h, Components: 1, Pix: make([]uint8, w*h)}
		p := &planes[0]
		for y := 0; y < h; y++ {
			copy(img.Pix[y*w:(y+1)*w], p.pix[y*p.stride:])
		}
		return img, nil
	case 3:
		img := &Image{Width: w, Height: h, Components: 3, Pix: make([]uint8, w*h*3)}
		rgb := d.colorSpace3() == csRGB
		t := newYCCTables()
		for y := 0; y < h; y++ {
			r0 := planes[0].row(y)[:w]
			r1 := planes[1].row(y)[:w]
			r2 := planes[2].row(y)[:w]
			out := img.Pix[y*w*3 : (y+1)*w*3]
			if rgb {
				for x := range r0 {
					out[3*x], out[3*x+1], out[3*x+2] = r0[x], r1[x], r2[x]
				}
			} else {
				t.convert(out, r0, r1, r2)
			}
		}
		return img, nil
	case 4:
		img := &Image{Width: w, Height: h, Components: 3, Pix: make([]uint8, w*h*3)}
		ycck := d.adobe && d.adobeTransform != 0
		t := newYCCTables()
		for y := 0; y < h; y++ {
			r0 := planes[0].row(y)[:w]
			r1 := planes[1].row(y)[:w]
			r2 := planes[2].row(y)[:w]
			r3 := planes[3].row(y)[:w]
			out := img.Pix[y*w*3 : (y+1)*w*3]
			for x := range r0 {
				c, m, yy := int32(r0[x]), int32(r1[x]), int32(r2[x])
				if ycck {
					// jdcolor.c ycck_cmyk_convert.
					c, m, yy = t.ycc(c, m, yy)
					c, m, yy = clamp8(255-c), clamp8(255-m), clamp8(255-yy)
				}
				// Pillow: "CMYK;I" inverts every byte, then cmyk2rgb.
				nk := int32(r3[x]) // 255 - (255 - K)
				out[3*x] = pillowCMYK(255-c, nk)
				out[3*x+1] = pillowCMYK(255-m, nk)
				out[3*x+2] = pillowCMYK(255-yy, nk)
			}
		}
		return img, nil
	}
	return nil, unsupported(fmt.Sprintf("%d components", len(d.comps)))
}

// sampleRange clamps v-256 to 0..255 for v in 0..1023 (libjpeg's
// sample_range_limit, which color conversion indexes with y + offset).
var sampleRange = func() (t [1024]uint8) {
	for i := range t {
		t[i] = uint8(clamp8(int32(i - 256)))
	}
	return t
}()

// pillowCMYK is Pillow's cmyk2rgb for one channel: nk - c*nk/255 (rounded
// with MULDIV255), clipped.
func pillowCMYK(c, nk int32) uint8 {
	t := c*nk + 128
	return uint8(clamp8(nk - ((t>>8)+t)>>8))
}

func clamp8(v int32) int32 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}

const (
	csYCbCr = iota
	csRGB
)

// colorSpace3 guesses the color space of a 3-component image like
// libjpeg's default_decompress_parms.
func (d *decoder) colorSpace3() int {
	if d.jfif {
		return csYCbCr
	}
	if d.adobe {
		if d.adobeTransform == 0 {
			return csRGB
		}
		return csYCbCr
	}
	c := d.comps
	if c[0].id == 'R' && c[1].id == 'G' && c[2].id == 'B' {
		return csRGB
	}
	return csYCbCr
}

// yccTables are jdcolor.c's build_ycc_rgb_table tables (SCALEBITS = 16).
type yccTables struct {
	crR, cbB [256]int32
	crG, cbG [256]int32
	// The same with sampleRange's +256 offset folded in (for green as
	// 256<<16 before the shift, which is exact), for convert.
	crR256, cbB256, cbG256 [256]int32
}

func newYCCTables() *yccTables {
	const (
		scaleBits  = 16
		oneHalf    = 1 << (scaleBits - 1)
		fix1_40200 = 91881  // FIX(1.40200)
		fix1_77200 = 116130 // FIX(1.77200)
		fix0_71414 = 46802  // FIX(0.71414)
		fix0_34414 = 22554  // FIX(0.34414)
	)
	t := &yccTables{}
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		t.crR[i] = (fix1_40200*x + oneHalf) >> scaleBits
		t.cbB[i] = (fix1_77200*x + oneHalf) >> scaleBits
		t.crG[i] = -fix0_71414 * x
		t.cbG[i] = -fix0_34414*x + oneHalf
		t.crR256[i] = t.crR[i] + 256
		t.cbB256[i] = t.cbB[i] + 256
		t.cbG256[i] = t.cbG[i] + 256<<16
	}
	return t
}

// ycc converts one YCbCr sample to unclamped R, G, B.
func (t *yccTables) ycc(y, cb, cr int32) (int32, int32, int32) {
	return y + t.crR[cr], y + (t.cbG[cb]+t.crG[cr])>>16, y + t.cbB[cb]
}

func (t *yccTables) convert(out, y, cb, cr []uint8) {
	cb = cb[:len(y)]
	cr = cr[:len(y)]
	out = out[:3*len(y)]
	for x, v := range y {
		yy := int32(v)
		b, r := cb[x], cr[x]
		o := out[3*x : 3*x+3 : 3*x+3]
		o[0] = sampleRange[(yy+t.crR256[r])&1023]
		o[1] = sampleRange[(yy+(t.cbG256[b]+t.crG[r])>>16)&1023]
		o[2] = sampleRange[(yy+t.cbB256[b])&1023]
	}
}

// row returns output row y of the upsampled plane (at least the image width
// long).
func (p *plane) row(y int) []uint8 {
	if p.method == upFull {
		return p.pix[y*p.stride:]
	}
	if y == p.lastY {
		return p.buf
	}
	p.lastY = y
	iy := y / p.vr
	in := p.pix[iy*p.stride : iy*p.stride+p.dw]
	out := p.buf
	n := p.dw
	switch p.method {
	case upBox:
		k := 0
		for _, v := range in {
			for j := 0; j < p.hr; j++ {
				out[k] = v
				k++
			}
		}
	case upH2V1:
		// Triangle filter: 3/4 nearer + 1/4 further sample.
		out[0] = in[0]
		out[1] = uint8((3*int32(in[0]) + int32(in[1]) + 2) >> 2)
		for i := 1; i < n-1; i++ {
			v := 3 * int32(in[i])
			out[2*i] = uint8((v + int32(in[i-1]) + 1) >> 2)
			out[2*i+1] = uint8((v + int32(in[i+1]) + 2) >> 2)
		}
		out[2*n-2] = uint8((3*int32(in[n-1]) + int32(in[n-2]) + 1) >> 2)
		out[2*n-1] = in[n-1]
	case upH1V2, upH2V2:
		var ny, bias int
		if y%2 == 0 {
			ny, bias = max(iy-1, 0), 1
		} else {
			ny, bias = min(iy+1, p.dh-1), 2
		}
		in1 := p.pix[ny*p.stride : ny*p.stride+p.dw]
		if p.method == upH1V2 {
			for i := range in {
				out[i] = uint8((3*int32(in[i]) + int32(in1[i]) + int32(bias)) >> 2)
			}
			break
		}
		cs := p.colsum
		for i := range in {
			cs[i] = 3*int32(in[i]) + int32(in1[i])
		}
		out[0] = uint8((cs[0]*4 + 8) >> 4)
		out[1] = uint8((cs[0]*3 + cs[1] + 7) >> 4)
		for i := 1; i < n-1; i++ {
			v := 3 * cs[i]
			out[2*i] = uint8((v + cs[i-1] + 8) >> 4)
			out[2*i+1] = uint8((v + cs[i+1] + 7) >> 4)
		}
		out[2*n-2] = uint8((cs[n-1]*3 + cs[n-2] + 8) >> 4)
		out[2*n-1] = uint8((cs[n-1]*4 + 7) >> 4)
	}
	return out
}
