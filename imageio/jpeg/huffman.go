package jpeg

import "encoding/binary"

// lutBits is the number of bits resolved by one Huffman table look-up.
const lutBits = 11

// huffTable is a decoding table for one Huffman table (JPEG Annex C/F.2.2.3).
type huffTable struct {
	// lut maps the next lutBits bits to (symbol << 8 | code length), or 0
	// when the code is longer than lutBits.
	lut     [1 << lutBits]uint16
	maxCode [18]int32 // maxCode[l]: largest code of length l, -1 if none
	valPtr  [17]int32 // index in vals of the first code of length l, minus that code
	vals    [256]uint8
	maxSym  uint8 // largest symbol value, to validate DC tables
	// fastAC resolves, for AC tables, a code and its extra bits together
	// when both fit in lutBits: value<<16 | run<<8 | total length, or 0.
	fastAC [1 << lutBits]int32
	// fast is the table of the fast scan decoder (scanfast.go), built by
	// buildFast: for the next fastBits bits, a whole code and its extra
	// bits as value<<16 | fastEOB | run<<8 | total length, or 0 (code or
	// extra bits longer than fastBits). For DC tables the run is 0; for
	// AC tables ZRL is run 15 with value 0, and fastEOB marks a symbol
	// ending the block (size 0 and run other than 15).
	fast *[1 << fastBits]int32
	// skip is the AC skipping table of the fast decoder, built by
	// buildSkip (see skipLenMask).
	skip *[1 << skipBits]uint16
}

func newHuffTable(counts [16]int, vals []byte) (*huffTable, error) {
	t := &huffTable{}
	copy(t.vals[:], vals)
	for _, v := range vals {
		t.maxSym = max(t.maxSym, v)
	}
	code := int32(0)
	k := int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		if n > 0 {
			t.valPtr[l] = k - code
			code += n
			k += n
			t.maxCode[l] = code - 1
		} else {
			t.maxCode[l] = -1
		}
		// libjpeg's check: codes of length l must fit in l bits.
		if code >= 1<<l {
			return nil, FormatError("bad Huffman table (code overflow)")
		}
		code <<= 1
	}
	t.maxCode[17] = 0x7fffffff // sentinel, never reached (16 is the limit)
	// Fill the look-up table.
	code = 0
	k = 0
	for l := 1; l <= lutBits; l++ {
		for i := 0; i < counts[l-1]; i++ {
			shift := lutBits - l
			base := code << shift
			for j := int32(0); j < 1<<shift; j++ {
				t.lut[base+j] = uint16(vals[k])<<8 | uint16(l)
			}
			code++
			k++
		}
		code <<= 1
	}
	// Fast AC entries: symbol (run, size) with size > 0 and the size extra
	// bits within the same lutBits window.
	for i, e := range t.lut {
		if e == 0 {
			continue
		}
		sym, l := int(e>>8), int(e&0xff)
		run, size := sym>>4, sym&15
		if size == 0 || l+size > lutBits {
			continue
		}
		v := (i >> (lutBits - l - size)) & (1<<size - 1)
		if v < 1<<(size-1) {
			v += -1<<size + 1
		}
		t.fastAC[i] = int32(v)<<16 | int32(run)<<8 | int32(l+size)
	}
	return t, nil
}

// bitReader reads the entropy-coded segment of a scan. Past a marker (or the
// end of the data) it supplies zero bits like libjpeg does, counting them in
// fake so that the caller can detect that real data ran out.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64
	n      uint // bits in acc (low n bits valid)
	fake   uint // number of the low bits of acc that are zero fill
	marker bool // stopped at a marker (pos is at its 0xFF)
	eof    bool // stopped at the end of the data
	// lim is, for the fast decoder, the last position from which 8 bytes
	// free of 0xFF can be loaded (set by slowRefill; -1: unknown, or a
	// marker was reached), and ff the position of the next 0xFF byte
	// (len(data) if none; -1: unknown); win is data[:lim+8].
	lim, ff int
	win     []byte
}

func (br *bitReader) reset(data []byte, pos int) {
	*br = bitReader{data: data, pos: pos, lim: -1, ff: -1}
}

// fill tops the accumulator up to more than 56 bits.
func (br *bitReader) fill() {
	// Fast path: when the next 8 bytes hold no 0xFF (so no stuffing and
	// no marker), take the bytes needed in one load. It consumes exactly
	// the bytes the byte-by-byte loop below would.
	if br.n <= 56 && !br.marker && !br.eof && br.pos <= len(br.data)-8 {
		x := binary.BigEndian.Uint64(br.data[br.pos:])
		if y := ^x; (y-0x0101010101010101)&^y&0x8080808080808080 == 0 {
			k := (56-br.n)/8 + 1 // bytes to add: 1..8
			br.acc = br.acc<<(8*k) | x>>(64-8*k)
			br.n += 8 * k
			br.pos += int(k)
			return
		}
	}
	for br.n <= 56 {
		if br.marker || br.eof {
			br.acc <<= 8
			br.n += 8
			br.fake += 8
			continue
		}
		if br.pos >= len(br.data) {
			br.eof = true
			continue
		}
		b := br.data[br.pos]
		if b != 0xFF {
			br.pos++
			br.acc = br.acc<<8 | uint64(b)
			br.n += 8
			continue
		}
		// 0xFF: skip fill bytes, then a 0x00 means a data byte 0xFF.
		p := br.pos + 1
		for p < len(br.data) && br.data[p] == 0xFF {
			p++
		}
		if p >= len(br.data) {
			br.eof = true
			continue
		}
		if br.data[p] == 0 {
			br.pos = p + 1
			br.acc = br.acc<<8 | 0xFF
			br.n += 8
			continue
		}
		br.pos = p - 1 // at the last 0xFF before the marker code
		br.marker = true
	}
}

// check reports whether the decoder consumed bits past a marker (libjpeg's
// insufficient_data: those bits were zeros), or an error if it consumed bits
// past the end of the data.
func (br *bitReader) check() (insufficient bool, err error) {
	if br.n < br.fake {
		if br.eof {
			return true, truncated("entropy-coded data ends early")
		}
		br.fake = br.n
		return true, nil
	}
	return false, nil
}

func (br *bitReader) bits(s uint) int32 {
	if s == 0 {
		return 0
	}
	if br.n < s {
		br.fill()
	}
	br.n -= s
	return int32(br.acc>>br.n) & (1<<s - 1)
}

func (br *bitReader) bit() bool {
	if br.n < 1 {
		br.fill()
	}
	br.n--
	return br.acc>>br.n&1 != 0
}

// receiveExtend reads s bits and sign-extends them (JPEG F.2.2.1).
func (br *bitReader) receiveExtend(s uint) int32 {
	if s == 0 {
		return 0
	}
	if s > 16 {
		s = 16 // only reachable with corrupt AC tables; libjpeg masks similarly
	}
	v := br.bits(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

func (br *bitReader) decode(t *huffTable) (uint8, error) {
	if br.n < 16 {
		br.fill()
	}
	e := t.lut[(br.acc>>(br.n-lutBits))&(1<<lutBits-1)]
	if e != 0 {
		br.n -= uint(e & 0xff)
		return uint8(e >> 8), nil
	}
	for l := uint(lutBits + 1); l <= 16; l++ {
		code := int32(br.acc>>(br.n-l)) & (1<<l - 1)
		if code <= t.maxCode[l] {
			br.n -= l
			return t.vals[(t.valPtr[l]+code)&0xFF], nil
		}
	}
	// No code matches: libjpeg warns, consumes 17 bits and returns 0.
	br.n -= 17
	return 0, nil
}

// fastBits is the look-up width of huffTable.fast.
const fastBits = 12

// fastEOB flags an end-of-block symbol in huffTable.fast entries.
const fastEOB = 1 << 12

// buildFast fills t.fast (once).
func (t *huffTable) buildFast() {
	if t.fast != nil {
		return
	}
	f := new([1 << fastBits]int32)
	for i := range f {
		sym, l, ok := t.peek(uint64(i) << (64 - fastBits))
		if !ok || l > fastBits {
			continue
		}
		run, size := uint(sym>>4), uint(sym&15)
		if l+size > fastBits {
			continue
		}
		var v int32
		if size > 0 {
			v = int32(i>>(fastBits-l-size)) & (1<<size - 1)
			if v < 1<<(size-1) {
				v += -1<<size + 1
			}
		}
		e := v<<16 | int32(run)<<8 | int32(l+size)
		if size == 0 && run != 15 {
			e = fastEOB | int32(l) // ends the block (for AC tables)
		}
		f[i] = e
	}
	t.fast = f
}

// skipBits is the look-up width of huffTable.skip.
const skipBits = 13

// A skip table entry describes the complete AC symbols (codes and extra
// bits) at the start of the window: the bits they take (skipLenMask), the
// number of coefficients they cover (run+1 each, 16 for ZRL, 1 for the end
// of block; at most 63) shifted by skipAdvSh, and skipEOB when the last of
// them ends the block. A count of skipLong+run is one symbol whose code is
// in the window but whose extra bits are not (length up to 29). When not
// even the first code is in the window, the entry is skipNone. Both counts
// exceed any block's.
const (
	skipLenMask = 63 // lengths are below 32: bit 5 is zero
	skipEOB     = 64
	skipAdvSh   = 9
	skipLong    = 64
	skipNone    = 127 << skipAdvSh
)

// buildSkip fills t.skip (once): an AC table for decoding blocks of which
// only the DC coefficient is used, resolving several symbols per look-up.
func (t *huffTable) buildSkip() {
	if t.skip != nil {
		return
	}
	sk := new([1 << skipBits]uint16)
	for i := range sk {
		win := uint64(i) << (64 - skipBits)
		used, adv := uint(0), uint(0)
		e := uint16(skipNone)
		for {
			// Bits past the window read as zeros; a symbol is taken only
			// when its code and extra bits are in the window.
			sym, l, ok := t.peek(win << used)
			if !ok || used+l > skipBits {
				break
			}
			run, size := uint(sym>>4), uint(sym&15)
			eob := size == 0 && run != 15
			a := run + 1
			if eob {
				a = 1
			}
			if used+l+size > skipBits {
				if used == 0 {
					e = uint16(l + size | (skipLong+run)<<skipAdvSh)
				}
				break
			}
			if adv+a > 63 {
				break
			}
			used += l + size
			adv += a
			e = uint16(used | adv<<skipAdvSh)
			if eob {
				e |= skipEOB
				break
			}
		}
		sk[i] = e
	}
	t.skip = sk
}

// peek decodes the code at the top of the left-aligned bits la (JPEG
// F.2.2.3), like decode: with the look-up table when the code is short,
// else by code length. ok is false when no code of up to 16 bits matches.
func (t *huffTable) peek(la uint64) (sym uint8, l uint, ok bool) {
	if e := t.lut[la>>(64-lutBits)]; e != 0 {
		return uint8(e >> 8), uint(e & 0xff), true
	}
	// Not a code of up to lutBits bits.
	for l := uint(lutBits + 1); l <= 16; l++ {
		code := int32(la >> (64 - l))
		if code <= t.maxCode[l] {
			return t.vals[(t.valPtr[l]+code)&0xFF], l, true
		}
	}
	return 0, 0, false
}
