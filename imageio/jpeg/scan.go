package jpeg

import (
	"fmt"
)

// scan holds the parameters of one SOS.
type scan struct {
	comps  []*component
	ss, se int // spectral selection
	ah, al int // successive approximation
}

// decodeScan parses an SOS header and decodes its entropy-coded data into
// the components' coefficient arrays.
func (d *decoder) decodeScan(p []byte) error {
	if !d.frameSeen {
		return FormatError("SOS before SOF")
	}
	if len(p) < 1 {
		return FormatError("SOS segment too short")
	}
	n := int(p[0])
	if n < 1 || n > 4 || len(p) != 4+2*n {
		return FormatError("SOS segment length")
	}
	s := scan{comps: make([]*component, n)}
	for i := 0; i < n; i++ {
		id := p[1+2*i]
		// Like libjpeg-turbo (which accepts duplicate component ids), the
		// i-th scan component is the first frame component with that id
		// whose index is at least i.
		var c *component
		for j := i; j < len(d.comps); j++ {
			if d.comps[j].id == id {
				c = &d.comps[j]
				break
			}
		}
		if c == nil {
			return FormatError(fmt.Sprintf("SOS component id %d not in frame", id))
		}
		for j := 0; j < i; j++ {
			if s.comps[j] == c {
				return FormatError("SOS lists a component twice")
			}
		}
		c.dcTable = int(p[2+2*i] >> 4)
		c.acTable = int(p[2+2*i] & 15)
		if c.dcTable > 3 || c.acTable > 3 {
			return FormatError("SOS Huffman table selector")
		}
		s.comps[i] = c
	}
	q := p[1+2*n:]
	s.ss, s.se = int(q[0]), int(q[1])
	s.ah, s.al = int(q[2]>>4), int(q[2]&15)
	if d.progressive {
		// jdphuff.c start_pass_phuff_decoder's checks.
		bad := false
		if s.ss == 0 {
			if s.se != 0 {
				bad = true
			}
		} else {
			if s.se < s.ss || s.se > 63 || n != 1 {
				bad = true
			}
		}
		if s.ah != 0 && s.al != s.ah-1 {
			bad = true
		}
		if s.al > 13 {
			bad = true
		}
		if bad {
			return FormatError(fmt.Sprintf("invalid progressive scan parameters Ss=%d Se=%d Ah=%d Al=%d", s.ss, s.se, s.ah, s.al))
		}
	} else {
		s.ss, s.se, s.ah, s.al = 0, 63, 0, 0 // ignored for sequential scans
	}
	// Blocks per MCU limit (jdinput.c per_scan_setup).
	if n > 1 {
		blocks := 0
		for _, c := range s.comps {
			blocks += c.h * c.v
		}
		if blocks > maxBlocksInMCU {
			return FormatError("too many blocks in MCU")
		}
	}
	// Latch quantization tables on a component's first scan (jdinput.c
	// latch_quant_tables) and check the Huffman tables needed.
	for _, c := range s.comps {
		if c.quant == nil {
			if d.quant[c.tq] == nil {
				return FormatError(fmt.Sprintf("quantization table %d not defined", c.tq))
			}
			c.quant = new([64]int32)
			c.qraw = *d.quant[c.tq]
			for k, v := range d.quant[c.tq] {
				c.quant[k] = int32(int16(v))
			}
		}
		needDC := s.ss == 0 && s.ah == 0
		needAC := s.se > 0
		if needDC {
			t := d.huff[0][c.dcTable]
			if t == nil {
				return FormatError(fmt.Sprintf("DC Huffman table %d not defined", c.dcTable))
			}
			if t.maxSym > 15 {
				return FormatError("bad DC Huffman table")
			}
		}
		if needAC && d.huff[1][c.acTable] == nil {
			return FormatError(fmt.Sprintf("AC Huffman table %d not defined", c.acTable))
		}
		c.scanned = true
	}
	if d.progressive {
		// Track coef_bits like jdphuff.c start_pass_phuff_decoder (used
		// by block smoothing), with the previous values of the first ten.
		for _, c := range s.comps {
			for k := min(s.ss, 1); k <= max(s.se, 9); k++ {
				if d.scans > 0 {
					c.prevCoefBits[k] = c.coefBits[k]
				} else {
					c.prevCoefBits[k] = 0
				}
			}
			for k := s.ss; k <= s.se; k++ {
				c.coefBits[k] = s.al
			}
		}
	}
	if !d.progressive && d.scans == 0 && n == len(d.comps) {
		// The only scan libjpeg will read (see singleScan below): decode
		// it straight into samples, with no coefficient arrays.
		// With every component in the scan, s.comps[i] is &d.comps[i].
		d.planes = make([]plane, n)
		for i, c := range s.comps {
			d.setupPlane(c, &d.planes[i])
		}
	} else {
		d.allocCoef()
	}
	d.scans++
	if err := d.decodeEntropy(&s); err != nil {
		return err
	}
	// A sequential image whose first scan holds every component is decoded
	// by libjpeg in one pass; Pillow then never reads what follows the scan.
	if !d.progressive && d.scans == 1 && n == len(d.comps) {
		d.singleScan = true
	}
	return nil
}

// decodeEntropy decodes the scan's entropy-coded data, which starts at d.pos.
// A scan decoded straight into samples is tried with the fast decoder
// first (see scanfast.go); if that gives up, the scan is decoded again.
func (d *decoder) decodeEntropy(s *scan) error {
	if d.planes != nil && !d.progressive && !d.noFast && d.fastOK(d.pos) {
		start := d.pos
		d.setupFast(s)
		if ok, err := d.entropyPass(s, true); ok && err == nil {
			return nil
		}
		d.pos = start
		d.blk = [64]int16{} // the fast decoder may have stopped mid-block
	}
	_, err := d.entropyPass(s, false)
	return err
}

// entropyPass decodes the scan, with the fast decoder if fast is set. With
// fast set, it returns false (and maybe an error) where the fast decoder
// gives up: on an invalid Huffman code, after a restart from which no
// marker follows, and on any error.
func (d *decoder) entropyPass(s *scan, fast bool) (bool, error) {
	var br bitReader
	br.reset(d.data, d.pos)

	var mcusX, mcusY int
	single := len(s.comps) == 1
	if single {
		mcusX, mcusY = s.comps[0].rbw, s.comps[0].rbh
	} else {
		mcusX, mcusY = d.mcusX, d.mcusY
	}
	var pred [4]int32
	eobrun := 0
	restartsLeft := d.restartInt
	nextRST := 0
	// insufficient is libjpeg's insufficient_data: once the data of a
	// restart interval ran into a marker, its remaining MCUs are skipped
	// (left zero, or unchanged in progressive scans).
	insufficient := false
	var err error
	total := mcusX * mcusY
	for mcu := 0; mcu < total; mcu++ {
		mx, my := mcu%mcusX, mcu/mcusX
		if !insufficient {
			// libjpeg's last_good_iMCU_row (checked before the restart).
			if single {
				d.lastGoodIMCURow = my / s.comps[0].v
			} else {
				d.lastGoodIMCURow = my
			}
		}
		if d.restartInt > 0 {
			if restartsLeft == 0 {
				// Expect RSTn, then reset the decoder state.
				unread, err := d.readRestart(&br, nextRST)
				if err != nil {
					return false, err
				}
				if fast && !d.fastOK(br.pos) {
					return false, nil
				}
				nextRST = (nextRST + 1) & 7
				restartsLeft = d.restartInt
				pred = [4]int32{}
				eobrun = 0
				insufficient = insufficient && unread
			}
			restartsLeft--
		}
		if !insufficient {
			if fast {
				// Without restarts, go on to the end of the MCU row while
				// no marker has been reached (check has nothing to find
				// before; lastGoodIMCURow stays the same).
				end := mcu + 1
				if d.restartInt == 0 {
					end = (my + 1) * mcusX
				}
				for {
					if !d.fastMCU(&br, mx, my, &pred) {
						return false, nil
					}
					if mcu+1 >= end || br.marker {
						break
					}
					mcu++
					mx++
				}
			} else if eobrun, err = d.decodeMCU(&br, s, mx, my, &pred, eobrun); err != nil {
				return false, err
			}
			if insufficient, err = br.check(); err != nil {
				return false, err
			}
			if br.eof {
				// libjpeg (via Pillow) fails when it tries to read past the
				// end of the data, even for lookahead bits it does not use.
				return false, truncated("entropy-coded data ends without a marker")
			}
		} else if d.planes != nil {
			d.sampleMCU(nil, s, mx, my, nil) // skipped: zero coefficients
		}
	}
	// Resume marker parsing where the entropy data stopped.
	d.pos = br.pos
	return true, nil
}

// decodeMCU decodes the blocks of MCU (mx, my) into the coefficient arrays,
// or, for a scan decoded straight into samples (d.planes set), into one
// block that is transformed at once.
func (d *decoder) decodeMCU(br *bitReader, s *scan, mx, my int, pred *[4]int32, eobrun int) (int, error) {
	if d.planes != nil {
		d.sampleMCU(br, s, mx, my, pred)
		return 0, nil
	}
	var err error
	if len(s.comps) == 1 {
		c := s.comps[0]
		blk := c.coef[(my*c.bw+mx)*64:][:64]
		return d.decodeBlock(br, s, c, blk, &pred[0], eobrun)
	}
	for ci, c := range s.comps {
		for v := 0; v < c.v; v++ {
			for h := 0; h < c.h; h++ {
				bx, by := mx*c.h+h, my*c.v+v
				blk := c.coef[(by*c.bw+bx)*64:][:64]
				eobrun, err = d.decodeBlock(br, s, c, blk, &pred[ci], eobrun)
				if err != nil {
					return 0, err
				}
			}
		}
	}
	return eobrun, nil
}

// sampleMCU decodes MCU (mx, my) of a sequential scan holding every
// component and runs the IDCT on each block while it is in cache. With br
// nil it transforms zero blocks (an MCU skipped after the data ran out).
func (d *decoder) sampleMCU(br *bitReader, s *scan, mx, my int, pred *[4]int32) {
	// d.blk, not a local: the IDCT call through a func value would move a
	// local block to the heap.
	blk := &d.blk
	for ci, c := range s.comps {
		p := &d.planes[ci] // s.comps[i] is &d.comps[i] (see decodeScan)
		nh, nv := c.h, c.v
		if len(s.comps) == 1 {
			nh, nv = 1, 1
		}
		for v := 0; v < nv; v++ {
			for h := 0; h < nh; h++ {
				if br != nil {
					d.decodeBaseline(br, c, blk, &pred[ci])
				}
				bx, by := mx*nh+h, my*nv+v
				if bx < c.rbw && by < c.rbh {
					p.idct(blk[:], c.quant, p.pix[by*p.ss*p.stride+bx*p.ss:], p.stride)
				}
				*blk = [64]int16{}
			}
		}
	}
}

// readRestart discards the remaining bits and reads the restart marker like
// libjpeg's read_restart_marker and jpeg_resync_to_restart: the expected
// RSTn is consumed; after a corrupt segment, an earlier RST is skipped,
// while a later RST or another marker is left unread, which makes the next
// interval decode as empty. unread reports that case.
func (d *decoder) readRestart(br *bitReader, n int) (unread bool, err error) {
	d.pos = br.pos
	for {
		m, err := d.nextMarker()
		if err != nil {
			return false, truncated("missing restart marker")
		}
		want := mRST0 + n
		isRST := m >= mRST0 && m <= mRST7
		switch {
		case int(m) == want:
			br.reset(d.data, d.pos)
			return false, nil
		case m < mSOF0:
			continue // invalid marker: scan on
		case !isRST || int(m) == mRST0+(n+1)&7 || int(m) == mRST0+(n+2)&7:
			// Leave the marker for later; the next interval is empty.
			d.pos -= 2 // back to the marker's (last) 0xFF
			br.reset(d.data, d.pos)
			return true, nil
		case int(m) == mRST0+(n-1)&7 || int(m) == mRST0+(n-2)&7:
			continue // an earlier restart: scan on
		default:
			// Too far away: accept it as the one we wanted.
			br.reset(d.data, d.pos)
			return false, nil
		}
	}
}

// decodeBlock decodes one block of the scan into blk (natural order).
func (d *decoder) decodeBlock(br *bitReader, s *scan, c *component, blk []int16, pred *int32, eobrun int) (int, error) {
	if !d.progressive {
		d.decodeBaseline(br, c, (*[64]int16)(blk), pred)
		return 0, nil
	}
	if s.ss == 0 {
		if s.ah == 0 {
			// DC first scan.
			t, err := br.decode(d.huff[0][c.dcTable])
			if err != nil {
				return 0, err
			}
			*pred += br.receiveExtend(uint(t))
			blk[0] = int16(*pred << uint(s.al))
		} else if br.bit() {
			// DC refinement: one bit.
			blk[0] |= int16(1 << uint(s.al))
		}
		return 0, nil
	}
	if s.ah == 0 {
		return d.decodeACFirst(br, s, c, blk, eobrun)
	}
	return d.decodeACRefine(br, s, c, blk, eobrun)
}

// decodeBaseline decodes one sequential-scan block. It is the hot loop of
// baseline decoding: the bit accumulator lives in locals and table hits are
// resolved inline; it calls fill at exactly the points where the generic
// decode, bits and receiveExtend would, so the bytes consumed (and the
// truncation errors) are the same.
func (d *decoder) decodeBaseline(br *bitReader, c *component, blk *[64]int16, pred *int32) {
	dc, ac := d.huff[0][c.dcTable], d.huff[1][c.acTable]
	// DC coefficient (size at most 15: decodeScan checks the DC table).
	if br.n < 16 {
		br.fill()
	}
	var s uint
	if e := dc.lut[(br.acc>>(br.n-lutBits))&(1<<lutBits-1)]; e != 0 {
		br.n -= uint(e & 0xff)
		s = uint(e >> 8)
	} else {
		t, _ := br.decode(dc)
		s = uint(t)
	}
	if s != 0 {
		if br.n < s {
			br.fill()
		}
		br.n -= s
		v := int32(br.acc>>br.n) & (1<<s - 1)
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		*pred += v
	}
	blk[0] = int16(*pred)
	// AC coefficients. The loop keeps the valid bits left-aligned in la
	// (so a look-up is a constant shift) and its bit count in n.
	n := br.n
	if n > 64 {
		// Only after decode consumed more bits than it had (a code matching
		// no symbol): keep the generic path's exact arithmetic.
		acTail(br, ac, blk, 1)
		return
	}
	la := br.acc << (64 - n)
	for k := 1; k < 64; k++ {
		if n < 16 {
			br.acc, br.n = la>>(64-n), n
			br.fill()
			n = br.n
			la = br.acc << (64 - n)
		}
		i := la >> (64 - lutBits)
		if f := ac.fastAC[i]; f != 0 {
			l := uint(f) & 0xff
			la <<= l & 63
			n -= l
			k += int(f>>8) & 15
			blk[zigzag[k&127]&63] = int16(f >> 16)
			continue
		}
		var rs uint8
		if e := ac.lut[i]; e != 0 {
			l := uint(e) & 0xff
			la <<= l & 63
			n -= l
			rs = uint8(e >> 8)
		} else {
			br.acc, br.n = la>>(64-n), n
			rs, _ = br.decode(ac)
			if br.n > 64 {
				return // no code matched: rs is 0 (end of block)
			}
			n = br.n
			la = br.acc << (64 - n)
		}
		r, sz := int(rs>>4), uint(rs&15)
		if sz == 0 {
			if r != 15 {
				break
			}
			k += 15
			continue
		}
		k += r
		if n < sz {
			br.acc, br.n = la>>(64-n), n
			br.fill()
			n = br.n
			la = br.acc << (64 - n)
		}
		v := int32(la >> (64 - sz))
		la <<= sz
		n -= sz
		if v < 1<<(sz-1) {
			v += -1<<sz + 1
		}
		blk[zigzag[k&127]&63] = int16(v)
	}
	br.acc, br.n = la>>(64-n), n
}

// acTail decodes the AC coefficients of a sequential block from index k
// with the generic bit reader methods.
func acTail(br *bitReader, ac *huffTable, blk *[64]int16, k int) {
	for ; k < 64; k++ {
		if br.n < 16 {
			br.fill()
		}
		if f := ac.fastAC[(br.acc>>(br.n-lutBits))&(1<<lutBits-1)]; f != 0 {
			br.n -= uint(f & 0xff)
			k += int(f>>8) & 15
			blk[naturalOrder[k]] = int16(f >> 16)
			continue
		}
		rs, _ := br.decode(ac)
		r, sz := int(rs>>4), uint(rs&15)
		if sz != 0 {
			k += r
			blk[naturalOrder[k]] = int16(br.receiveExtend(sz))
		} else {
			if r != 15 {
				break
			}
			k += 15
		}
	}
}

func (d *decoder) decodeACFirst(br *bitReader, s *scan, c *component, blk []int16, eobrun int) (int, error) {
	if eobrun > 0 {
		return eobrun - 1, nil
	}
	ac := d.huff[1][c.acTable]
	for k := s.ss; k <= s.se; k++ {
		rs, err := br.decode(ac)
		if err != nil {
			return 0, err
		}
		r, sz := int(rs>>4), uint(rs&15)
		if sz != 0 {
			k += r
			blk[naturalOrder[k]] = int16(br.receiveExtend(sz) << uint(s.al))
		} else {
			if r != 15 {
				eobrun = 1 << uint(r)
				if r != 0 {
					eobrun += int(br.bits(uint(r)))
				}
				return eobrun - 1, nil
			}
			k += 15
		}
	}
	return 0, nil
}

func (d *decoder) decodeACRefine(br *bitReader, s *scan, c *component, blk []int16, eobrun int) (int, error) {
	p1 := int16(1) << uint(s.al)
	m1 := int16(-1) << uint(s.al)
	k := s.ss
	refine := func(pos int) {
		if br.bit() && blk[pos]&p1 == 0 {
			if blk[pos] >= 0 {
				blk[pos] += p1
			} else {
				blk[pos] += m1
			}
		}
	}
	if eobrun == 0 {
		ac := d.huff[1][c.acTable]
		for ; k <= s.se; k++ {
			rs, err := br.decode(ac)
			if err != nil {
				return 0, err
			}
			r, sz := int(rs>>4), int(rs&15)
			var val int16
			if sz != 0 {
				// The size should be 1 (libjpeg only warns otherwise).
				if br.bit() {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				eobrun = 1 << uint(r)
				if r != 0 {
					eobrun += int(br.bits(uint(r)))
				}
				break
			}
			// Skip r zero coefficients, refining the nonzero ones passed.
			for k <= s.se {
				pos := naturalOrder[k]
				if blk[pos] != 0 {
					refine(pos)
				} else {
					r--
					if r < 0 {
						break
					}
				}
				k++
			}
			if val != 0 {
				blk[naturalOrder[k]] = val
			}
		}
	}
	if eobrun > 0 {
		for ; k <= s.se; k++ {
			pos := naturalOrder[k]
			if blk[pos] != 0 {
				refine(pos)
			}
		}
		eobrun--
	}
	return eobrun, nil
}

// zigzag is naturalOrder as bytes, padded to 128 entries so that masked
// indexes need no bounds check (k passes 63 only after a corrupt run).
var zigzag = func() (z [128]uint8) {
	for k := range z {
		z[k] = uint8(naturalOrder[min(k, len(naturalOrder)-1)])
	}
	return z
}()
