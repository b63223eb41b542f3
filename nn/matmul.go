package nn

import "fmt"

// Cache blocking of the pure-Go matrix product: a block of blockN rows of b
// and blockK columns of the shared dimension (64×256 float32 = 64 KiB) is
// reused by every row of a before moving on.
const (
	blockK = 256
	blockN = 64
)

// MatMulT computes dst[m×n] = a[m×k] · bᵀ, where b is [n×k] (the layout of
// a Hugging Face Linear weight). All matrices are row-major. The work is
// split over up to GOMAXPROCS goroutines. It panics if a slice is shorter
// than its shape says, like an out-of-range index would.
func MatMulT(dst, a, b []float32, m, n, k int) {
	checkMatMul(dst, a, b, m, n, k)
	clear(dst[:m*n])
	matMulTAdd(dst, a, b, m, n, k)
}

func checkMatMul(dst, a, b []float32, m, n, k int) {
	if m < 0 || n < 0 || k < 0 || len(dst) < m*n || len(a) < m*k || len(b) < n*k {
		panic(fmt.Sprintf("nn: MatMulT shapes m=%d n=%d k=%d do not fit len(dst)=%d len(a)=%d len(b)=%d",
			m, n, k, len(dst), len(a), len(b)))
	}
}

// matMulTAdd adds a·bᵀ to dst, in parallel over row pairs when there are
// enough rows and over column groups otherwise.
func matMulTAdd(dst, a, b []float32, m, n, k int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Each chunk should hold at least ~64k multiply-adds to amortise the
	// goroutine start.
	const minWork = 1 << 16
	rowPairs := (m + 1) / 2
	if rowPairs >= 8 || n < 16 {
		per := max(1, minWork/(2*n*k))
		parallelFor(rowPairs, per, func(lo, hi int) {
			matMulTBlock(dst, a, b, n, k, 2*lo, min(2*hi, m), 0, n)
		})
		return
	}
	groups := (n + 3) / 4
	per := max(1, minWork/(4*m*k))
	parallelFor(groups, per, func(lo, hi int) {
		matMulTBlock(dst, a, b, n, k, 0, m, 4*lo, min(4*hi, n))
	})
}

// matMulTBlock adds rows [i0,i1) × columns [j0,j1) of a·bᵀ to dst.
func matMulTBlock(dst, a, b []float32, n, k, i0, i1, j0, j1 int) {
	for kk := 0; kk < k; kk += blockK {
		ke := min(kk+blockK, k)
		for jj := j0; jj < j1; jj += blockN {
			je := min(jj+blockN, j1)
			i := i0
			for ; i+2 <= i1; i += 2 {
				a0 := a[i*k+kk : i*k+ke]
				a1 := a[(i+1)*k+kk : (i+1)*k+ke]
				d0 := dst[i*n : i*n+n]
				d1 := dst[(i+1)*n : (i+1)*n+n]
				j := jj
				for ; j+4 <= je; j += 4 {
					s00, s01, s02, s03, s10, s11, s12, s13 := dot2x4(a0, a1,
						b[j*k+kk:j*k+ke], b[(j+1)*k+kk:(j+1)*k+ke],
						b[(j+2)*k+kk:(j+2)*k+ke], b[(j+3)*k+kk:(j+3)*k+ke])
					d0[j] += s00
					d0[j+1] += s01
					d0[j+2] += s02
					d0[j+3] += s03
					d1[j] += s10
					d1[j+1] += s11
					d1[j+2] += s12
					d1[j+3] += s13
				}
				for ; j < je; j++ {
					bj := b[j*k+kk : j*k+ke]
					d0[j] += dot(a0, bj)
					d1[j] += dot(a1, bj)
				}
			}
			if i < i1 {
				a0 := a[i*k+kk : i*k+ke]
				d0 := dst[i*n : i*n+n]
				for j := jj; j < je; j++ {
					d0[j] += dot(a0, b[j*k+kk:j*k+ke])
				}
			}
		}
	}
}

// dot2x4 returns the eight dot products of a0, a1 with b0..b3. All slices
// must have the length of a0.
func dot2x4(a0, a1, b0, b1, b2, b3 []float32) (s00, s01, s02, s03, s10, s11, s12, s13 float32) {
	n := len(a0)
	a1, b0, b1, b2, b3 = a1[:n], b0[:n], b1[:n], b2[:n], b3[:n]
	for p, x0 := range a0 {
		x1 := a1[p]
		y := b0[p]
		s00 += x0 * y
		s10 += x1 * y
		y = b1[p]
		s01 += x0 * y
		s11 += x1 * y
		y = b2[p]
		s02 += x0 * y
		s12 += x1 * y
		y = b3[p]
		s03 += x0 * y
		s13 += x1 * y
	}
	return
}

// dot returns the dot product of a and b[:len(a)].
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	p := 0
	for ; p+4 <= len(a); p += 4 {
		s0 += a[p] * b[p]
		s1 += a[p+1] * b[p+1]
		s2 += a[p+2] * b[p+2]
		s3 += a[p+3] * b[p+3]
	}
	for ; p < len(a); p++ {
		s0 += a[p] * b[p]
	}
	return (s0 + s1) + (s2 + s3)
}
