//go:build purego || !amd64

package nn

func quickGELU(x []float32) { quickGELUGo(x) }

func gelu(x []float32) { geluGo(x) }

func softmaxScaled(x []float32, scale float32) { softmaxScaledGo(x, scale) }

func layerNormRows(dst, x, res, gain, bias []float32, r0, r1 int, eps float32) {
	layerNormRowsGo(dst, x, res, gain, bias, r0, r1, eps)
}
