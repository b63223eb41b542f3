package hnsw

import "math"

// quantizer maps each dimension affinely to 8 bits: x ≈ lo + step*c with
// c in [0, 255], trained from the per-dimension min and max of a sample.
type quantizer struct {
	lo, step []float32
}

// trainQuantizer computes the per-dimension range of rows(0..n-1).
func trainQuantizer(dim, n int, row func(i int) []float32) *quantizer {
	lo := make([]float32, dim)
	hi := make([]float32, dim)
	for d := range dim {
		lo[d] = float32(math.Inf(1))
		hi[d] = float32(math.Inf(-1))
	}
	for i := range n {
		for d, x := range row(i) {
			lo[d] = min(lo[d], x)
			hi[d] = max(hi[d], x)
		}
	}
	q := &quantizer{lo: lo, step: make([]float32, dim)}
	for d := range dim {
		if n == 0 || !(hi[d] > lo[d]) {
			if n == 0 {
				lo[d] = 0
			}
			continue // step 0: every value decodes to lo
		}
		q.step[d] = (hi[d] - lo[d]) / 255
	}
	return q
}

// encode writes the code of v to dst (values outside the trained range are
// clamped).
func (q *quantizer) encode(v []float32, dst []uint8) {
	for d, x := range v {
		if q.step[d] == 0 {
			dst[d] = 0
			continue
		}
		c := math.Round(float64((x - q.lo[d]) / q.step[d]))
		dst[d] = uint8(min(max(c, 0), 255))
	}
}

// prepare quantises the query q against the codes: Σ q·x ≈ base + t·Σ e·c,
// where e (written to dst) is q scaled per dimension by step and rounded to
// int8. It returns t and base.
func (q *quantizer) prepare(v []float32, dst []int8) (t, base float32) {
	var maxAbs float32
	for d, x := range v {
		base += x * q.lo[d]
		maxAbs = max(maxAbs, float32(math.Abs(float64(x*q.step[d]))))
	}
	if maxAbs == 0 {
		clear(dst)
		return 0, base
	}
	t = maxAbs / 127
	for d, x := range v {
		dst[d] = int8(math.Round(float64(x * q.step[d] / t)))
	}
	return t, base
}
