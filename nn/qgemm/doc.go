// Package qgemm is the int8 matrix multiply behind Sight's reduced
// precision CLIP mode: Y ≈ X·Wᵀ + bias with W quantised once per output
// channel (symmetric int8) and X quantised per row at run time
// (asymmetric uint8 with a zero point), products summed exactly in int32
// and rescaled to float32.
//
// The product of row i and column j is
//
//	y[i][j] = sx[i]·sw[j]·(Σ_p qx[i][p]·qw[j][p] − zx[i]·Σ_p qw[j][p]) + bias[j]
//
// which the AVX-512 VNNI micro-kernel (VPDPBUSD: unsigned × signed bytes,
// four at a time, into int32) computes for up to 8 rows × 32 columns per
// call, epilogue included. Building with -tags purego, or running on a CPU
// without AVX512-VNNI, selects the portable Go kernel, which computes the
// same integers and is the oracle the tests compare the assembly against.
//
// The package is serial: callers split the rows and column panels of a
// product over their own workers with MulBlock.
package qgemm
