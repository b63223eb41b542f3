package gemm

import "math"

// nr is the width of a packed W panel (columns per micro-kernel call).
const nr = 32

// microFunc computes an r×ncols block of C from r rows of A (row stride
// lda, kc values each) and one packed panel b ([kc][nr]):
//
//	c[i][j] = (acc ? c[i][j] : 0) + bias[j] + Σ_p a[i*lda+p]·b[p*nr+j]
//
// for i < r, j < ncols (ncols ≤ nr). bias may be nil. C has row stride
// ldc. Only the first ncols columns of each C row are read or written.
type microFunc func(r, kc int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, ncols int, acc bool)

// kernelSet is one implementation of the micro-kernel.
//
// A bf16 kernel takes a and b as bf16 pairs stored in float32 slots (low
// half: even k, high half: odd k), kc and lda counting pairs; cvt converts
// floats src to such pairs in dst, padding with zero pairs.
type kernelSet struct {
	name  string
	mr    int // maximum rows per call
	micro microFunc
	bf16  bool
	cvt   func(dst, src []float32)
}

// goKernels is the portable implementation and the test oracle.
var goKernels = kernelSet{name: "go", mr: 4, micro: goMicro}

// goMicro is the portable micro-kernel: blocks of 4 rows × 4 columns
// held in 16 scalar accumulators, then single rows.
func goMicro(r, kc int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, ncols int, acc bool) {
	b = b[:kc*nr]
	i := 0
	for ; i+4 <= r; i += 4 {
		a0 := a[i*lda : i*lda+kc]
		a1 := a[(i+1)*lda : (i+1)*lda+kc]
		a2 := a[(i+2)*lda : (i+2)*lda+kc]
		a3 := a[(i+3)*lda : (i+3)*lda+kc]
		for j := 0; j < ncols; j += 4 {
			var s [4][4]float32
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			var s20, s21, s22, s23, s30, s31, s32, s33 float32
			for p := range a0 {
				bp := b[p*nr+j : p*nr+j+4]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				x0, x1, x2, x3 := a0[p], a1[p], a2[p], a3[p]
				s00 += x0 * b0
				s01 += x0 * b1
				s02 += x0 * b2
				s03 += x0 * b3
				s10 += x1 * b0
				s11 += x1 * b1
				s12 += x1 * b2
				s13 += x1 * b3
				s20 += x2 * b0
				s21 += x2 * b1
				s22 += x2 * b2
				s23 += x2 * b3
				s30 += x3 * b0
				s31 += x3 * b1
				s32 += x3 * b2
				s33 += x3 * b3
			}
			s[0] = [4]float32{s00, s01, s02, s03}
			s[1] = [4]float32{s10, s11, s12, s13}
			s[2] = [4]float32{s20, s21, s22, s23}
			s[3] = [4]float32{s30, s31, s32, s33}
			for ii := range s {
				storeRow(c[(i+ii)*ldc:], j, s[ii][:min(4, ncols-j)], bias, acc)
			}
		}
	}
	for ; i < r; i++ {
		ar := a[i*lda : i*lda+kc]
		for j := 0; j < ncols; j += 4 {
			var s0, s1, s2, s3 float32
			for p, x := range ar {
				bp := b[p*nr+j : p*nr+j+4]
				s0 += x * bp[0]
				s1 += x * bp[1]
				s2 += x * bp[2]
				s3 += x * bp[3]
			}
			s := [4]float32{s0, s1, s2, s3}
			storeRow(c[i*ldc:], j, s[:min(4, ncols-j)], bias, acc)
		}
	}
}

// storeRow writes sums s to row[j:], adding bias[j:] if non-nil and the
// old contents if acc.
func storeRow(row []float32, j int, s []float32, bias []float32, acc bool) {
	out := row[j : j+len(s)]
	for q, v := range s {
		if bias != nil {
			v += bias[j+q]
		}
		if acc {
			v += out[q]
		}
		out[q] = v
	}
}

// goBF16Kernels is the portable bf16 implementation.
var goBF16Kernels = kernelSet{name: "go", mr: 4, micro: goMicroBF16, bf16: true, cvt: goCvtBF16}

// toBF16 rounds f to bfloat16 (nearest even), keeping NaNs NaN.
func toBF16(f float32) uint32 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return b>>16 | 0x40
	}
	return (b + 0x7fff + (b>>16)&1) >> 16
}

// goCvtBF16 converts src to bf16 pairs in dst, zero padded.
func goCvtBF16(dst, src []float32) {
	for i := range dst {
		var lo, hi uint32
		if 2*i < len(src) {
			lo = toBF16(src[2*i])
		}
		if 2*i+1 < len(src) {
			hi = toBF16(src[2*i+1])
		}
		dst[i] = math.Float32frombits(lo | hi<<16)
	}
}

// goMicroBF16 is the portable bf16 micro-kernel: products of bf16 pairs
// summed in float32.
func goMicroBF16(r, kc int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, ncols int, acc bool) {
	b = b[:kc*nr]
	for i := 0; i < r; i++ {
		ar := a[i*lda : i*lda+kc]
		var s [nr]float32
		for p, av := range ar {
			ab := math.Float32bits(av)
			a0, a1 := math.Float32frombits(ab<<16), math.Float32frombits(ab&0xffff0000)
			bp := (*[nr]float32)(b[p*nr : p*nr+nr])
			for j := 0; j < ncols; j++ {
				bb := math.Float32bits(bp[j])
				s[j] += a0*math.Float32frombits(bb<<16) + a1*math.Float32frombits(bb&0xffff0000)
			}
		}
		storeRow(c[i*ldc:], 0, s[:ncols], bias, acc)
	}
}
