package nn

import "fmt"

// Linear is a fully connected layer y = x·Wᵀ + B with Hugging Face's weight
// layout: W is [Out×In] row-major, B is [Out] or nil.
type Linear struct {
	W       []float32 // [Out×In]
	B       []float32 // [Out], or nil for no bias
	In, Out int

	packed *packedMatrix
}

// Prepack prepares W for the matrix kernel. It must be called again after W
// changes; Forward works without it, only slower once a packing kernel is in
// place.
func (l *Linear) Prepack() {
	l.packed = pack(l.W, l.Out, l.In)
}

// Forward computes dst[rows×Out] = x[rows×In]·Wᵀ + B.
func (l *Linear) Forward(dst, x []float32, rows int) {
	if len(l.W) < l.Out*l.In || (l.B != nil && len(l.B) < l.Out) {
		panic(fmt.Sprintf("nn: Linear %d→%d has len(W)=%d len(B)=%d", l.In, l.Out, len(l.W), len(l.B)))
	}
	p := l.packed
	if p == nil {
		p = pack(l.W, l.Out, l.In)
	}
	p.Mul(dst, x, rows, l.B)
}

// packedMatrix is a weight matrix [n×k] prepared for the matrix kernel.
// Its API mirrors the assembly kernel package (Pack / Mul) so that kernel
// can replace this pure-Go one by changing only this file.
type packedMatrix struct {
	w    []float32
	n, k int
}

// pack prepares w [n×k] for Mul. The pure-Go kernel reads w in place.
func pack(w []float32, n, k int) *packedMatrix {
	return &packedMatrix{w: w[:n*k], n: n, k: k}
}

// Mul computes dst[m×n] = x[m×k]·wᵀ + bias (bias may be nil).
func (p *packedMatrix) Mul(dst, x []float32, m int, bias []float32) {
	checkMatMul(dst, x, p.w, m, p.n, p.k)
	d := dst[:m*p.n]
	if bias == nil {
		clear(d)
	} else {
		bias = bias[:p.n]
		for i := 0; i < m; i++ {
			copy(d[i*p.n:(i+1)*p.n], bias)
		}
	}
	matMulTAdd(d, x, p.w, m, p.n, p.k)
}
