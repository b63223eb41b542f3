package nn

import (
	"fmt"
	"math"
)

// LayerNorm normalises each of the rows of x [rows×dim] to zero mean and
// unit variance (biased variance, like PyTorch) and writes
// (x-mean)/sqrt(var+eps)·gain + bias to dst. Mean and variance are
// accumulated in float64. dst may be x.
func LayerNorm(dst, x, gain, bias []float32, rows, dim int, eps float32) {
	if len(dst) < rows*dim || len(x) < rows*dim || len(gain) < dim || len(bias) < dim {
		panic(fmt.Sprintf("nn: LayerNorm rows=%d dim=%d do not fit len(dst)=%d len(x)=%d len(gain)=%d len(bias)=%d",
			rows, dim, len(dst), len(x), len(gain), len(bias)))
	}
	gain, bias = gain[:dim], bias[:dim]
	for r := 0; r < rows; r++ {
		xr := x[r*dim : (r+1)*dim]
		dr := dst[r*dim : (r+1)*dim]
		var sum float64
		for _, v := range xr {
			sum += float64(v)
		}
		mean := sum / float64(dim)
		var ss float64
		for _, v := range xr {
			d := float64(v) - mean
			ss += d * d
		}
		inv := 1 / math.Sqrt(ss/float64(dim)+float64(eps))
		m32, inv32 := float32(mean), float32(inv)
		for i, v := range xr {
			dr[i] = (v-m32)*inv32*gain[i] + bias[i]
		}
	}
}

// Norm is a LayerNorm layer: a gain and a bias of the normalised size.
type Norm struct {
	Gain, Bias []float32
	Eps        float32
}

// Forward applies the layer to rows of x [rows×len(Gain)], writing dst.
// dst may be x.
func (n *Norm) Forward(dst, x []float32, rows int) {
	LayerNorm(dst, x, n.Gain, n.Bias, rows, len(n.Gain), n.Eps)
}

// Softmax replaces x by exp(x-max)/Σexp(x-max), computed with a float64 sum.
// Entries equal to -Inf get probability 0.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - mx))
		x[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// Add sets dst[i] += x[i] for every i of dst (a residual connection).
func Add(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += v
	}
}

// QuickGELU replaces every x by x·sigmoid(1.702·x) (CLIP's "quick_gelu").
func QuickGELU(x []float32) {
	for i, v := range x {
		x[i] = float32(float64(v) / (1 + math.Exp(-1.702*float64(v))))
	}
}

// GELU replaces every x by the exact x·Φ(x) = x/2·(1+erf(x/√2)) (Hugging
// Face's "gelu").
func GELU(x []float32) {
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
}

// GELUTanh replaces every x by the tanh approximation
// x/2·(1+tanh(√(2/π)·(x+0.044715·x³))) (Hugging Face's "gelu_new" and
// "gelu_pytorch_tanh").
func GELUTanh(x []float32) {
	c := math.Sqrt(2 / math.Pi)
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Tanh(c*(f+0.044715*f*f*f))))
	}
}

// ReLU replaces every x by max(x, 0).
func ReLU(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// Activation returns the in-place activation function that Hugging Face
// configs call name ("quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh",
// "relu"), and false for any other name.
func Activation(name string) (func([]float32), bool) {
	switch name {
	case "quick_gelu":
		return QuickGELU, true
	case "gelu":
		return GELU, true
	case "gelu_new", "gelu_pytorch_tanh":
		return GELUTanh, true
	case "relu":
		return ReLU, true
	}
	return nil, false
}
