//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

// selectImpl picks the fastest kernels the CPU and OS support.
func selectImpl() kernels { return candidates()[0] }

// candidates lists every kernel set this CPU can run, fastest first; the
// last is always the generic one. Tests check each against the generic code.
func candidates() []kernels {
	var out []kernels
	x := cpu.X86
	if x.HasAVX512F {
		k := genericKernels()
		k.name = "avx512"
		k.dot = dotAVX512
		k.dot4 = dot4AVX512
		k.scale = scaleAVX512
		if x.HasAVX512BW && x.HasAVX512VNNI {
			k.int8Name = "avx512vnni"
			k.dotU8I8 = dotU8I8VNNI
		} else if x.HasAVX2 {
			k.int8Name = "avx2"
			k.dotU8I8 = dotU8I8AVX2
		}
		out = append(out, k)
	}
	if x.HasAVX2 && x.HasFMA {
		k := genericKernels()
		k.name = "avx2"
		k.dot = dotAVX2
		k.dot4 = dot4AVX2
		k.scale = scaleAVX2
		k.int8Name = "avx2"
		k.dotU8I8 = dotU8I8AVX2
		out = append(out, k)
	}
	return append(out, genericKernels())
}

// The assembly kernels below require len(a) == len(b) > 0 (checked by the
// exported wrappers); dot4 requires len(base) >= 4*len(q) and len(dst) >= 4.

//go:noescape
func dotAVX512(a, b []float32) float32

//go:noescape
func dot4AVX512(dst, q, base []float32)

//go:noescape
func scaleAVX512(v []float32, s float32)

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func dot4AVX2(dst, q, base []float32)

//go:noescape
func scaleAVX2(v []float32, s float32)

//go:noescape
func dotU8I8VNNI(a []uint8, b []int8) int32

//go:noescape
func dotU8I8AVX2(a []uint8, b []int8) int32
