package imageio

// addRowScaledGeneric is the pure-Go addRowScaled.
func addRowScaledGeneric(acc []int32, row []uint8, k int32) {
	row = row[:len(acc)]
	for i, p := range row {
		acc[i] += int32(p) * k
	}
}

// setRowScaledGeneric is the pure-Go setRowScaled.
func setRowScaledGeneric(acc []int32, row []uint8, k, bias int32) {
	row = row[:len(acc)]
	for i, p := range row {
		acc[i] = int32(p)*k + bias
	}
}

// packRowGeneric is the pure-Go packRow.
func packRowGeneric(dst []uint8, acc []int32) {
	acc = acc[:len(dst)]
	for i, v := range acc {
		dst[i] = clip8(v)
	}
}
