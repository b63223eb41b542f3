// Package vec provides the float32 and int8 vector kernels behind Sight's
// vector indexes: dot products (single and batched over contiguous rows),
// in-place L2 normalisation, and an exact uint8×int8 dot product for
// scalar-quantised vectors.
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
