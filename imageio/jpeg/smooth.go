package jpeg

// Block smoothing (libjpeg-turbo jdcoefct.c decompress_smooth_data): when a
// progressive image ends with some of the first nine AC coefficients not
// known to full precision, libjpeg estimates them (and, if no AC data was
// received at all, the DC value) from the DC values of the 5x5 neighboring
// blocks before the IDCT. Complete progressive files are not affected.

// Natural-order positions of zigzag coefficients 1..9.
var smoothPos = [10]int{0, 1, 8, 16, 9, 2, 3, 10, 17, 24}

// smoothingOK mirrors jdcoefct.c smoothing_ok for a fully read image.
func (d *decoder) smoothingOK() bool {
	if !d.progressive {
		return false
	}
	useful := false
	for i := range d.comps {
		c := &d.comps[i]
		if c.quant == nil {
			return false
		}
		for _, pos := range smoothPos {
			if c.qraw[pos] == 0 {
				return false
			}
		}
		if c.coefBits[0] < 0 {
			return false
		}
		for k := 1; k <= 9; k++ {
			if c.coefBits[k] != 0 {
				useful = true
			}
		}
	}
	return useful
}

// smoothPred is the estimate of one coefficient from num (libjpeg's
// rounding, clamped below 2^Al when Al > 0).
func smoothPred(num, q int64, al int) int16 {
	var pred int64
	if num >= 0 {
		pred = ((q << 7) + num) / (q << 8)
		if al > 0 && pred >= 1<<al {
			pred = 1<<al - 1
		}
	} else {
		pred = ((q << 7) - num) / (q << 8)
		if al > 0 && pred >= 1<<al {
			pred = 1<<al - 1
		}
		pred = -pred
	}
	return int16(pred)
}

// smoothRows returns the block rows that libjpeg-turbo 2.1's
// decompress_smooth_data uses as the two rows above and below block row by
// of c: neighbors are taken within the iMCU-row window it has buffered, so
// near the top and bottom a row may repeat even where the image has more.
func (d *decoder) smoothRows(c *component, by int) [5]int {
	v := c.v
	lastMCURow := d.totalIMCURows(c) - 1
	m, br := by/v, by%v
	blockRows := v
	if m == lastMCURow {
		blockRows = c.rbh - m*v
	}
	var r [5]int
	r[2] = by
	r[1] = by
	if br > 0 || m > 0 {
		r[1] = by - 1
	}
	r[0] = r[1]
	if br > 1 || m > 1 {
		r[0] = by - 2
	}
	r[3] = by
	if br < blockRows-1 || m < lastMCURow {
		r[3] = by + 1
	}
	r[4] = r[3]
	if br < blockRows-2 || m+1 < lastMCURow {
		r[4] = by + 2
	}
	return r
}

// smoothBits returns the coef_bits that decompress_smooth_data uses for the
// iMCU row holding block row by: the current ones, or those from before the
// last scan where that scan ran out of data.
func (d *decoder) smoothBits(c *component, by int) [10]int {
	var cb [10]int
	if by/c.v > d.lastGoodIMCURow {
		for k := 1; k < 10; k++ {
			if d.scans > 1 {
				cb[k] = c.prevCoefBits[k]
			} else {
				cb[k] = -1
			}
		}
		cb[0] = c.coefBits[0]
		return cb
	}
	copy(cb[:], c.coefBits[:10])
	return cb
}

// totalIMCURows is libjpeg's total_iMCU_rows as seen by component c.
func (d *decoder) totalIMCURows(c *component) int {
	return d.mcusY
}

// smoothBlock writes into ws the smoothed copy of block (bx, by) of c; rows
// and cols are the block rows and columns of the 5x5 DC window.
func smoothBlock(c *component, bx, by int, rows, cols *[5]int, cb *[10]int, ws *[64]int16) {
	copy(ws[:], c.coef[(by*c.bw+bx)*64:][:64])
	var dcv [5][5]int64
	for i, y := range rows {
		for j, x := range cols {
			dcv[i][j] = int64(c.coef[(y*c.bw+x)*64])
		}
	}
	// DC01..DC25 in libjpeg's numbering: row-major over the 5x5 window.
	D := func(n int) int64 { return dcv[(n-1)/5][(n-1)%5] }
	changeDC := true
	for k := 1; k <= 9; k++ {
		if cb[k] != -1 {
			changeDC = false
		}
	}
	q := func(pos int) int64 { return int64(c.qraw[pos]) }
	q00 := q(0)
	if al := cb[1]; al != 0 && ws[1] == 0 {
		var num int64
		if changeDC {
			num = q00 * (-D(1) - D(2) + D(4) + D(5) - 3*D(6) + 13*D(7) - 13*D(9) + 3*D(10) -
				3*D(11) + 38*D(12) - 38*D(14) + 3*D(15) - 3*D(16) + 13*D(17) - 13*D(19) +
				3*D(20) - D(21) - D(22) + D(24) + D(25))
		} else {
			num = q00 * (-7*D(11) + 50*D(12) - 50*D(14) + 7*D(15))
		}
		ws[1] = smoothPred(num, q(1), al)
	}
	if al := cb[2]; al != 0 && ws[8] == 0 {
		var num int64
		if changeDC {
			num = q00 * (-D(1) - 3*D(2) - 3*D(3) - 3*D(4) - D(5) - D(6) + 13*D(7) + 38*D(8) +
				13*D(9) - D(10) + D(16) - 13*D(17) - 38*D(18) - 13*D(19) + D(20) + D(21) +
				3*D(22) + 3*D(23) + 3*D(24) + D(25))
		} else {
			num = q00 * (-7*D(3) + 50*D(8) - 50*D(18) + 7*D(23))
		}
		ws[8] = smoothPred(num, q(8), al)
	}
	if al := cb[3]; al != 0 && ws[16] == 0 {
		var num int64
		if changeDC {
			num = q00 * (D(3) + 2*D(7) + 7*D(8) + 2*D(9) - 5*D(12) - 14*D(13) - 5*D(14) +
				2*D(17) + 7*D(18) + 2*D(19) + D(23))
		} else {
			num = q00 * (-D(3) + 13*D(8) - 24*D(13) + 13*D(18) - D(23))
		}
		ws[16] = smoothPred(num, q(16), al)
	}
	if al := cb[4]; al != 0 && ws[9] == 0 {
		var num int64
		if changeDC {
			num = q00 * (-D(1) + D(5) + 9*D(7) - 9*D(9) - 9*D(17) + 9*D(19) + D(21) - D(25))
		} else {
			num = q00 * (D(10) + D(16) - 10*D(17) + 10*D(19) - D(2) - D(20) + D(22) - D(24) +
				D(4) - D(6) + 10*D(7) - 10*D(9))
		}
		ws[9] = smoothPred(num, q(9), al)
	}
	if al := cb[5]; al != 0 && ws[2] == 0 {
		var num int64
		if changeDC {
			num = q00 * (2*D(7) - 5*D(8) + 2*D(9) + D(11) + 7*D(12) - 14*D(13) + 7*D(14) +
				D(15) + 2*D(17) - 5*D(18) + 2*D(19))
		} else {
			num = q00 * (-D(11) + 13*D(12) - 24*D(13) + 13*D(14) - D(15))
		}
		ws[2] = smoothPred(num, q(2), al)
	}
	if !changeDC {
		return
	}
	if al := cb[6]; al != 0 && ws[3] == 0 {
		ws[3] = smoothPred(q00*(D(7)-D(9)+2*D(12)-2*D(14)+D(17)-D(19)), q(3), al)
	}
	if al := cb[7]; al != 0 && ws[10] == 0 {
		ws[10] = smoothPred(q00*(D(7)-3*D(8)+D(9)-D(17)+3*D(18)-D(19)), q(10), al)
	}
	if al := cb[8]; al != 0 && ws[17] == 0 {
		ws[17] = smoothPred(q00*(D(7)-D(9)-3*D(12)+3*D(14)+D(17)-D(19)), q(17), al)
	}
	if al := cb[9]; al != 0 && ws[24] == 0 {
		ws[24] = smoothPred(q00*(D(7)+2*D(8)+D(9)-D(17)-2*D(18)-D(19)), q(24), al)
	}
	num := q00 * (-2*D(1) - 6*D(2) - 8*D(3) - 6*D(4) - 2*D(5) - 6*D(6) + 6*D(7) + 42*D(8) +
		6*D(9) - 6*D(10) - 8*D(11) + 42*D(12) + 152*D(13) + 42*D(14) - 8*D(15) - 6*D(16) +
		6*D(17) + 42*D(18) + 6*D(19) - 6*D(20) - 2*D(21) - 6*D(22) - 8*D(23) - 6*D(24) -
		2*D(25))
	ws[0] = smoothPred(num, q00, 0)
}
