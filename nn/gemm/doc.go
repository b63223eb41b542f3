// Package gemm is the single-precision matrix multiply that CLIP inference
// runs on: Y = X·Wᵀ + bias with Hugging Face Linear layout (W is [n×k]),
// plus the general products a·bᵀ and a·b used by attention.
//
// The design follows BLIS/GotoBLAS: W is packed once into panels of 32
// columns ([k][32] each, zero padded), rows of X are copied per cache block
// into worker-local scratch, and an assembly micro-kernel computes a block
// of up to 14×32 (AVX-512) or 6×16 (AVX2+FMA) results in registers.
// The kernel is chosen once at start-up from the CPU features (see Kernel);
// building with -tags purego selects the portable Go kernel, which is also
// the oracle the tests compare the assembly against.
//
// Work is spread over a persistent Pool of goroutines, split over columns
// for small m and over rows for large m. With a Pool, repeated calls do not
// allocate.
package gemm

//go:generate sh -c "cd internal/asmgen && go run . -out ../.."
