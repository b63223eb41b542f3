package hnsw

import "github.com/sightsearch/sight/vec"

// dot is the float32 inner product (vec's SIMD kernel).
func dot(a, b []float32) float32 { return vec.Dot(a, b) }

// dotCode is the integer inner product of stored uint8 codes and an int8
// query (vec's SIMD kernel).
func dotCode(code []uint8, q []int8) int32 { return vec.DotU8I8(code, q) }

// dotGather writes the inner products of q with rows ids of base to dst.
func dotGather(dst, q, base []float32, ids []uint32) { vec.DotGather(dst, q, base, ids) }

// dotCodes writes the integer inner products of q with code rows ids.
func dotCodes(dst []int32, q []int8, codes []uint8, ids []uint32) {
	vec.DotU8I8Gather(dst, q, codes, ids)
}

// prefetchLinks starts loading a neighbour record into the cache.
func prefetchLinks(r []uint32) { vec.PrefetchUint32(r) }
