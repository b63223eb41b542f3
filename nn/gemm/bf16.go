package gemm

import (
	"fmt"
	"math"
)

// KernelBF16 names the bf16 micro-kernel in use: "avx512bf16" (VDPBF16PS)
// or "go".
func KernelBF16() string { return activeBF16.name }

// PackedBF16 is a weight matrix W [n×k] rounded to bfloat16 and packed for
// Mul. Products take bf16 pairs of W and of x (rounded to nearest even)
// and sum them in float32: about 3 significant digits per term, at up to
// twice the speed of Packed. It is immutable after PackBF16 and safe for
// concurrent use.
type PackedBF16 struct {
	n, k int
	w    []float32 // panels of [ceil(k/2)][32] bf16 pairs, in k blocks (see panelOff)
}

// PackBF16 rounds w, a row-major [n×k] matrix, to bf16 and packs it. It
// panics if n or k is negative or w holds fewer than n·k values.
func PackBF16(w []float32, n, k int) *PackedBF16 {
	if n < 0 || k < 0 || len(w) < n*k {
		panic(fmt.Sprintf("gemm: PackBF16 n=%d k=%d with len(w)=%d", n, k, len(w)))
	}
	k2 := (k + 1) / 2
	p := &PackedBF16{n: n, k: k, w: make([]float32, panels(n)*k2*nr)}
	np := panels(n)
	eachBlock(k2, func(q0, qb int) {
		for col := 0; col < n; col++ {
			pan := p.w[panelOff(np, q0, qb, col/nr):][:qb*nr]
			row := w[col*k : col*k+k]
			for q := q0; q < q0+qb; q++ {
				lo := toBF16(row[2*q])
				var hi uint32
				if 2*q+1 < k {
					hi = toBF16(row[2*q+1])
				}
				pan[(q-q0)*nr+col%nr] = math.Float32frombits(lo | hi<<16)
			}
		}
	})
	return p
}

// N is the number of outputs (rows of W).
func (p *PackedBF16) N() int { return p.n }

// K is the number of inputs (columns of W).
func (p *PackedBF16) K() int { return p.k }

// Mul sets dst[m×n] = x[m×k]·Wᵀ + bias with x rounded to bf16 and float32
// sums; otherwise as Packed.Mul.
func (p *PackedBF16) Mul(dst, x []float32, m int, bias []float32, pool *Pool) {
	if m < 0 || len(dst) < m*p.n || len(x) < m*p.k || (bias != nil && len(bias) < p.n) {
		panic(fmt.Sprintf("gemm: PackedBF16.Mul m=%d n=%d k=%d with len(dst)=%d len(x)=%d len(bias)=%d",
			m, p.n, p.k, len(dst), len(x), len(bias)))
	}
	execute(pool, activeBF16, product{dst: dst, ldd: p.n, x: x, lda: p.k, w: p.w, bias: bias, m: m, n: p.n, k: (p.k + 1) / 2, kx: p.k})
}
