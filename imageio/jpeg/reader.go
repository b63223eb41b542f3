package jpeg

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// JPEG marker codes (second byte after 0xFF).
const (
	mSOF0  = 0xC0 // baseline
	mSOF1  = 0xC1 // extended sequential, Huffman
	mSOF2  = 0xC2 // progressive, Huffman
	mSOF3  = 0xC3 // lossless, Huffman
	mDHT   = 0xC4
	mDAC   = 0xCC
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mAPP0  = 0xE0
	mAPP14 = 0xEE
	mCOM   = 0xFE
)

// maxDimension is libjpeg's JPEG_MAX_DIMENSION.
const maxDimension = 65500

// maxBlocksInMCU is libjpeg's D_MAX_BLOCKS_IN_MCU.
const maxBlocksInMCU = 10

// component is one frame component and its decoded coefficients.
type component struct {
	id   uint8
	h, v int // sampling factors
	tq   int // quantization table selector
	// quant is the latched quantization table, as libjpeg's ISLOW_MULT_TYPE
	// (16-bit signed) values.
	quant *[64]int32
	qraw  [64]uint16 // the same table as stored (for block smoothing)
	// dw, dh are libjpeg's downsampled_width/height: the component's size in
	// samples. bw, bh is the size of the coefficient grid in blocks (padded
	// to whole MCUs); rbw, rbh covers dw x dh only.
	dw, dh   int
	bw, bh   int
	rbw, rbh int
	coef     []int16 // bw*bh blocks of 64 coefficients, natural order
	// dcTable, acTable are the Huffman table selectors of the current scan.
	dcTable, acTable int
	// scanned records that the component has appeared in a scan.
	scanned bool
	// coefBits is libjpeg's coef_bits for progressive scans: the Al of the
	// last scan of each coefficient, -1 before its first scan.
	coefBits [64]int
	// prevCoefBits are the coefBits before the component's latest scan.
	prevCoefBits [64]int
}

type decoder struct {
	src  io.Reader // non-nil for DecodeConfig: data is read lazily
	data []byte
	pos  int

	maxPixels int64
	scale     int // 1, 2, 4 or 8: output is 1/scale of the image size

	width, height  int
	progressive    bool
	frameSeen      bool
	comps          []component
	maxH, maxV     int
	mcusX, mcusY   int
	quant          [4]*[64]uint16
	huff           [2][4]*huffTable // [class][id]
	restartInt     int
	jfif           bool
	adobe          bool
	adobeTransform int
	eoi            bool
	singleScan     bool // finished after the only scan
	// lastGoodIMCURow is libjpeg's last_good_iMCU_row: the last iMCU row
	// decoded before the data ran out (in the last scan).
	lastGoodIMCURow int
	scans           int
	// planes holds the samples of a single-scan sequential image, which is
	// decoded straight into them (nil otherwise).
	planes []plane
	blk    [64]int16 // the block being decoded into planes
	// fast holds the fast decoder's state for the scan (scanfast.go).
	fast []fastComp
	// lastMarker caches lastMarkerPos: 0 before it is computed.
	lastMarker int
	// noFast disables the fast decoder (tests compare the two).
	noFast bool
}

// need makes sure n bytes from d.pos are available.
func (d *decoder) need(n int, what string) error {
	if d.pos+n <= len(d.data) {
		return nil
	}
	if d.src != nil {
		want := d.pos + n - len(d.data)
		buf := make([]byte, want)
		m, err := io.ReadFull(d.src, buf)
		d.data = append(d.data, buf[:m]...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("jpeg: read %s: %w", what, err)
		}
	}
	return truncated(what)
}

func (d *decoder) u16() int {
	v := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	d.pos += 2
	return v
}

// nextMarker skips to the next marker, like libjpeg's next_marker: garbage
// bytes before it and 0xFF fill bytes are skipped.
func (d *decoder) nextMarker() (byte, error) {
	for {
		if err := d.need(1, "marker"); err != nil {
			return 0, err
		}
		if d.data[d.pos] != 0xFF {
			d.pos++
			continue
		}
		// Skip fill bytes.
		for {
			if err := d.need(2, "marker"); err != nil {
				return 0, err
			}
			if d.data[d.pos+1] != 0xFF {
				break
			}
			d.pos++
		}
		m := d.data[d.pos+1]
		d.pos += 2
		if m == 0 { // stuffed zero: not a marker
			continue
		}
		return m, nil
	}
}

// segment reads a marker segment's length and returns its payload.
func (d *decoder) segment(name string) ([]byte, error) {
	if err := d.need(2, name+" length"); err != nil {
		return nil, err
	}
	n := d.u16()
	if n < 2 {
		return nil, FormatError(name + " segment length")
	}
	if err := d.need(n-2, name+" segment"); err != nil {
		return nil, err
	}
	p := d.data[d.pos : d.pos+n-2]
	d.pos += n - 2
	return p, nil
}

// run parses the stream. With configOnly it stops after the frame header.
func (d *decoder) run(configOnly bool) error {
	if err := d.need(2, "SOI"); err != nil {
		return err
	}
	if d.data[0] != 0xFF || d.data[1] != mSOI {
		return FormatError("missing SOI marker")
	}
	d.pos = 2
	for {
		m, err := d.nextMarker()
		if err != nil {
			// Like Pillow (which reports "image file is truncated"), a
			// missing EOI is an error even if all scans are complete.
			if errors.Is(err, ErrTruncated) && !configOnly {
				return truncated("missing EOI (image data incomplete)")
			}
			return err
		}
		switch {
		case m == mSOF0 || m == mSOF1 || m == mSOF2:
			if d.frameSeen {
				return FormatError("more than one SOF marker")
			}
			p, err := d.segment("SOF")
			if err != nil {
				return err
			}
			if err := d.parseSOF(p, m == mSOF2); err != nil {
				return err
			}
			if configOnly {
				return nil
			}
			// libjpeg's upsampler refuses non-integral ratios before
			// reading any scan.
			for i, c := range d.comps {
				if d.maxH%c.h != 0 || d.maxV%c.v != 0 {
					return unsupported(fmt.Sprintf("fractional sampling factors (component %d: %dx%d, max %dx%d)", i, c.h, c.v, d.maxH, d.maxV))
				}
			}
		case m == mSOF3 || m == 0xC5 || m == 0xC6 || m == 0xC7:
			return unsupported(fmt.Sprintf("lossless or hierarchical JPEG (SOF%d)", m-mSOF0))
		case m >= 0xC9 && m <= 0xCF && m != mDAC || m == 0xC8:
			if m == 0xC8 {
				return unsupported("JPG marker (SOF extension)")
			}
			return unsupported(fmt.Sprintf("arithmetic coding (SOF%d)", m-mSOF0))
		case m == mDAC:
			return unsupported("arithmetic coding (DAC marker)")
		case m == mDHT:
			p, err := d.segment("DHT")
			if err != nil {
				return err
			}
			if err := d.parseDHT(p); err != nil {
				return err
			}
		case m == mDQT:
			p, err := d.segment("DQT")
			if err != nil {
				return err
			}
			if err := d.parseDQT(p); err != nil {
				return err
			}
		case m == mDRI:
			p, err := d.segment("DRI")
			if err != nil {
				return err
			}
			if len(p) != 2 {
				return FormatError("DRI segment length")
			}
			d.restartInt = int(p[0])<<8 | int(p[1])
		case m == mSOS:
			if configOnly {
				return FormatError("SOS before SOF")
			}
			p, err := d.segment("SOS")
			if err != nil {
				return err
			}
			if err := d.decodeScan(p); err != nil {
				return err
			}
			if d.singleScan {
				return nil
			}
		case m == mEOI:
			if configOnly || !d.frameSeen {
				return FormatError("EOI before frame header")
			}
			if d.scans == 0 {
				return FormatError("no scans before EOI")
			}
			d.eoi = true
			return nil
		case m == mDNL:
			// libjpeg skips a DNL segment (a zero height was refused at SOF).
			if _, err := d.segment("DNL"); err != nil {
				return err
			}
		case m >= mRST0 && m <= mRST7 || m == 0x01:
			// Stray restart marker or TEM: libjpeg ignores it.
		case m == mSOI:
			return FormatError("unexpected SOI marker")
		case m >= mAPP0 && m <= 0xEF || m == mCOM:
			p, err := d.segment("APP/COM")
			if err != nil {
				return err
			}
			if m == mAPP0 && len(p) >= 14 && string(p[:5]) == "JFIF\x00" {
				d.jfif = true
			}
			if m == mAPP14 && len(p) >= 12 && string(p[:5]) == "Adobe" {
				d.adobe = true
				d.adobeTransform = int(p[11])
			}
		default:
			return FormatError(fmt.Sprintf("unknown marker 0x%02X", m))
		}
	}
}

func (d *decoder) parseSOF(p []byte, progressive bool) error {
	if len(p) < 6 {
		return FormatError("SOF segment too short")
	}
	if p[0] != 8 {
		return unsupported(fmt.Sprintf("%d-bit sample precision (only 8-bit)", p[0]))
	}
	d.height = int(p[1])<<8 | int(p[2])
	d.width = int(p[3])<<8 | int(p[4])
	n := int(p[5])
	if d.height == 0 {
		return unsupported("image height 0 (DNL-defined height)")
	}
	if d.width == 0 {
		return FormatError("image width 0")
	}
	if d.width > maxDimension || d.height > maxDimension {
		return FormatError(fmt.Sprintf("image size %dx%d exceeds %d", d.width, d.height, maxDimension))
	}
	if d.maxPixels > 0 && int64(d.width)*int64(d.height) > d.maxPixels {
		return fmt.Errorf("jpeg: image %dx%d has %d pixels, more than the limit of %d",
			d.width, d.height, int64(d.width)*int64(d.height), d.maxPixels)
	}
	if n != 1 && n != 3 && n != 4 {
		return unsupported(fmt.Sprintf("%d color components", n))
	}
	if len(p) != 6+3*n {
		return FormatError("SOF segment length")
	}
	d.progressive = progressive
	d.frameSeen = true
	d.comps = make([]component, n)
	d.maxH, d.maxV = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		q := p[6+3*i:]
		c.id = q[0]
		c.h = int(q[1] >> 4)
		c.v = int(q[1] & 15)
		c.tq = int(q[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return FormatError(fmt.Sprintf("component %d sampling factors %dx%d", i, c.h, c.v))
		}
		if c.tq > 3 {
			return FormatError(fmt.Sprintf("component %d quantization table %d", i, c.tq))
		}
		d.maxH = max(d.maxH, c.h)
		d.maxV = max(d.maxV, c.v)
	}
	d.mcusX = divUp(d.width, 8*d.maxH)
	d.mcusY = divUp(d.height, 8*d.maxV)
	for i := range d.comps {
		c := &d.comps[i]
		c.dw = divUp(d.width*c.h, d.maxH)
		c.dh = divUp(d.height*c.v, d.maxV)
		c.rbw = divUp(c.dw, 8)
		c.rbh = divUp(c.dh, 8)
		c.bw = d.mcusX * c.h
		c.bh = d.mcusY * c.v
		for k := range c.coefBits {
			c.coefBits[k] = -1
		}
		// Coefficients and samples must be addressable with int (32-bit
		// platforms).
		if int64(c.bw)*int64(c.bh)*64 > math.MaxInt/4 {
			return FormatError(fmt.Sprintf("image %dx%d too large for this platform", d.width, d.height))
		}
	}
	return nil
}

// allocCoef allocates the coefficient arrays (on the first scan).
func (d *decoder) allocCoef() {
	for i := range d.comps {
		c := &d.comps[i]
		if c.coef == nil {
			c.coef = make([]int16, c.bw*c.bh*64)
		}
	}
}

func (d *decoder) parseDQT(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, int(p[0]&15)
		if tq > 3 {
			return FormatError(fmt.Sprintf("DQT table id %d", tq))
		}
		if pq > 1 {
			return FormatError(fmt.Sprintf("DQT precision %d", pq))
		}
		p = p[1:]
		t := new([64]uint16)
		if pq == 0 {
			if len(p) < 64 {
				return FormatError("DQT segment too short")
			}
			for k := 0; k < 64; k++ {
				t[naturalOrder[k]] = uint16(p[k])
			}
			p = p[64:]
		} else {
			if len(p) < 128 {
				return FormatError("DQT segment too short")
			}
			for k := 0; k < 64; k++ {
				t[naturalOrder[k]] = uint16(p[2*k])<<8 | uint16(p[2*k+1])
			}
			p = p[128:]
		}
		d.quant[tq] = t
	}
	return nil
}

func (d *decoder) parseDHT(p []byte) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return FormatError("DHT segment too short")
		}
		class, id := int(p[0]>>4), int(p[0]&15)
		if class > 1 || id > 3 {
			return FormatError(fmt.Sprintf("DHT table class %d id %d", class, id))
		}
		var counts [16]int
		total := 0
		for i := range counts {
			counts[i] = int(p[1+i])
			total += counts[i]
		}
		if total > 256 || len(p) < 17+total {
			return FormatError("DHT segment length")
		}
		t, err := newHuffTable(counts, p[17:17+total])
		if err != nil {
			return err
		}
		d.huff[class][id] = t
		p = p[17+total:]
	}
	return nil
}

func divUp(a, b int) int { return (a + b - 1) / b }

// naturalOrder maps zigzag index to natural (row-major) index; like libjpeg's
// jpeg_natural_order it has 16 extra entries so that corrupt run lengths
// land on coefficient 63 instead of out of bounds.
var naturalOrder = [64 + 16]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
}
