package hnsw

import "github.com/sightsearch/sight/vec"

// dot is the float32 inner product (vec's SIMD kernel).
func dot(a, b []float32) float32 { return vec.Dot(a, b) }

// dotCode is the integer inner product of stored uint8 codes and an int8
// query (vec's SIMD kernel).
func dotCode(code []uint8, q []int8) int32 { return vec.DotU8I8(code, q) }
