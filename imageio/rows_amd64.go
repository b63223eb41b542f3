//go:build amd64 && !purego

package imageio

import "golang.org/x/sys/cpu"

// haveAVX2 selects the AVX2 row kernels; it is set once from the CPU's
// features and never changes.
var haveAVX2 = cpu.X86.HasAVX2

// addRowScaled adds k*row[i] to acc[i] for i < len(acc) (len(row) >=
// len(acc)).
func addRowScaled(acc []int32, row []uint8, k int32) {
	n := 0
	if haveAVX2 {
		n = len(acc) &^ 15
		if n > 0 {
			addRowScaledAVX2(acc[:n], row[:n], k)
		}
	}
	addRowScaledGeneric(acc[n:], row[n:], k)
}

// setRowScaled sets acc[i] to k*row[i] + bias for i < len(acc) (len(row)
// >= len(acc)).
func setRowScaled(acc []int32, row []uint8, k, bias int32) {
	n := 0
	if haveAVX2 {
		n = len(acc) &^ 15
		if n > 0 {
			setRowScaledAVX2(acc[:n], row[:n], k, bias)
		}
	}
	setRowScaledGeneric(acc[n:], row[n:], k, bias)
}

// packRow stores clip8(acc[i]) in dst[i] for i < len(dst) (len(acc) >=
// len(dst)).
func packRow(dst []uint8, acc []int32) {
	n := 0
	if haveAVX2 {
		n = len(dst) &^ 15
		if n > 0 {
			packRowAVX2(dst[:n], acc[:n])
		}
	}
	packRowGeneric(dst[n:], acc[n:])
}

// addRowScaledAVX2 is addRowScaled for len(acc) a multiple of 16.
//
//go:noescape
func addRowScaledAVX2(acc []int32, row []uint8, k int32)

// setRowScaledAVX2 is setRowScaled for len(acc) a multiple of 16.
//
//go:noescape
func setRowScaledAVX2(acc []int32, row []uint8, k, bias int32)

// packRowAVX2 is packRow for len(dst) a multiple of 16.
//
//go:noescape
func packRowAVX2(dst []uint8, acc []int32)
