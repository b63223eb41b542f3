package qgemm

import (
	"fmt"
	"math"
)

// Panel is the number of output columns per packed panel (two 16-lane
// int32 vectors).
const Panel = 32

// Packed is a weight matrix W [n×k] quantised to int8 per output channel
// and packed for MulBlock. It is immutable and safe for concurrent use.
type Packed struct {
	n, k, kp int
	// w holds ceil(n/32) panels of [kp/4][32][4] int8: for each group of
	// four inputs, the four bytes of column 0, then column 1, ...
	w     []int8
	scale []float32 // per column, padded to a whole panel with 0
	sum   []int32   // Σ_p qw[j][p] per column, padded with 0
}

// Pack quantises w, a row-major [n×k] matrix (Hugging Face Linear layout),
// to int8 with one symmetric scale per row of w (output channel) and packs
// it. A row holding Inf or NaN is an error. It panics if n or k is
// negative or w holds fewer than n·k values.
func Pack(w []float32, n, k int) (*Packed, error) {
	if n < 0 || k < 0 || len(w) < n*k {
		panic(fmt.Sprintf("qgemm: Pack n=%d k=%d with len(w)=%d", n, k, len(w)))
	}
	kp := RowBytes(k)
	np := (n + Panel - 1) / Panel
	p := &Packed{n: n, k: k, kp: kp, w: make([]int8, np*Panel*kp),
		scale: make([]float32, np*Panel), sum: make([]int32, np*Panel)}
	for j := 0; j < n; j++ {
		row := w[j*k : j*k+k]
		var amax float32
		for _, v := range row {
			amax = max(amax, abs32(v))
		}
		if math.IsInf(float64(amax), 0) || math.IsNaN(float64(amax)) {
			return nil, fmt.Errorf("qgemm: row %d of the weights holds %g", j, amax)
		}
		if amax == 0 {
			continue // an all-zero column: scale 0, weights 0
		}
		s := amax / 127
		p.scale[j] = s
		inv := 1 / s
		pan := p.w[j/Panel*Panel*kp:]
		c := j % Panel
		var sum int32
		for q, v := range row {
			x := int32(roundEven(v * inv))
			x = min(max(x, -127), 127)
			sum += x
			pan[(q/4)*Panel*4+c*4+q%4] = int8(x)
		}
		p.sum[j] = sum
	}
	return p, nil
}

// N is the number of outputs (rows of W).
func (p *Packed) N() int { return p.n }

// K is the number of inputs (columns of W).
func (p *Packed) K() int { return p.k }

// Panels is the number of 32-column panels, the column unit of MulBlock.
func (p *Packed) Panels() int { return (p.n + Panel - 1) / Panel }

// RowBytes is the length of one quantised row of k inputs: k rounded up
// to a multiple of 4 (the padding is zero).
func RowBytes(k int) int { return (k + 3) &^ 3 }

// Rows is a block of m input rows quantised to uint8 by QuantizeRows.
type Rows struct {
	Q     []uint8   // [m × RowBytes(k)]
	Scale []float32 // [m]
	Zero  []int32   // [m], each in [0, 255]
}

// QuantizeRows quantises rows [r0, r1) of x [·×k] into dst: per row, an
// asymmetric uint8 grid spanning [min(x,0), max(x,0)] with step
// (max−min)/255 and zero point round(−min/step), values rounded to nearest
// even and clamped. dst must hold room for r1 rows; padding bytes are
// zeroed.
func QuantizeRows(dst Rows, x []float32, k, r0, r1 int) {
	kp := RowBytes(k)
	if r0 < 0 || r1 < r0 || len(x) < r1*k || len(dst.Q) < r1*kp || len(dst.Scale) < r1 || len(dst.Zero) < r1 {
		panic(fmt.Sprintf("qgemm: QuantizeRows rows [%d,%d) k=%d with len(x)=%d len(Q)=%d len(Scale)=%d len(Zero)=%d",
			r0, r1, k, len(x), len(dst.Q), len(dst.Scale), len(dst.Zero)))
	}
	for r := r0; r < r1; r++ {
		xr := x[r*k : r*k+k]
		lo, hi := minMax(xr)
		lo, hi = min(lo, 0), max(hi, 0)
		q := dst.Q[r*kp : r*kp+kp]
		if hi == lo {
			dst.Scale[r], dst.Zero[r] = 0, 0
			clear(q)
			continue
		}
		s := (hi - lo) / 255
		inv := 1 / s
		z := min(max(int32(roundEven(-lo*inv)), 0), 255)
		dst.Scale[r], dst.Zero[r] = s, z
		quantizeRow(q[:k], xr, inv, float32(z))
		clear(q[k:])
	}
}

// MulBlock sets rows [i0, i1) × panels [p0, p1) of dst [m×N] (row stride N)
// to the product of the quantised rows x with W, plus bias (N values or
// nil).
func (p *Packed) MulBlock(dst []float32, x Rows, bias []float32, i0, i1, p0, p1 int) {
	n, kp := p.n, p.kp
	if i0 < 0 || i1 < i0 || p0 < 0 || p1 < p0 || p1 > p.Panels() || len(dst) < i1*n ||
		len(x.Q) < i1*kp || len(x.Scale) < i1 || len(x.Zero) < i1 || (bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("qgemm: MulBlock rows [%d,%d) panels [%d,%d) of n=%d k=%d with len(dst)=%d len(Q)=%d len(bias)=%d",
			i0, i1, p0, p1, n, p.k, len(dst), len(x.Q), len(bias)))
	}
	mulBlock(p, dst, x, bias, i0, i1, p0, p1)
}

// goMulBlock is the portable kernel and the test oracle.
func goMulBlock(p *Packed, dst []float32, x Rows, bias []float32, i0, i1, p0, p1 int) {
	n, kp := p.n, p.kp
	var acc [Panel]int32
	for pj := p0; pj < p1; pj++ {
		pan := p.w[pj*Panel*kp : (pj+1)*Panel*kp]
		c0 := pj * Panel
		nc := min(Panel, n-c0)
		for i := i0; i < i1; i++ {
			a := x.Q[i*kp : i*kp+kp]
			acc = [Panel]int32{}
			for g := 0; g < kp; g += 4 {
				a0, a1, a2, a3 := int32(a[g]), int32(a[g+1]), int32(a[g+2]), int32(a[g+3])
				b := pan[g*Panel : g*Panel+4*Panel]
				for c := range acc {
					acc[c] += a0*int32(b[4*c]) + a1*int32(b[4*c+1]) + a2*int32(b[4*c+2]) + a3*int32(b[4*c+3])
				}
			}
			z, s := x.Zero[i], x.Scale[i]
			d := dst[i*n+c0 : i*n+c0+nc]
			for c := range d {
				v := float32(acc[c]-z*p.sum[c0+c]) * s
				v *= p.scale[c0+c]
				if bias != nil {
					v += bias[c0+c]
				}
				d[c] = v
			}
		}
	}
}

// quantizeRowGo writes clamp(round(x·inv)+z, 0, 255) for each x.
func quantizeRowGo(q []uint8, x []float32, inv, z float32) {
	q = q[:len(x)]
	for i, v := range x {
		f := roundEven(v*inv) + z
		q[i] = uint8(min(max(f, 0), 255))
	}
}

func minMaxGo(x []float32) (lo, hi float32) {
	if len(x) == 0 {
		return 0, 0
	}
	lo, hi = x[0], x[0]
	for _, v := range x[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// roundEven rounds to the nearest integer, ties to even, like the
// vector conversion instructions.
func roundEven(v float32) float32 { return float32(math.RoundToEven(float64(v))) }
