//go:build !amd64 || purego

package imageio

func addRowScaled(acc []int32, row []uint8, k int32) { addRowScaledGeneric(acc, row, k) }

func packRow(dst []uint8, acc []int32) { packRowGeneric(dst, acc) }

func setRowScaled(acc []int32, row []uint8, k, bias int32) { setRowScaledGeneric(acc, row, k, bias) }
