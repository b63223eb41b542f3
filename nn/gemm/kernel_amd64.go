//go:build !purego

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// active is the kernel chosen from the CPU features at start-up. It is
// never modified afterwards.
var active = func() *kernelSet {
	switch {
	case cpu.X86.HasAVX512F:
		return &avx512Kernels
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return &avx2Kernels
	}
	return &goKernels
}()

// activeBF16 is the bf16 kernel chosen at start-up, never modified.
var activeBF16 = func() *kernelSet {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 {
		return &avx512BF16Kernels
	}
	return &goBF16Kernels
}()

var avx512BF16Kernels = kernelSet{name: "avx512bf16", mr: 14, micro: avx512BF16Micro, bf16: true, cvt: avx512CvtBF16}

// bf16KernelSets lists every bf16 implementation usable here, for tests.
func bf16KernelSets() []*kernelSet {
	s := []*kernelSet{&goBF16Kernels}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 {
		s = append(s, &avx512BF16Kernels)
	}
	return s
}

var avx512Kernels = kernelSet{name: "avx512", mr: 14, micro: avx512Micro}

var avx2Kernels = kernelSet{name: "avx2", mr: 6, micro: avx2Micro}

// kernelSets lists every implementation usable on this CPU, for tests.
func kernelSets() []*kernelSet {
	s := []*kernelSet{&goKernels}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		s = append(s, &avx2Kernels)
	}
	if cpu.X86.HasAVX512F {
		s = append(s, &avx512Kernels)
	}
	return s
}

type asm512 func(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, mask uint32, acc int)

var avx512Table = [15]asm512{nil, avx512x1, avx512x2, avx512x3, avx512x4, avx512x5, avx512x6, avx512x7,
	avx512x8, avx512x9, avx512x10, avx512x11, avx512x12, avx512x13, avx512x14}

func avx512Micro(r, kc int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, ncols int, acc bool) {
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	avx512Table[r](kc, unsafe.SliceData(a), lda, unsafe.SliceData(b), &c[0], ldc, bp, colMask(ncols), b2i(acc))
}

type asm2 func(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, acc int)

var avx2Table = [7]asm2{nil, avx2x1, avx2x2, avx2x3, avx2x4, avx2x5, avx2x6}

// avx2Micro runs the 6×16 kernel on each half of the 32-column panel;
// partial halves go through a 6×16 tile on the stack.
func avx2Micro(r, kc int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, ncols int, acc bool) {
	k := avx2Table[r]
	for h := 0; h < 2; h++ {
		w := min(16, ncols-16*h)
		if w <= 0 {
			return
		}
		bh := unsafe.Pointer(uintptr(unsafe.Pointer(unsafe.SliceData(b))) + uintptr(64*h))
		var bp *float32
		if w == 16 {
			if bias != nil {
				bp = &bias[16*h]
			}
			k(kc, unsafe.SliceData(a), lda, (*float32)(bh), &c[16*h], ldc, bp, b2i(acc))
			continue
		}
		var tile [6 * 16]float32
		var tb [16]float32
		if bias != nil {
			copy(tb[:w], bias[16*h:16*h+w])
			bp = &tb[0]
		}
		if acc {
			for i := 0; i < r; i++ {
				copy(tile[i*16:i*16+w], c[i*ldc+16*h:i*ldc+16*h+w])
			}
		}
		k(kc, unsafe.SliceData(a), lda, (*float32)(bh), &tile[0], 16, bp, b2i(acc))
		for i := 0; i < r; i++ {
			copy(c[i*ldc+16*h:i*ldc+16*h+w], tile[i*16:i*16+w])
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type asmBF16 func(kc int, a *uint32, lda int, b *uint32, c *float32, ldc int, bias *float32, mask uint32, acc int)

var avx512BF16Table = [15]asmBF16{nil, avx512bf16x1, avx512bf16x2, avx512bf16x3, avx512bf16x4, avx512bf16x5,
	avx512bf16x6, avx512bf16x7, avx512bf16x8, avx512bf16x9, avx512bf16x10, avx512bf16x11, avx512bf16x12,
	avx512bf16x13, avx512bf16x14}

func avx512BF16Micro(r, kc int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, ncols int, acc bool) {
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	avx512BF16Table[r](kc, (*uint32)(unsafe.Pointer(unsafe.SliceData(a))), lda,
		(*uint32)(unsafe.Pointer(unsafe.SliceData(b))), &c[0], ldc, bp, colMask(ncols), b2i(acc))
}

// avx512CvtBF16 converts whole 16-float chunks in assembly, the rest in Go.
func avx512CvtBF16(dst, src []float32) {
	n := min(len(src), 2*len(dst)) / 16 * 16
	if n > 0 {
		cvtBF16((*uint16)(unsafe.Pointer(&dst[0])), &src[0], n)
	}
	goCvtBF16(dst[n/2:], src[n:])
}

// colMask has one bit per written column.
func colMask(ncols int) uint32 {
	if ncols >= 32 {
		return ^uint32(0)
	}
	return uint32(1)<<uint(ncols) - 1
}
