package nn

import (
	"fmt"
	"math"
)

// AttentionShape describes a batched multi-head self-attention problem.
type AttentionShape struct {
	Batch, Seq     int // sequences and positions per sequence
	Heads, HeadDim int // Heads·HeadDim is the model width
	// Stride is the distance in floats between consecutive rows of q, k and
	// v; 0 means Heads·HeadDim. A fused [rows × 3·width] QKV buffer uses
	// Stride = 3·width.
	Stride int
	// Causal lets position i attend only to positions ≤ i.
	Causal bool
	// Lengths, if not nil, holds the number of real positions of each
	// sequence; keys at or after it are masked (key padding mask). Query
	// rows past the length are still computed.
	Lengths []int
}

// ScratchLen returns the length of the scratch buffer Attention needs.
func (s AttentionShape) ScratchLen() int { return s.Batch * s.Heads * s.Seq * s.Seq }

// Attention computes softmax(q·kᵀ/√HeadDim + mask)·v for every sequence and
// head. q, k and v hold [Batch·Seq] rows of Heads·HeadDim values (rows
// Stride apart), already projected; head h uses columns
// [h·HeadDim, (h+1)·HeadDim). dst receives [Batch·Seq × Heads·HeadDim]
// rows, heads concatenated. scratch must hold s.ScratchLen() floats. The
// (sequence, head) pairs are processed in parallel.
func Attention(dst, q, k, v, scratch []float32, s AttentionShape) {
	width := s.Heads * s.HeadDim
	stride := s.Stride
	if stride == 0 {
		stride = width
	}
	rows := s.Batch * s.Seq
	need := 0
	if rows > 0 {
		need = (rows-1)*stride + width
	}
	if s.Batch < 0 || s.Seq < 0 || s.Heads <= 0 || s.HeadDim <= 0 || stride < width ||
		len(q) < need || len(k) < need || len(v) < need || len(dst) < rows*width ||
		len(scratch) < s.ScratchLen() || (s.Lengths != nil && len(s.Lengths) < s.Batch) {
		panic(fmt.Sprintf("nn: Attention %+v does not fit len(dst)=%d len(q)=%d len(k)=%d len(v)=%d len(scratch)=%d",
			s, len(dst), len(q), len(k), len(v), len(scratch)))
	}
	scale := float32(1 / math.Sqrt(float64(s.HeadDim)))
	seq, hd := s.Seq, s.HeadDim
	minPairs := max(1, (1<<15)/max(1, seq*seq*hd))
	parallelFor(s.Batch*s.Heads, minPairs, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			b, h := p/s.Heads, p%s.Heads
			keys := seq
			if s.Lengths != nil {
				keys = min(max(s.Lengths[b], 0), seq)
			}
			scores := scratch[p*seq*seq : (p+1)*seq*seq]
			base := b * seq
			col := h * hd
			for i := 0; i < seq; i++ {
				qi := q[(base+i)*stride+col : (base+i)*stride+col+hd]
				n := keys
				if s.Causal {
					n = min(n, i+1)
				}
				row := scores[i*seq : i*seq+n]
				for j := range row {
					row[j] = dot(qi, k[(base+j)*stride+col:(base+j)*stride+col+hd]) * scale
				}
				out := dst[(base+i)*width+col : (base+i)*width+col+hd]
				clear(out)
				if n == 0 {
					// Every key masked: PyTorch's additive mask of the
					// float minimum gives a uniform average of all keys.
					row = scores[i*seq : i*seq+seq]
					for j := range row {
						row[j] = 0
					}
				}
				Softmax(row)
				for j, w := range row {
					vj := v[(base+j)*stride+col : (base+j)*stride+col+hd]
					for c := range out {
						out[c] += w * vj[c]
					}
				}
			}
		}
	})
}
