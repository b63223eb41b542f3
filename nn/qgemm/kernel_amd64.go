//go:build !purego

package qgemm

import "golang.org/x/sys/cpu"

// hasVNNI selects the assembly kernels (AVX-512 F, BW and VNNI).
var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

// Kernel names the micro-kernel in use: "avx512vnni" or "go".
func Kernel() string {
	if hasVNNI {
		return "avx512vnni"
	}
	return "go"
}

// epilogue is what the assembly kernels need besides the operands to turn
// int32 sums into results (field offsets are fixed in vnni_amd64.s).
type epilogue struct {
	sum   *int32   // 0: 32 column sums of W
	scale *float32 // 8: 32 column scales of W
	bias  *float32 // 16: up to 32 biases (read under the mask)
	xs    *float32 // 24: row scales
	xz    *int32   // 32: row zero points
	mask  uint64   // 40: one bit per written column
}

//go:noescape
func vnni1(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni2(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni3(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni4(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni5(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni6(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni7(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni8(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni9(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni10(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni11(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

//go:noescape
func vnni12(k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue)

// maxRows is the most rows one kernel call takes.
const maxRows = 12

// vnniRows calls the kernel for r rows (1 ≤ r ≤ maxRows). (A switch, not a
// table of funcs, so that e does not escape.)
func vnniRows(r, k4 int, a *uint8, lda int, b *int8, c *float32, ldc int, e *epilogue) {
	switch r {
	case 1:
		vnni1(k4, a, lda, b, c, ldc, e)
	case 2:
		vnni2(k4, a, lda, b, c, ldc, e)
	case 3:
		vnni3(k4, a, lda, b, c, ldc, e)
	case 4:
		vnni4(k4, a, lda, b, c, ldc, e)
	case 5:
		vnni5(k4, a, lda, b, c, ldc, e)
	case 6:
		vnni6(k4, a, lda, b, c, ldc, e)
	case 7:
		vnni7(k4, a, lda, b, c, ldc, e)
	case 8:
		vnni8(k4, a, lda, b, c, ldc, e)
	case 9:
		vnni9(k4, a, lda, b, c, ldc, e)
	case 10:
		vnni10(k4, a, lda, b, c, ldc, e)
	case 11:
		vnni11(k4, a, lda, b, c, ldc, e)
	default:
		vnni12(k4, a, lda, b, c, ldc, e)
	}
}

func mulBlock(p *Packed, dst []float32, x Rows, bias []float32, i0, i1, p0, p1 int) {
	if !hasVNNI || p.kp == 0 || i1 == i0 {
		goMulBlock(p, dst, x, bias, i0, i1, p0, p1)
		return
	}
	vnniBlock(p, dst, x, bias, i0, i1, p0, p1)
}

func vnniBlock(p *Packed, dst []float32, x Rows, bias []float32, i0, i1, p0, p1 int) {
	n, kp := p.n, p.kp
	var zeros [Panel]float32
	var e epilogue
	// Rows go in calls of equal size (each call reads the panel once).
	calls := (i1 - i0 + maxRows - 1) / maxRows
	for pj := p0; pj < p1; pj++ {
		c0 := pj * Panel
		nc := min(Panel, n-c0)
		e.sum, e.scale = &p.sum[c0], &p.scale[c0]
		e.bias = &zeros[0]
		if bias != nil {
			e.bias = &bias[c0]
		}
		e.mask = 1<<uint(nc) - 1
		b := &p.w[pj*Panel*kp]
		for c, i := 0, i0; i < i1; c++ {
			r := (i1 - i + calls - c - 1) / (calls - c)
			e.xs, e.xz = &x.Scale[i], &x.Zero[i]
			vnniRows(r, kp/4, &x.Q[i*kp], kp, b, &dst[i*n+c0], n, &e)
			i += r
		}
	}
}

//go:noescape
func minMaxAVX512(x *float32, n int) (lo, hi float32)

//go:noescape
func quantizeAVX512(q *uint8, x *float32, n int, inv float32, z int32)

func quantizeRow(q []uint8, x []float32, inv, z float32) {
	q = q[:len(x)]
	if n := len(x) &^ 15; hasVNNI && n > 0 {
		quantizeAVX512(&q[0], &x[0], n, inv, int32(z))
		q, x = q[n:], x[n:]
	}
	quantizeRowGo(q, x, inv, z)
}

func minMax(x []float32) (lo, hi float32) {
	n := len(x) &^ 15
	if !hasVNNI || n == 0 {
		return minMaxGo(x)
	}
	lo, hi = minMaxAVX512(&x[0], n)
	if n < len(x) {
		l, h := minMaxGo(x[n:])
		lo, hi = min(lo, l), max(hi, h)
	}
	return lo, hi
}
