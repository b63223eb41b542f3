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
		k.dotGather = dotGatherAVX512
		if x.HasAVX512BW && x.HasAVX512VNNI {
			k.int8Name = "avx512vnni"
			k.dotU8I8 = dotU8I8VNNI
			k.dotU8I8Gather = dotU8I8GatherVNNI
		} else if x.HasAVX2 {
			k.int8Name = "avx2"
			k.dotU8I8 = dotU8I8AVX2
			k.dotU8I8Gather = gatherU8I8With(dotU8I8AVX2)
		}
		out = append(out, k)
	}
	if x.HasAVX2 && x.HasFMA {
		k := genericKernels()
		k.name = "avx2"
		k.dot = dotAVX2
		k.dot4 = dot4AVX2
		k.scale = scaleAVX2
		k.dotGather = gatherWith(dotAVX2)
		k.int8Name = "avx2"
		k.dotU8I8 = dotU8I8AVX2
		k.dotU8I8Gather = gatherU8I8With(dotU8I8AVX2)
		out = append(out, k)
	}
	return append(out, genericKernels())
}

// gatherWith builds a gather from a single-row float kernel.
func gatherWith(dot func(a, b []float32) float32) func(dst, q, base []float32, ids []uint32) {
	return func(dst, q, base []float32, ids []uint32) {
		dim := len(q)
		for j, id := range ids {
			o := int(id) * dim
			dst[j] = dot(q, base[o:o+dim])
		}
	}
}

// gatherU8I8With builds a gather from a single-row integer kernel.
func gatherU8I8With(dot func(a []uint8, b []int8) int32) func(dst []int32, q []int8, base []uint8, ids []uint32) {
	return func(dst []int32, q []int8, base []uint8, ids []uint32) {
		dim := len(q)
		for j, id := range ids {
			o := int(id) * dim
			dst[j] = dot(base[o:o+dim], q)
		}
	}
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

// dotGatherAVX512 requires len(q) > 0, len(dst) >= len(ids) > 0 and every
// row inside base (checked by DotGather).
//
//go:noescape
func dotGatherAVX512(dst, q, base []float32, ids []uint32)

// dotU8I8GatherVNNI has dotGatherAVX512's requirements.
//
//go:noescape
func dotU8I8GatherVNNI(dst []int32, q []int8, base []uint8, ids []uint32)

// prefetch issues PREFETCHT0 for every 64-byte line of the n bytes at p
// (n > 0).
//
//go:noescape
func prefetch(p *uint32, n int)
