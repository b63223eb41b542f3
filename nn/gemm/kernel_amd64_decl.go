// Declarations of the assembly in kernel_*_amd64.s (see internal/asmgen).

//go:build !purego

package gemm

//go:noescape
func avx512x1(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x2(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x3(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x4(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x5(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x6(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x7(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x8(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x9(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x10(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x11(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x12(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x13(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512x14(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x1(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x2(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x3(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x4(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x5(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x6(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x7(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x8(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x9(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x10(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x11(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x12(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x13(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

//go:noescape
func avx512bf16x14(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

// cvtBF16 converts n floats (n a multiple of 16) to bf16, rounding to
// nearest even.
//
//go:noescape
func cvtBF16(dst *uint16, src *float32, n int)

//go:noescape
func avx2x1(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

//go:noescape
func avx2x2(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

//go:noescape
func avx2x3(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

//go:noescape
func avx2x4(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

//go:noescape
func avx2x5(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

//go:noescape
func avx2x6(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)
