//go:build purego || !amd64

package qgemm

// Kernel names the micro-kernel in use: "avx512vnni" or "go".
func Kernel() string { return "go" }

func mulBlock(p *Packed, dst []float32, x Rows, bias []float32, i0, i1, p0, p1 int) {
	goMulBlock(p, dst, x, bias, i0, i1, p0, p1)
}

func quantizeRow(q []uint8, x []float32, inv, z float32) { quantizeRowGo(q, x, inv, z) }

func minMax(x []float32) (lo, hi float32) { return minMaxGo(x) }
