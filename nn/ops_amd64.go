//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// hasAVX512 selects the AVX-512 element-wise kernels.
var hasAVX512 = cpu.X86.HasAVX512F

//go:noescape
func quickGELUAVX512(x *float32, n int)

//go:noescape
func softmaxAVX512(x *float32, n int, scale float32)

// softmaxScaled replaces x by softmax(scale·x).
func softmaxScaled(x []float32, scale float32) {
	if hasAVX512 && len(x) > 0 {
		softmaxAVX512(&x[0], len(x), scale)
		return
	}
	softmaxScaledGo(x, scale)
}

//go:noescape
func geluAVX512(x *float32, n int)

func gelu(x []float32) {
	if n := len(x) &^ 15; hasAVX512 && n > 0 {
		geluAVX512(&x[0], n)
		x = x[n:]
	}
	geluGo(x)
}

func quickGELU(x []float32) {
	if n := len(x) &^ 31; hasAVX512 && n > 0 {
		quickGELUAVX512(&x[0], n)
		x = x[n:]
	}
	quickGELUGo(x)
}

//go:noescape
func layerNormAVX512(dst, x, res, gain, bias *float32, dim int, eps float32)

// layerNormRows normalises rows [r0, r1), after adding the rows of res to
// those of x if res is not nil; dim is len(gain).
func layerNormRows(dst, x, res, gain, bias []float32, r0, r1 int, eps float32) {
	dim := len(gain)
	if !hasAVX512 || dim == 0 || dim%16 != 0 {
		layerNormRowsGo(dst, x, res, gain, bias, r0, r1, eps)
		return
	}
	bias = bias[:dim]
	for r := r0; r < r1; r++ {
		var rp *float32
		if res != nil {
			rp = &res[r*dim : (r+1)*dim][0]
		}
		layerNormAVX512(&dst[r*dim : (r+1)*dim][0], &x[r*dim : (r+1)*dim][0], rp, &gain[0], &bias[0], dim, eps)
	}
}
