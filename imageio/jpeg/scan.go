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
	d.allocCoef()
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
func (d *decoder) decodeEntropy(s *scan) error {
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
					return err
				}
				nextRST = (nextRST + 1) & 7
				restartsLeft = d.restartInt
				pred = [4]int32{}
				eobrun = 0
				insufficient = insufficient && unread
			}
			restartsLeft--
		}
		if insufficient {
			continue
		}
		for ci, c := range s.comps {
			if single {
				blk := c.coef[(my*c.bw+mx)*64:][:64]
				eobrun, err = d.decodeBlock(&br, s, c, blk, &pred[ci], eobrun)
				if err != nil {
					return err
				}
				continue
			}
			for v := 0; v < c.v; v++ {
				for h := 0; h < c.h; h++ {
					bx, by := mx*c.h+h, my*c.v+v
					blk := c.coef[(by*c.bw+bx)*64:][:64]
					eobrun, err = d.decodeBlock(&br, s, c, blk, &pred[ci], eobrun)
					if err != nil {
						return err
					}
				}
			}
		}
		if insufficient, err = br.check(); err != nil {
			return err
		}
		if br.eof {
			// libjpeg (via Pillow) fails when it tries to read past the
			// end of the data, even for lookahead bits it does not use.
			return truncated("entropy-coded data ends without a marker")
		}
	}
	// Resume marker parsing where the entropy data stopped.
	d.pos = br.pos
	return nil
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
		return 0, d.decodeBaseline(br, c, blk, pred)
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

func (d *decoder) decodeBaseline(br *bitReader, c *component, blk []int16, pred *int32) error {
	t, err := br.decode(d.huff[0][c.dcTable])
	if err != nil {
		return err
	}
	*pred += br.receiveExtend(uint(t))
	blk[0] = int16(*pred)
	ac := d.huff[1][c.acTable]
	for k := 1; k < 64; k++ {
		if br.n < 16 {
			br.fill()
		}
		if f := ac.fastAC[(br.acc>>(br.n-lutBits))&(1<<lutBits-1)]; f != 0 {
			br.n -= uint(f & 0xff)
			k += int(f>>8) & 15
			blk[naturalOrder[k]] = int16(f >> 16)
			continue
		}
		rs, err := br.decode(ac)
		if err != nil {
			return err
		}
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
	return nil
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
