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
	checkNorm(dst, x, gain, bias, rows, dim)
	layerNormRows(dst, x, nil, gain[:dim], bias[:dim], 0, rows, eps)
}

func checkNorm(dst, x, gain, bias []float32, rows, dim int) {
	if rows < 0 || len(dst) < rows*dim || len(x) < rows*dim || len(gain) < dim || len(bias) < dim {
		panic(fmt.Sprintf("nn: LayerNorm rows=%d dim=%d do not fit len(dst)=%d len(x)=%d len(gain)=%d len(bias)=%d",
			rows, dim, len(dst), len(x), len(gain), len(bias)))
	}
}

// layerNormRowsGo is the portable layerNormRows: it normalises rows
// [r0, r1), after adding the rows of res to those of x if res is not nil;
// dim is len(gain).
func layerNormRowsGo(dst, x, res, gain, bias []float32, r0, r1 int, eps float32) {
	dim := len(gain)
	bias = bias[:dim]
	for r := r0; r < r1; r++ {
		xr := x[r*dim : (r+1)*dim]
		if res != nil {
			for i, v := range res[r*dim : (r+1)*dim] {
				xr[i] += v
			}
		}
		dr := dst[r*dim : (r+1)*dim]
		// Four independent float64 sums keep the adds pipelined.
		var s0, s1, s2, s3 float64
		i := 0
		for ; i+4 <= dim; i += 4 {
			s0 += float64(xr[i])
			s1 += float64(xr[i+1])
			s2 += float64(xr[i+2])
			s3 += float64(xr[i+3])
		}
		for ; i < dim; i++ {
			s0 += float64(xr[i])
		}
		mean := ((s0 + s1) + (s2 + s3)) / float64(dim)
		s0, s1, s2, s3 = 0, 0, 0, 0
		i = 0
		for ; i+4 <= dim; i += 4 {
			d0 := float64(xr[i]) - mean
			d1 := float64(xr[i+1]) - mean
			d2 := float64(xr[i+2]) - mean
			d3 := float64(xr[i+3]) - mean
			s0 += d0 * d0
			s1 += d1 * d1
			s2 += d2 * d2
			s3 += d3 * d3
		}
		for ; i < dim; i++ {
			d := float64(xr[i]) - mean
			s0 += d * d
		}
		inv := 1 / math.Sqrt(((s0+s1)+(s2+s3))/float64(dim)+float64(eps))
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

// Forward applies the layer to rows of x [rows×len(Gain)], writing dst,
// with the rows spread over p's workers (p may be nil). dst may be x.
func (n *Norm) Forward(dst, x []float32, rows int, p *Pool) {
	n.forward(dst, x, nil, rows, p)
}

// AddForward first adds the residual res to x (x += res, rows of
// len(Gain)) and then applies the layer to x, writing dst, in one pass.
// dst may be res.
func (n *Norm) AddForward(dst, x, res []float32, rows int, p *Pool) {
	if len(res) < rows*len(n.Gain) {
		panic(fmt.Sprintf("nn: Norm.AddForward rows=%d dim=%d with len(res)=%d", rows, len(n.Gain), len(res)))
	}
	n.forward(dst, x, res, rows, p)
}

func (n *Norm) forward(dst, x, res []float32, rows int, p *Pool) {
	dim := len(n.Gain)
	checkNorm(dst, x, n.Gain, n.Bias, rows, dim)
	if p == nil || rows*dim < 1<<14 {
		layerNormRows(dst, x, res, n.Gain, n.Bias, 0, rows, n.Eps)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.norm = normTask{dst: dst, x: x, res: res, n: n}
	p.forLocked(rows, max(1, (1<<13)/max(dim, 1)), &p.norm)
	p.norm = normTask{}
}

// normTask normalises chunks of rows for Norm.Forward and AddForward.
type normTask struct {
	dst, x, res []float32
	n           *Norm
}

func (t *normTask) Run(_, lo, hi int) {
	layerNormRows(t.dst, t.x, t.res, t.n.Gain, t.n.Bias, lo, hi, t.n.Eps)
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

// QuickGELU replaces every x by x·sigmoid(1.702·x) (CLIP's "quick_gelu"),
// in float32 with a polynomial exponential (within a few float32 ulps).
func QuickGELU(x []float32) { quickGELU(x) }

// GELU replaces every x by the exact x·Φ(x) = x/2·(1+erf(x/√2)) (Hugging
// Face's "gelu"), in float32 through a rational erfc approximation with a
// relative error below 1.2e-7 (within a few float32 ulps overall).
func GELU(x []float32) { gelu(x) }

// geluGo is the portable GELU: x·Φ(x) with Φ(x) = 1 − erfc(x/√2)/2 for
// x ≥ 0 and erfc(|x|/√2)/2 below, erfc from Numerical Recipes' erfcc.
func geluGo(x []float32) {
	for i, v := range x {
		z := abs32(v) * 0.70710678118654752
		t := 1 / (1 + 0.5*z)
		p := ((((((((0.17087277*t-0.82215223)*t+1.48851587)*t-1.13520398)*t+0.27886807)*t-0.18628806)*t+
			0.09678418)*t+0.37409196)*t + 1.00002368)
		g := 0.5 * t * expf(p*t-z*z-1.26551223)
		if v >= 0 {
			g = 1 - g
		}
		x[i] = v * g
	}
}

// abs32 returns |v|.
func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

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

// softmax is Softmax in float32 with the polynomial exponential, for
// attention rows: within a few float32 ulps of the exact result.
func softmax(x []float32) { softmaxScaled(x, 1) }

// softmaxScaledGo is the portable softmaxScaled: x becomes
// e^((x−max)·scale) / Σ e^((x−max)·scale), i.e. softmax(scale·x) for
// scale > 0.
func softmaxScaledGo(x []float32, scale float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float32
	for i, v := range x {
		e := expf((v - mx) * scale)
		x[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// expf returns e^x in float32 with a relative error of about one ulp
// (Cephes' expf: range reduction by ln 2, degree-5 polynomial). It
// returns 0 below -87.3 and saturates at e^88.3.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if x < -87.3 {
		return 0
	}
	x = min(x, 88.3)
	t := x * log2e
	if t < 0 {
		t -= 0.5
	} else {
		t += 0.5
	}
	n := int32(t)
	fn := float32(n)
	r := x - fn*c1 - fn*c2
	z := r * r
	y := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y = y*z + r + 1
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// quickGELUGo is the portable QuickGELU.
func quickGELUGo(x []float32) {
	for i, v := range x {
		x[i] = v / (1 + expf(-1.702*v))
	}
}
