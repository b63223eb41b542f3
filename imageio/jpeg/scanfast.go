package jpeg

import (
	"bytes"
	"encoding/binary"
)

// The fast decoder handles the common case of a sequential scan decoded
// straight into samples (d.planes set). It produces exactly what
// decodeBaseline and sampleMCU produce, but reads the entropy-coded data
// with wider look-ups and refills the bit accumulator whenever it likes.
//
// The legacy decoder refills at exactly the points libjpeg would, which
// matters in two cases only: when the data ends without a marker (whether
// a refill runs into the end decides the truncation error), and after an
// invalid Huffman code (whose 17 bits may underflow the bit count). The
// fast decoder therefore runs only while a marker follows in the data (so
// the reader stops at a marker, never at the end), and gives up on an
// invalid code; the scan is then decoded again by the legacy decoder.
// Otherwise refill timing is not observable: the bits consumed, the zero
// bits supplied past a marker (insufficient data) and the marker found
// after the scan are the same.

// fastComp is the per-component state of the fast decoder.
type fastComp struct {
	dc, ac *huffTable
	p      *plane
	quant  *[64]int32
	nh, nv int // blocks per MCU
	// offs are the offsets in p.pix of the MCU's blocks from its first.
	offs []int
	// dcOnly: the component's IDCT is 1x1 (scale 1/8), which reads the
	// DC coefficient only, so the AC coefficients are parsed and dropped.
	dcOnly bool
}

// lastMarkerPos returns the position of the last marker (0xFF followed by
// a byte other than 0x00 and 0xFF) in d.data, or -1.
func (d *decoder) lastMarkerPos() int {
	if d.lastMarker != 0 {
		return d.lastMarker
	}
	d.lastMarker = -1
	data := d.data
	for end := len(data) - 1; end > 0; {
		j := bytes.LastIndexByte(data[:end], 0xFF)
		if j < 0 {
			break
		}
		if b := data[j+1]; b != 0 && b != 0xFF {
			d.lastMarker = j
			break
		}
		end = j
	}
	return d.lastMarker
}

// fastOK reports whether the fast decoder may read entropy-coded data from
// pos: a marker follows, so the bit reader cannot reach the end of the data.
func (d *decoder) fastOK(pos int) bool {
	return d.lastMarkerPos() >= pos
}

// setupFast prepares the fast decoder for scan s (which holds every
// component, in planes mode).
func (d *decoder) setupFast(s *scan) {
	d.fast = make([]fastComp, len(s.comps))
	for i, c := range s.comps {
		f := &d.fast[i]
		f.dc, f.ac = d.huff[0][c.dcTable], d.huff[1][c.acTable]
		f.p = &d.planes[i]
		f.quant = c.quant
		f.nh, f.nv = c.h, c.v
		if len(s.comps) == 1 {
			f.nh, f.nv = 1, 1
		}
		ss, stride := f.p.ss, f.p.stride
		for v := 0; v < f.nv; v++ {
			for h := 0; h < f.nh; h++ {
				f.offs = append(f.offs, v*ss*stride+h*ss)
			}
		}
		f.dcOnly = f.p.ss == 1
		f.dc.buildFast()
		if f.dcOnly {
			f.ac.buildSkip()
		} else {
			f.ac.buildFast()
		}
	}
}

// refill tops up the left-aligned accumulator la holding n < 57 valid bits
// to at least 56 bits. Bits of la below the n valid ones are either zero
// or the data bits that follow, so whole bytes can be ORed in.
func (br *bitReader) refill(la uint64, n uint) (uint64, uint) {
	if p := br.pos; p <= br.lim {
		// No 0xFF among the next 8 bytes: no stuffing, no marker.
		x := binary.BigEndian.Uint64(br.data[p:])
		br.pos = p + 7 - int(n>>3&7)
		return la | x>>(n&63), n | 56
	}
	return br.slowRefill(la, n)
}

// slowRefill is refill byte by byte: data bytes and stuffed 0xFF bytes
// here, anything else (a marker, 0xFF fill bytes, the end) with fill. It
// sets br.lim for the following refills.
func (br *bitReader) slowRefill(la uint64, n uint) (uint64, uint) {
	if !br.marker && !br.eof {
		data, pos := br.data, br.pos
		for n <= 56 && pos+1 < len(data) {
			if j := br.ff - pos; j > 0 && pos+8 <= len(data) {
				// The bytes before the next 0xFF, at once (the rest of
				// the load masked off, so bits below n stay zero).
				k := min(uint(j), (64-n)>>3)
				x := binary.BigEndian.Uint64(data[pos:]) &^ (^uint64(0) >> (8 * k))
				la |= x >> (n & 63)
				n += 8 * k
				pos += int(k)
				continue
			}
			b := data[pos]
			if b == 0xFF {
				if data[pos+1] != 0 {
					break
				}
				pos++
			}
			pos++
			la |= uint64(b) << ((56 - n) & 63)
			n += 8
		}
		br.pos = pos
	}
	if n <= 56 {
		br.acc, br.n = la>>((64-n)&127), n
		br.fill()
		la, n = br.acc<<((64-br.n)&127), br.n
	}
	br.lim = -1
	if !br.marker && !br.eof {
		if br.pos > br.ff {
			// Past the 0xFF found last time (or none found yet).
			if i := bytes.IndexByte(br.data[br.pos:], 0xFF); i >= 0 {
				br.ff = br.pos + i
			} else {
				br.ff = len(br.data)
			}
		}
		br.lim = br.ff - 8
	}
	br.win = nil
	if br.lim >= 0 {
		br.win = br.data[:br.lim+8]
	}
	return la, n
}

// window returns the data from which refill may load 8 bytes at once:
// up to br.lim+8, or nothing.
func (br *bitReader) window() []byte {
	return br.win
}

// fastMCU decodes MCU (mx, my) like sampleMCU. It returns false on an
// invalid Huffman code, leaving the scan to the legacy decoder.
func (d *decoder) fastMCU(br *bitReader, mx, my int, pred *[4]int32) bool {
	blk := &d.blk
	la, n := br.acc<<((64-br.n)&127), br.n
	ok := true
	for ci := range d.fast {
		f := &d.fast[ci]
		if f.dcOnly {
			if la, n, ok = f.skipBlocks(br, la, n, &pred[ci], (my*f.nv*f.p.stride+mx*f.nh)*f.p.ss); !ok {
				return false
			}
			continue
		}
		if la, n, ok = f.fullBlocks(br, blk, la, n, &pred[ci], (my*f.nv*f.p.stride+mx*f.nh)*f.p.ss); !ok {
			return false
		}
	}
	br.acc, br.n = la>>((64-n)&127), n
	return true
}

// decodeDC decodes a DC difference into *pred. n must be at least 31.
// (The hot loops do its first look-up inline.)
func decodeDC(t *huffTable, la uint64, n uint, pred *int32) (uint64, uint, bool) {
	if e := t.fast[la>>(64-fastBits)]; e != 0 {
		l := uint(e) & 0xff
		*pred += e >> 16
		return la << (l & 63), n - l, true
	}
	sym, l, ok := t.peek(la)
	if !ok {
		return la, n, false
	}
	la <<= l & 63
	n -= l
	if s := uint(sym) & 15; s != 0 {
		v := int32(la >> (64 - s))
		la <<= s
		n -= s
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		*pred += v
	}
	return la, n, true
}

// skipBlocks decodes the blocks of component f in an MCU, of which only
// the DC coefficient is used: it skips the AC coefficients, several
// symbols per look-up, and stores the 1x1 IDCT of each block. base is the
// offset in f.p.pix of the MCU's first block.
func (f *fastComp) skipBlocks(br *bitReader, la uint64, n uint, predp *int32, base int) (uint64, uint, bool) {
	sk := f.ac.skip
	dcFast := f.dc.fast
	pred := *predp
	q0 := int64(f.quant[0])
	pix := f.p.pix
	for _, off := range f.offs {
		if n < 32 {
			la, n = br.refill(la, n)
		}
		if e := dcFast[la>>(64-fastBits)]; e != 0 {
			l := uint(e) & 0xff
			pred += e >> 16
			la <<= l & 63
			n -= l
		} else {
			var ok bool
			if la, n, ok = decodeDC(f.dc, la, n, &pred); !ok {
				return la, n, false
			}
		}
		r := 63 // coefficients left
		for {
			var e uint
			var pos int
			if la, n, r, pos, e = skipRun(sk, la, n, r, br.window(), br.pos); e == skipDone {
				br.pos = pos
				break
			}
			br.pos = pos
			if e == skipRefill {
				la, n = br.slowRefill(la, n)
				continue
			}
			// One symbol: a code whose extra bits are not in the window, a
			// longer code, or symbols taking the count past the end of
			// the block.
			var a int
			if a = int(e >> skipAdvSh); a >= skipLong && a < skipLong+16 {
				if n < 29 {
					la, n = br.refill(la, n)
				}
				la <<= e & skipLenMask
				n -= e & skipLenMask
				a -= skipLong - 1
			} else {
				var ok bool
				if la, n, a, ok = f.ac.skipOne(br, la, n); !ok {
					return la, n, false
				}
			}
			if a >= r {
				break
			}
			r -= a
		}
		// idct1x1.
		dc := int64(int16(pred)) * q0
		pix[base+off] = rangeLimit[((dc+4)>>3)&1023]
	}
	*predp = pred
	return la, n, true
}

// Results of skipRun besides a skip table entry.
const (
	skipDone   = 0           // the block ended
	skipRefill = skipLenMask // the data needs refill's slow path
)

// skipRun skips the AC symbols of a block with the skip table while the
// data allows fast refills (from data, a bitReader.window), with r
// coefficients left. It returns the entry it stopped at (whose count
// exceeds r) or skipDone or skipRefill. It calls nothing, so its state
// stays in registers.
func skipRun(sk *[1 << skipBits]uint16, la uint64, n uint, r int, data []byte, pos int) (uint64, uint, int, int, uint) {
	for {
		if n < 56 {
			if len(data)-pos < 8 {
				return la, n, r, pos, skipRefill
			}
			x := binary.BigEndian.Uint64(data[pos:])
			pos += 7 - int(n>>3&7)
			la |= x >> (n & 63)
			n |= 56
		}
		// Four (or three) look-ups of at most skipBits bits each.
		var e uint
		var left int
		e = uint(sk[la>>(64-skipBits)])
		if left = r - int(e>>skipAdvSh); left <= int(e&skipEOB) {
			goto last
		}
		r = left
		n -= e & skipLenMask
		la <<= e & skipLenMask
		e = uint(sk[la>>(64-skipBits)])
		if left = r - int(e>>skipAdvSh); left <= int(e&skipEOB) {
			goto last
		}
		r = left
		n -= e & skipLenMask
		la <<= e & skipLenMask
		e = uint(sk[la>>(64-skipBits)])
		if left = r - int(e>>skipAdvSh); left <= int(e&skipEOB) {
			goto last
		}
		r = left
		n -= e & skipLenMask
		la <<= e & skipLenMask
		if 4*skipBits <= 56 {
			e = uint(sk[la>>(64-skipBits)])
			if left = r - int(e>>skipAdvSh); left <= int(e&skipEOB) {
				goto last
			}
			r = left
			n -= e & skipLenMask
			la <<= e & skipLenMask
		}
		continue
	last:
		// The entry's count exceeds r (left < 0), or it ends the block.
		if left < 0 {
			return la, n, left + int(e>>skipAdvSh), pos, e
		}
		// The entry ends the block (end of block, or no coefficient left).
		return la << (e & skipLenMask), n - e&skipLenMask, left, pos, skipDone
	}
}

// skipOne skips one AC symbol and returns the number of coefficients it
// covers, 64 for the end of block.
func (t *huffTable) skipOne(br *bitReader, la uint64, n uint) (uint64, uint, int, bool) {
	if n < 32 {
		la, n = br.refill(la, n)
	}
	sym, l, ok := t.peek(la)
	if !ok {
		return la, n, 0, false
	}
	la <<= l & 63
	n -= l
	run, s := int(sym>>4), uint(sym&15)
	if s == 0 {
		if run != 15 {
			return la, n, 64, true
		}
		return la, n, 16, true
	}
	return la << s, n - s, run + 1, true
}

// fullBlocks decodes the blocks of component f in an MCU and stores their
// IDCT; base is the offset in f.p.pix of the MCU's first block. blk is zero
// on entry and exit.
func (f *fastComp) fullBlocks(br *bitReader, blk *[64]int16, la uint64, n uint, predp *int32, base int) (uint64, uint, bool) {
	fast := f.ac.fast
	dcFast := f.dc.fast
	pred := *predp
	p := f.p
	for _, off := range f.offs {
		if n < 32 {
			la, n = br.refill(la, n)
		}
		if e := dcFast[la>>(64-fastBits)]; e != 0 {
			l := uint(e) & 0xff
			pred += e >> 16
			la <<= l & 63
			n -= l
		} else {
			var ok bool
			if la, n, ok = decodeDC(f.dc, la, n, &pred); !ok {
				return la, n, false
			}
		}
		// An end of block right after the DC (common in chroma): a
		// DC-only block. (The DC took at most 31 of at least 32 bits, so
		// check that the look-up had its 12.)
		if e := fast[la>>(64-fastBits)]; n >= fastBits && e&fastEOB != 0 {
			la <<= uint(e) & 63
			n -= uint(e) & 63
			// A DC-only block: every IDCT but 1x1 gives this value (the
			// DC shortcuts of its row and column passes).
			w := int64(int32(int16(pred)) * f.quant[0] << pass1Bits)
			val := rangeLimit[((w+(1<<(pass1Bits+2)))>>(pass1Bits+3))&1023]
			o, stride := base+off, p.stride
			if p.ss == 2 {
				row := p.pix[o : o+stride+2]
				row[0], row[1], row[stride], row[stride+1] = val, val, val, val
				continue
			}
			for r := 0; r < p.ss; r++ {
				row := p.pix[o+r*stride : o+r*stride+p.ss]
				for i := range row {
					row[i] = val
				}
			}
			continue
		}
		blk[0] = int16(pred)
		k := 1
		for {
			var st int
			la, n, k, br.pos, st = decodeRun(fast, blk, la, n, k, br.window(), br.pos)
			if st == runDone {
				break
			}
			if st == runRefill {
				la, n = br.slowRefill(la, n)
				continue
			}
			// A code and extra bits longer than fastBits.
			if n < 32 {
				la, n = br.refill(la, n)
			}
			sym, l, ok := f.ac.peek(la)
			if !ok {
				return la, n, false
			}
			la <<= l & 63
			n -= l
			r, s := int(sym>>4), uint(sym&15)
			if s == 0 {
				if r != 15 {
					break
				}
				k += 16
			} else {
				k += r
				v := int32(la >> (64 - s))
				la <<= s
				n -= s
				if v < 1<<(s-1) {
					v += -1<<s + 1
				}
				blk[zigzag[k&127]&63] = int16(v)
				k++
			}
			if k >= 64 {
				break
			}
		}
		// The IDCT of a block whose AC coefficients are all zero gives
		// the same as the DC-only case above.
		if k <= 3 && p.ss == 2 {
			// Only coefficients 1 and 8 (zigzag 1 and 2) may be set.
			idct2x2Low(blk, f.quant, p.pix[base+off:], p.stride)
			blk[0], blk[1], blk[8] = 0, 0, 0
			continue
		}
		p.idct(blk[:], f.quant, p.pix[base+off:], p.stride)
		*blk = [64]int16{}
	}
	*predp = pred
	return la, n, true
}

// Results of decodeRun.
const (
	runDone   = iota // the block ended
	runRefill        // the data needs refill's slow path
	runSlow          // the next code and extra bits are longer than fastBits
)

// decodeRun decodes the AC coefficients of a block from index k into blk
// with the fast table while the data allows fast refills (from data, a
// bitReader.window) and the codes are short. It calls nothing, so its state
// stays in registers.
func decodeRun(fast *[1 << fastBits]int32, blk *[64]int16, la uint64, n uint, k int, data []byte, pos int) (uint64, uint, int, int, int) {
	st := runDone
	for k < 64 {
		if n < 32 {
			if len(data)-pos < 8 {
				st = runRefill
				break
			}
			x := binary.BigEndian.Uint64(data[pos:])
			pos += 7 - int(n>>3&7)
			la |= x >> (n & 63)
			n |= 56
		}
		e := fast[la>>(64-fastBits)]
		if e == 0 {
			st = runSlow
			break
		}
		la <<= uint(e) & 63 // lengths are below 32, and bit 5 is zero
		n -= uint(e) & 63
		if e&fastEOB != 0 {
			break
		}
		// ZRL stores a zero 15 places on, which is harmless.
		k += int(e>>8) & 15
		blk[zigzag[k&127]&63] = int16(e >> 16)
		k++
		// A second symbol without a refill check: at least 32-12 bits
		// are left.
		if k >= 64 {
			break
		}
		e = fast[la>>(64-fastBits)]
		if e == 0 {
			st = runSlow
			break
		}
		la <<= uint(e) & 63
		n -= uint(e) & 63
		if e&fastEOB != 0 {
			break
		}
		k += int(e>>8) & 15
		blk[zigzag[k&127]&63] = int16(e >> 16)
		k++
	}
	return la, n, k, pos, st
}
