package nn

import (
	"fmt"

	"github.com/sightsearch/sight/nn/gemm"
	"github.com/sightsearch/sight/nn/qgemm"
)

// Precision selects the arithmetic of a Linear layer's matrix product.
// Everything else (attention, normalisation, activations, accumulation)
// stays float32.
type Precision uint8

const (
	// FP32 multiplies in float32: the reference precision.
	FP32 Precision = iota
	// BF16 rounds weights and inputs to bfloat16 and sums products in
	// float32 (gemm.PackedBF16).
	BF16
	// Int8 quantises weights per output channel (symmetric int8) and each
	// input row dynamically (asymmetric uint8), sums in int32 and rescales
	// to float32 (package qgemm).
	Int8
)

// String returns "fp32", "bf16" or "int8".
func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case BF16:
		return "bf16"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// Accelerated reports whether this CPU runs p's products in assembly
// (AVX2 or AVX-512 for FP32, AVX512_BF16 for BF16, AVX512_VNNI for Int8).
// Without, they run on portable Go kernels, and a reduced precision is
// slower than FP32 rather than faster.
func (p Precision) Accelerated() bool {
	switch p {
	case FP32:
		return gemm.Kernel() != "go"
	case BF16:
		return gemm.KernelBF16() != "go"
	case Int8:
		return qgemm.Kernel() != "go"
	}
	return false
}

// ParsePrecision parses the names String returns.
func ParsePrecision(s string) (Precision, error) {
	for _, p := range []Precision{FP32, BF16, Int8} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown precision %q (want fp32, bf16 or int8)", s)
}

// Linear is a fully connected layer y = x·Wᵀ + B with Hugging Face's weight
// layout: W is [Out×In] row-major, B is [Out] or nil.
//
// Once packed, a layer can drop W (ReleaseW): its float32 packing holds
// the same values, and SetPrecision derives the other precisions from it.
type Linear struct {
	W       []float32 // [Out×In], or nil after ReleaseW
	B       []float32 // [Out], or nil for no bias
	In, Out int

	prec Precision
	// f32 is the float32 packing: what FP32 multiplies with and, once W
	// is released, the master copy the other precisions are made from
	// (so it is kept in every precision then).
	f32  *gemm.Packed
	bf16 *gemm.PackedBF16
	int8 *qPacked
}

// Prepack packs W for the float32 kernel and makes Forward use it. It
// must be called again after W changes; Forward works without it, only
// slower. After ReleaseW it only switches back to float32.
func (l *Linear) Prepack() {
	l.check()
	l.prec = FP32
	if l.W != nil {
		l.f32 = gemm.Pack(l.W, l.Out, l.In)
	}
	l.bf16, l.int8 = nil, nil
}

// ReleaseW packs W for float32 (unless it is packed already) and drops the
// layer's reference to it, halving the memory a float32 layer holds: from
// then on the packing is the layer's only float32 copy of the weights.
// The layer keeps its precision and still changes precision exactly as
// before; W must not be set again.
func (l *Linear) ReleaseW() {
	if l.W == nil {
		return
	}
	l.check()
	if l.f32 == nil {
		l.f32 = gemm.Pack(l.W, l.Out, l.In)
	}
	l.W = nil
}

// weights returns W, or, once released, an unpacked copy.
func (l *Linear) weights() []float32 {
	if l.W != nil {
		return l.W
	}
	w := make([]float32, l.Out*l.In)
	l.f32.Unpack(w)
	return w
}

// SetPrecision packs the weights for the kernel of precision p (dropping
// other packings, except the float32 one once W is released) and makes
// Forward use it. The float32 weights are kept, so the precision can be
// changed again.
func (l *Linear) SetPrecision(p Precision) error {
	l.check()
	switch p {
	case FP32:
		l.Prepack()
		return nil
	case BF16, Int8:
	default:
		return fmt.Errorf("nn: %v is not a precision", p)
	}
	w := l.weights()
	var bf *gemm.PackedBF16
	var q *qPacked
	if p == BF16 {
		bf = gemm.PackBF16(w, l.Out, l.In)
	} else {
		var err error
		if q, err = quantize(w, l.Out, l.In); err != nil {
			return fmt.Errorf("nn: Linear %d→%d to int8: %w", l.In, l.Out, err)
		}
	}
	l.prec, l.bf16, l.int8 = p, bf, q
	if l.W != nil {
		l.f32 = nil
	}
	return nil
}

// Precision returns the precision Forward multiplies in.
func (l *Linear) Precision() Precision { return l.prec }

func (l *Linear) check() {
	w := len(l.W)
	if l.W == nil && l.f32 != nil {
		w = l.Out * l.In // released: the packing holds W
	}
	if l.In < 0 || l.Out < 0 || w < l.Out*l.In || (l.B != nil && len(l.B) < l.Out) {
		panic(fmt.Sprintf("nn: Linear %d→%d has len(W)=%d len(B)=%d", l.In, l.Out, len(l.W), len(l.B)))
	}
}

// Forward computes dst[rows×Out] = x[rows×In]·Wᵀ + B on p's workers (p may
// be nil): float32 and bf16 products on p's gemm.Pool, int8 ones on p
// itself. With a Pool and a packed layer it does not allocate.
func (l *Linear) Forward(dst, x []float32, rows int, p *Pool) {
	if rows < 0 || len(dst) < rows*l.Out || len(x) < rows*l.In {
		panic(fmt.Sprintf("nn: Linear %d→%d on %d rows with len(dst)=%d len(x)=%d", l.In, l.Out, rows, len(dst), len(x)))
	}
	switch {
	case l.prec == BF16 && l.bf16 != nil:
		l.bf16.Mul(dst, x, rows, l.B, p.GEMM())
	case l.prec == Int8 && l.int8 != nil:
		l.int8.mul(dst, x, rows, l.B, p)
	case l.f32 != nil:
		l.f32.Mul(dst, x, rows, l.B, p.GEMM())
	default:
		l.check()
		gemm.Pack(l.W, l.Out, l.In).Mul(dst, x, rows, l.B, p.GEMM())
	}
}
