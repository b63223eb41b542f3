// Package vec provides the float32 and int8 vector kernels behind Sight's
// vector indexes: dot products (single, batched over contiguous rows, and
// gathered over listed rows with prefetching of the next row), in-place L2
// normalisation, and an exact uint8×int8 dot product for scalar-quantised
// vectors.
//
// On amd64 the kernels are Go assembly in AVX-512 (AVX512F, and AVX512VNNI
// VPDPBUSD for the int8 kernel) and AVX2+FMA variants, chosen once at
// package initialisation from golang.org/x/sys/cpu. Other architectures, and
// builds with the purego tag, use the portable Go implementation, which the
// tests also use as the reference for the assembly.
package vec

import (
	"fmt"
	"math"
)

// kernels is the set of implementations picked for this CPU. It is built
// once by selectImpl and never modified afterwards.
type kernels struct {
	name     string // reported by Has
	int8Name string // reported by HasInt8
	dot      func(a, b []float32) float32
	dot4     func(dst, q, base []float32) // 4 rows of len(q) each, contiguous in base
	scale    func(v []float32, s float32)
	dotU8I8  func(a []uint8, b []int8) int32
	// gather kernels: ids are checked against base by the wrappers
	dotGather     func(dst, q, base []float32, ids []uint32)
	dotU8I8Gather func(dst []int32, q []int8, base []uint8, ids []uint32)
}

// impl is set at package initialisation and read-only afterwards.
var impl = selectImpl()

// genericKernels returns the portable Go implementation.
func genericKernels() kernels {
	return kernels{
		name:     "generic",
		int8Name: "generic",
		dot:      dotGeneric,
		dot4:     dot4Generic,
		scale:    scaleGeneric,
		dotU8I8:  dotU8I8Generic,

		dotGather:     dotGatherGeneric,
		dotU8I8Gather: dotU8I8GatherGeneric,
	}
}

// Has reports which float32 kernel family was selected for this CPU:
// "avx512", "avx2" or "generic".
func Has() string { return impl.name }

// HasInt8 reports which DotU8I8 kernel was selected: "avx512vnni", "avx2" or
// "generic".
func HasInt8() string { return impl.int8Name }

// Dot returns the inner product of a and b. It panics if the lengths differ.
// Any length is accepted, including 0 (result 0).
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("vec.Dot: length mismatch %d != %d", len(a), len(b)))
	}
	if len(a) == 0 {
		return 0
	}
	return impl.dot(a, b)
}

// DotBatch computes dst[i] = Dot(q, base[i*dim:(i+1)*dim]) for every row i of
// base, a contiguous row-major matrix with len(base)/dim rows. It panics if
// dim <= 0, len(q) != dim, len(base) is not a multiple of dim, or dst is
// shorter than the number of rows. Only the first rows elements of dst are
// written.
func DotBatch(dst []float32, q []float32, base []float32, dim int) {
	if dim <= 0 || len(q) != dim || len(base)%dim != 0 {
		panic(fmt.Sprintf("vec.DotBatch: bad shape: dim %d, len(q) %d, len(base) %d", dim, len(q), len(base)))
	}
	rows := len(base) / dim
	if len(dst) < rows {
		panic(fmt.Sprintf("vec.DotBatch: dst has %d elements, need %d", len(dst), rows))
	}
	i := 0
	for ; i+4 <= rows; i += 4 {
		impl.dot4(dst[i:i+4], q, base[i*dim:(i+4)*dim])
	}
	for ; i < rows; i++ {
		dst[i] = impl.dot(q, base[i*dim:(i+1)*dim])
	}
}

// DotGather computes dst[j] = Dot(q, row ids[j] of base) for every j, where
// base is a contiguous row-major matrix of rows len(q) long. It is the
// kernel of a graph search: the rows of a node's neighbours are scattered
// through base, and the assembly versions prefetch the next row while
// computing the current one. It panics if len(q) == 0, dst is shorter than
// ids or a row lies outside base.
func DotGather(dst, q, base []float32, ids []uint32) {
	dim := len(q)
	if dim == 0 || len(dst) < len(ids) {
		panic(fmt.Sprintf("vec.DotGather: bad shape: dim %d, len(dst) %d, %d ids", dim, len(dst), len(ids)))
	}
	if len(ids) == 0 {
		return
	}
	checkRows("vec.DotGather", ids, len(base), dim)
	impl.dotGather(dst, q, base, ids)
}

// DotU8I8Gather computes dst[j] = DotU8I8(row ids[j] of base, q) for every
// j, where base holds contiguous rows of len(q) codes (see DotGather). It
// panics if len(q) == 0, dst is shorter than ids or a row lies outside base.
func DotU8I8Gather(dst []int32, q []int8, base []uint8, ids []uint32) {
	dim := len(q)
	if dim == 0 || len(dst) < len(ids) {
		panic(fmt.Sprintf("vec.DotU8I8Gather: bad shape: dim %d, len(dst) %d, %d ids", dim, len(dst), len(ids)))
	}
	if len(ids) == 0 {
		return
	}
	checkRows("vec.DotU8I8Gather", ids, len(base), dim)
	impl.dotU8I8Gather(dst, q, base, ids)
}

// checkRows panics unless every row ids[j] of dim elements lies within n
// elements.
func checkRows(fn string, ids []uint32, n, dim int) {
	rows := uint32(min(uint64(n/dim), uint64(^uint32(0))))
	var hi uint32
	for _, id := range ids {
		hi = max(hi, id)
	}
	if hi >= rows {
		panic(fmt.Sprintf("%s: row %d outside the %d rows of base", fn, hi, n/dim))
	}
}

// PrefetchUint32 hints the CPU to start loading s (its first 1 KiB at
// most) into the cache; it has no other effect. A graph search calls it on
// the neighbour list it will read next.
func PrefetchUint32(s []uint32) {
	if len(s) > 0 {
		prefetch(&s[0], min(len(s)*4, 1024))
	}
}

// Normalize scales v in place to unit L2 norm and returns its norm before
// scaling. A zero vector, or one whose norm is not finite, is left unchanged
// (the returned norm tells the caller which case occurred).
func Normalize(v []float32) (norm float32) {
	if len(v) == 0 {
		return 0
	}
	// Sum of squares in float32 SIMD; this overflows to +Inf only for
	// components beyond ~1e19, which is reported as an infinite norm.
	n := math.Sqrt(float64(impl.dot(v, v)))
	if n == 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return float32(n)
	}
	impl.scale(v, float32(1/n))
	return float32(n)
}

// DotU8I8 returns the exact integer inner product of a (unsigned bytes, the
// stored scalar-quantised codes) and b (signed bytes, the quantised query).
// It panics if the lengths differ.
//
// Representation: codes are uint8 in [0, 255] and queries int8 in
// [-128, 127], which is exactly the operand pair of AVX-512 VNNI VPDPBUSD, so
// that path needs no correction terms. Signed codes c can be used by storing
// c+128 and subtracting 128*Σb from the result. The AVX2 path widens both
// operands to 16 bits and uses VPMADDWD (VPMADDUBSW would saturate at
// 255*127*2), so every path returns the same value as the pure-Go loop. The
// sum is accumulated in int32 with wrap-around; it cannot overflow for
// len(a) <= 65793.
func DotU8I8(a []uint8, b []int8) int32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("vec.DotU8I8: length mismatch %d != %d", len(a), len(b)))
	}
	if len(a) == 0 {
		return 0
	}
	return impl.dotU8I8(a, b)
}
