// Package nn holds the float32 kernel layer that Sight's CLIP model runs
// on: linear layers, layer normalisation, activations, softmax and
// multi-head attention.
//
// Every routine works on row-major float32 slices and writes into a buffer
// the caller provides, so a forward pass can reuse its memory. Parallel
// work runs on a [Pool]: persistent worker goroutines (for attention,
// norms, activations and int8 products), a [gemm.Pool] for the float
// products and per-worker scratch, so that a steady-state forward pass
// allocates nothing.
//
// [Linear] packs its weights once ([Linear.Prepack] or
// [Linear.SetPrecision]) for one of three kernels: float32 (package gemm),
// bfloat16 with float32 sums (gemm.PackedBF16) or int8 with dynamic
// per-row activation quantisation (package qgemm). [Attention] runs each
// (sequence, head) pair as two gemm products, Q·Kᵀ and P·V, with a
// vectorised softmax between them. QuickGELU, GELU, LayerNorm (with the
// residual add fused in, [Norm.AddForward]) and the softmax use AVX-512
// assembly when the CPU has it; building with -tags purego selects the
// portable Go versions, which the tests compare against.
package nn
