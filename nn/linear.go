package nn

import (
	"fmt"

	"github.com/sightsearch/sight/nn/gemm"
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
type Linear struct {
	W       []float32 // [Out×In]
	B       []float32 // [Out], or nil for no bias
	In, Out int

	prec Precision
	f32  *gemm.Packed
	bf16 *gemm.PackedBF16
	int8 *qPacked
}

// Prepack packs W for the float32 kernel. It must be called again after W
// changes; Forward works without it, only slower.
func (l *Linear) Prepack() {
	l.check()
	l.prec = FP32
	l.f32, l.bf16, l.int8 = gemm.Pack(l.W, l.Out, l.In), nil, nil
}

// SetPrecision packs W for the kernel of precision p (dropping other
// packings) and makes Forward use it. W itself is kept, so the precision
// can be changed again.
func (l *Linear) SetPrecision(p Precision) error {
	l.check()
	switch p {
	case FP32:
		l.Prepack()
	case BF16:
		l.prec = BF16
		l.f32, l.bf16, l.int8 = nil, gemm.PackBF16(l.W, l.Out, l.In), nil
	case Int8:
		q, err := quantize(l.W, l.Out, l.In)
		if err != nil {
			return fmt.Errorf("nn: Linear %d→%d to int8: %w", l.In, l.Out, err)
		}
		l.prec = Int8
		l.f32, l.bf16, l.int8 = nil, nil, q
	default:
		return fmt.Errorf("nn: %v is not a precision", p)
	}
	return nil
}

// Precision returns the precision Forward multiplies in.
func (l *Linear) Precision() Precision { return l.prec }

func (l *Linear) check() {
	if l.In < 0 || l.Out < 0 || len(l.W) < l.Out*l.In || (l.B != nil && len(l.B) < l.Out) {
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
	case l.f32 != nil:
		l.f32.Mul(dst, x, rows, l.B, p.GEMM())
	case l.bf16 != nil:
		l.bf16.Mul(dst, x, rows, l.B, p.GEMM())
	case l.int8 != nil:
		l.int8.mul(dst, x, rows, l.B, p)
	default:
		l.check()
		gemm.Pack(l.W, l.Out, l.In).Mul(dst, x, rows, l.B, p.GEMM())
	}
}
