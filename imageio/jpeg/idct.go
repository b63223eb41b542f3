package jpeg

// Fixed-point constants of libjpeg's jidctint.c (CONST_BITS = 13).
const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// idctFunc dequantizes and inverse-transforms one block of coefficients,
// writing its samples (level-shifted and range-limited) to dst with the given
// stride. Reduced-size IDCTs (for DCT-domain scaling) share this signature
// and write a smaller square.
type idctFunc func(coef []int16, quant *[64]int32, dst []uint8, stride int)

// rangeLimit is libjpeg's post-IDCT range-limit table (jdmaster.c
// prepare_range_limit_table), indexed by (x & 1023) where x is the IDCT
// output before adding 128: it maps -128..127 to 0..255, clamps values
// up to +-384 and wraps beyond, exactly like libjpeg for corrupt data.
var rangeLimit = func() (t [1024]uint8) {
	for i := range t {
		switch {
		case i < 128:
			t[i] = uint8(i + 128)
		case i < 512:
			t[i] = 255
		case i < 896:
			t[i] = 0
		default:
			t[i] = uint8(i - 896)
		}
	}
	return t
}()

// idctIslow is libjpeg's jpeg_idct_islow: the accurate integer IDCT
// (Loeffler-Ligtenberg-Moschytz with 13-bit fixed-point constants, two
// passes with PASS1_BITS extra precision in between).
func idctIslow(coef []int16, quant *[64]int32, dst []uint8, stride int) {
	var ws [64]int32
	coef = coef[:64]
	// Pass 1: columns.
	for col := 0; col < 8; col++ {
		if coef[8+col] == 0 && coef[16+col] == 0 && coef[24+col] == 0 && coef[32+col] == 0 &&
			coef[40+col] == 0 && coef[48+col] == 0 && coef[56+col] == 0 {
			dc := int32(coef[col]) * quant[col] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[r*8+col] = dc
			}
			continue
		}
		// Even part.
		z2 := int64(coef[16+col]) * int64(quant[16+col])
		z3 := int64(coef[48+col]) * int64(quant[48+col])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2 = int64(coef[col]) * int64(quant[col])
		z3 = int64(coef[32+col]) * int64(quant[32+col])
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2
		// Odd part.
		tmp0 = int64(coef[56+col]) * int64(quant[56+col])
		tmp1 = int64(coef[40+col]) * int64(quant[40+col])
		tmp2 = int64(coef[24+col]) * int64(quant[24+col])
		tmp3 = int64(coef[8+col]) * int64(quant[8+col])
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602
		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 *= -fix1_961570560
		z4 *= -fix0_390180644
		z3 += z5
		z4 += z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4
		const sh = constBits - pass1Bits
		const rnd = 1 << (sh - 1)
		ws[0*8+col] = int32((tmp10 + tmp3 + rnd) >> sh)
		ws[7*8+col] = int32((tmp10 - tmp3 + rnd) >> sh)
		ws[1*8+col] = int32((tmp11 + tmp2 + rnd) >> sh)
		ws[6*8+col] = int32((tmp11 - tmp2 + rnd) >> sh)
		ws[2*8+col] = int32((tmp12 + tmp1 + rnd) >> sh)
		ws[5*8+col] = int32((tmp12 - tmp1 + rnd) >> sh)
		ws[3*8+col] = int32((tmp13 + tmp0 + rnd) >> sh)
		ws[4*8+col] = int32((tmp13 - tmp0 + rnd) >> sh)
	}
	// Pass 2: rows.
	for row := 0; row < 8; row++ {
		w := ws[row*8 : row*8+8 : row*8+8]
		out := dst[row*stride : row*stride+8 : row*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := rangeLimit[((int64(w[0])+(1<<(pass1Bits+2)))>>(pass1Bits+3))&1023]
			for i := range out {
				out[i] = v
			}
			continue
		}
		z2 := int64(w[2])
		z3 := int64(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (int64(w[0]) + int64(w[4])) << constBits
		tmp1 := (int64(w[0]) - int64(w[4])) << constBits
		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2
		tmp0 = int64(w[7])
		tmp1 = int64(w[5])
		tmp2 = int64(w[3])
		tmp3 = int64(w[1])
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602
		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 *= -fix1_961570560
		z4 *= -fix0_390180644
		z3 += z5
		z4 += z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4
		const sh = constBits + pass1Bits + 3
		const rnd = 1 << (sh - 1)
		out[0] = rangeLimit[((tmp10+tmp3+rnd)>>sh)&1023]
		out[7] = rangeLimit[((tmp10-tmp3+rnd)>>sh)&1023]
		out[1] = rangeLimit[((tmp11+tmp2+rnd)>>sh)&1023]
		out[6] = rangeLimit[((tmp11-tmp2+rnd)>>sh)&1023]
		out[2] = rangeLimit[((tmp12+tmp1+rnd)>>sh)&1023]
		out[5] = rangeLimit[((tmp12-tmp1+rnd)>>sh)&1023]
		out[3] = rangeLimit[((tmp13+tmp0+rnd)>>sh)&1023]
		out[4] = rangeLimit[((tmp13-tmp0+rnd)>>sh)&1023]
	}
}

// Constants of libjpeg's jidctred.c (reduced-size IDCTs, CONST_BITS = 13).
const (
	fix0_211164243 = 1730
	fix0_509795579 = 4176
	fix0_601344887 = 4926
	fix0_720959822 = 5906
	fix0_850430095 = 6967
	fix1_061594337 = 8697
	fix1_272758580 = 10426
	fix1_451774981 = 11893
	fix2_172734803 = 17799
	fix3_624509785 = 29692
)

// idct4x4 is libjpeg's jpeg_idct_4x4: a 4x4 output (1/2 scale) from the
// low-frequency part of an 8x8 block.
func idct4x4(coef []int16, quant *[64]int32, dst []uint8, stride int) {
	var ws [32]int32 // 4 rows of 8 (column 4 unused)
	coef = coef[:64]
	for col := 0; col < 8; col++ {
		if col == 4 {
			continue // not used by pass 2
		}
		if coef[8+col] == 0 && coef[16+col] == 0 && coef[24+col] == 0 &&
			coef[40+col] == 0 && coef[48+col] == 0 && coef[56+col] == 0 {
			dc := int32(coef[col]) * quant[col] << pass1Bits
			ws[col], ws[8+col], ws[16+col], ws[24+col] = dc, dc, dc, dc
			continue
		}
		tmp0 := int64(coef[col]) * int64(quant[col]) << (constBits + 1)
		z2 := int64(coef[16+col]) * int64(quant[16+col])
		z3 := int64(coef[48+col]) * int64(quant[48+col])
		tmp2 := z2*fix1_847759065 - z3*fix0_765366865
		tmp10 := tmp0 + tmp2
		tmp12 := tmp0 - tmp2
		z1 := int64(coef[56+col]) * int64(quant[56+col])
		z2 = int64(coef[40+col]) * int64(quant[40+col])
		z3 = int64(coef[24+col]) * int64(quant[24+col])
		z4 := int64(coef[8+col]) * int64(quant[8+col])
		tmp0 = -z1*fix0_211164243 + z2*fix1_451774981 - z3*fix2_172734803 + z4*fix1_061594337
		tmp2 = -z1*fix0_509795579 - z2*fix0_601344887 + z3*fix0_899976223 + z4*fix2_562915447
		const sh = constBits - pass1Bits + 1
		const rnd = 1 << (sh - 1)
		ws[col] = int32((tmp10 + tmp2 + rnd) >> sh)
		ws[24+col] = int32((tmp10 - tmp2 + rnd) >> sh)
		ws[8+col] = int32((tmp12 + tmp0 + rnd) >> sh)
		ws[16+col] = int32((tmp12 - tmp0 + rnd) >> sh)
	}
	for row := 0; row < 4; row++ {
		w := ws[row*8 : row*8+8 : row*8+8]
		out := dst[row*stride : row*stride+4 : row*stride+4]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := rangeLimit[((int64(w[0])+(1<<(pass1Bits+2)))>>(pass1Bits+3))&1023]
			out[0], out[1], out[2], out[3] = v, v, v, v
			continue
		}
		tmp0 := int64(w[0]) << (constBits + 1)
		tmp2 := int64(w[2])*fix1_847759065 - int64(w[6])*fix0_765366865
		tmp10 := tmp0 + tmp2
		tmp12 := tmp0 - tmp2
		z1, z2, z3, z4 := int64(w[7]), int64(w[5]), int64(w[3]), int64(w[1])
		tmp0 = -z1*fix0_211164243 + z2*fix1_451774981 - z3*fix2_172734803 + z4*fix1_061594337
		tmp2 = -z1*fix0_509795579 - z2*fix0_601344887 + z3*fix0_899976223 + z4*fix2_562915447
		const sh = constBits + pass1Bits + 3 + 1
		const rnd = 1 << (sh - 1)
		out[0] = rangeLimit[((tmp10+tmp2+rnd)>>sh)&1023]
		out[3] = rangeLimit[((tmp10-tmp2+rnd)>>sh)&1023]
		out[1] = rangeLimit[((tmp12+tmp0+rnd)>>sh)&1023]
		out[2] = rangeLimit[((tmp12-tmp0+rnd)>>sh)&1023]
	}
}

// idct2x2 is libjpeg's jpeg_idct_2x2 (1/4 scale). It reads rows and
// columns 0, 1, 3, 5 and 7 only. libjpeg's shortcuts for columns and rows
// whose AC terms are zero give exactly what the full formulas give (the
// DC term is a multiple of 2^(CONST_BITS+2), so the rounding adds nothing,
// and int32 wrap-around is the same), so they are not taken here.
func idct2x2(coef []int16, quant *[64]int32, dst []uint8, stride int) {
	c := (*[64]int16)(coef[:64])
	// Pass 1: columns 0, 1, 3, 5, 7 into two rows.
	col := func(i int) (int32, int32) {
		tmp10 := int64(c[i]) * int64(quant[i]) << (constBits + 2)
		tmp0 := -int64(c[56+i])*int64(quant[56+i])*fix0_720959822 +
			int64(c[40+i])*int64(quant[40+i])*fix0_850430095 -
			int64(c[24+i])*int64(quant[24+i])*fix1_272758580 +
			int64(c[8+i])*int64(quant[8+i])*fix3_624509785
		const sh = constBits - pass1Bits + 2
		const rnd = 1 << (sh - 1)
		return int32((tmp10 + tmp0 + rnd) >> sh), int32((tmp10 - tmp0 + rnd) >> sh)
	}
	a0, b0 := col(0)
	a1, b1 := col(1)
	a3, b3 := col(3)
	a5, b5 := col(5)
	a7, b7 := col(7)
	// Pass 2: the two rows.
	row := func(w0, w1, w3, w5, w7 int32, out []uint8) {
		tmp10 := int64(w0) << (constBits + 2)
		tmp0 := -int64(w7)*fix0_720959822 + int64(w5)*fix0_850430095 -
			int64(w3)*fix1_272758580 + int64(w1)*fix3_624509785
		const sh = constBits + pass1Bits + 3 + 2
		const rnd = 1 << (sh - 1)
		out = out[:2]
		out[0] = rangeLimit[((tmp10+tmp0+rnd)>>sh)&1023]
		out[1] = rangeLimit[((tmp10-tmp0+rnd)>>sh)&1023]
	}
	row(a0, a1, a3, a5, a7, dst)
	row(b0, b1, b3, b5, b7, dst[stride:])
}

// idct2x2Low is idct2x2 for a block whose coefficients other than 0, 1
// and 8 are zero.
func idct2x2Low(c *[64]int16, quant *[64]int32, dst []uint8, stride int) {
	const sh1 = constBits - pass1Bits + 2
	const rnd1 = 1 << (sh1 - 1)
	// Pass 1: column 0 has rows 0 and 1; column 1 row 0 only (its odd
	// part is zero, and (x<<15 + rnd1) >> sh1 is x<<2 exactly).
	tmp10 := int64(c[0]) * int64(quant[0]) << (constBits + 2)
	tmp0 := int64(c[8]) * int64(quant[8]) * fix3_624509785
	a0, b0 := int32((tmp10+tmp0+rnd1)>>sh1), int32((tmp10-tmp0+rnd1)>>sh1)
	w1 := int64(int32((int64(c[1])*int64(quant[1])<<(constBits+2) + rnd1) >> sh1))
	// Pass 2: both rows have w1 in column 1 only.
	const sh2 = constBits + pass1Bits + 3 + 2
	const rnd2 = 1 << (sh2 - 1)
	odd := w1 * fix3_624509785
	r0 := dst[:2]
	r0[0] = rangeLimit[((int64(a0)<<(constBits+2)+odd+rnd2)>>sh2)&1023]
	r0[1] = rangeLimit[((int64(a0)<<(constBits+2)-odd+rnd2)>>sh2)&1023]
	r1 := dst[stride : stride+2]
	r1[0] = rangeLimit[((int64(b0)<<(constBits+2)+odd+rnd2)>>sh2)&1023]
	r1[1] = rangeLimit[((int64(b0)<<(constBits+2)-odd+rnd2)>>sh2)&1023]
}

// idct1x1 is libjpeg's jpeg_idct_1x1 (1/8 scale): the rounded DC.
func idct1x1(coef []int16, quant *[64]int32, dst []uint8, stride int) {
	dc := int64(coef[0]) * int64(quant[0])
	dst[0] = rangeLimit[((dc+4)>>3)&1023]
}

// idctFor returns the IDCT producing size x size samples per block.
func idctFor(size int) idctFunc {
	switch size {
	case 4:
		return idct4x4
	case 2:
		return idct2x2
	case 1:
		return idct1x1
	}
	return idctIslow
}
