package nn

import (
	"fmt"
	"math"

	"github.com/sightsearch/sight/nn/gemm"
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
	// Query, if not nil, holds one position per sequence: only that query
	// row is computed (all keys and values are still used), and dst holds
	// Batch rows instead of Batch·Seq.
	Query []int
}

// Attention computes softmax(q·kᵀ/√HeadDim + mask)·v for every sequence and
// head. q, k and v hold [Batch·Seq] rows of Heads·HeadDim values (rows
// Stride apart), already projected; head h uses columns
// [h·HeadDim, (h+1)·HeadDim). dst receives [Batch·Seq × Heads·HeadDim]
// rows (Batch rows with s.Query), heads concatenated; it must not overlap
// q, k or v, which are read while it is written. The (sequence,
// head) pairs run in parallel on p (which may be nil); each one is two
// gemm products. With a Pool it does not allocate.
func Attention(dst, q, k, v []float32, s AttentionShape, p *Pool) {
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
	outRows := rows
	if s.Query != nil {
		outRows = s.Batch
	}
	if s.Batch < 0 || s.Seq < 0 || s.Heads <= 0 || s.HeadDim <= 0 || stride < width ||
		len(q) < need || len(k) < need || len(v) < need || len(dst) < outRows*width ||
		(s.Lengths != nil && len(s.Lengths) < s.Batch) || (s.Query != nil && len(s.Query) < s.Batch) {
		panic(fmt.Sprintf("nn: Attention %+v does not fit len(dst)=%d len(q)=%d len(k)=%d len(v)=%d",
			s, len(dst), len(q), len(k), len(v)))
	}
	if s.Query != nil {
		for b := 0; b < s.Batch; b++ {
			if s.Query[b] < 0 || s.Query[b] >= s.Seq {
				panic(fmt.Sprintf("nn: Attention query row %d of sequence %d outside [0,%d)", s.Query[b], b, s.Seq))
			}
		}
	}
	t := attentionTask{dst: dst, q: q, k: k, v: v, s: s, stride: stride, p: p}
	minPairs := max(1, (1<<17)/max(1, s.Seq*s.Seq*s.HeadDim))
	if p == nil {
		t.Run(0, 0, s.Batch*s.Heads)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attn = t
	p.forLocked(s.Batch*s.Heads, minPairs, &p.attn)
	p.attn = attentionTask{}
}

// attentionTask computes (sequence, head) pairs of an Attention call.
type attentionTask struct {
	dst, q, k, v []float32
	s            AttentionShape
	stride       int
	p            *Pool
}

func (t *attentionTask) Run(worker, lo, hi int) {
	s := t.s
	seq, hd, stride, width := s.Seq, s.HeadDim, t.stride, s.Heads*s.HeadDim
	nq := seq
	if s.Query != nil {
		nq = 1
	}
	// Per worker: the scores. The products read the head's queries, keys
	// and values in place (column ranges of rows stride apart) and write
	// its output columns of dst directly.
	gp, scores := t.p.worker(worker, nq*seq)
	scale := float32(1 / math.Sqrt(float64(hd)))
	for pair := lo; pair < hi; pair++ {
		b, h := pair/s.Heads, pair%s.Heads
		base, col := b*seq, h*hd
		keys := seq
		if s.Lengths != nil {
			keys = min(max(s.Lengths[b], 0), seq)
		}
		first := 0 // position of query row 0
		if s.Query != nil {
			first = s.Query[b]
		}
		n := keys
		if n == 0 {
			// Every key masked: PyTorch's additive mask of the float
			// minimum gives a uniform average of all keys.
			n = seq
		}
		q := t.q[(base+first)*stride+col:]
		k := t.k[base*stride+col:]
		v := t.v[base*stride+col:]
		out := base + first // dst row of query row 0
		if s.Query != nil {
			out = b
		}
		sc := scores[:nq*n]
		gemm.MulTStrided(sc, n, q, stride, k, stride, nq, n, hd, gp)
		for i := 0; i < nq; i++ {
			row := sc[i*n : i*n+n]
			if keys == 0 {
				for j := range row {
					row[j] = 1 / float32(n)
				}
				continue
			}
			valid := n
			if s.Causal {
				valid = min(valid, first+i+1)
			}
			softmaxScaled(row[:valid], scale) // the 1/√d scale folded in
			clear(row[valid:])
		}
		gemm.MulStrided(t.dst[out*width+col:], width, sc, n, v, stride, nq, hd, n, gp)
	}
}
