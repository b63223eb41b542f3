package vec

// dotGeneric is the portable inner product, with four independent
// accumulators so the compiler can overlap the multiply-adds.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dot4Generic writes the inner products of q with the 4 consecutive rows of
// base (each len(q) long) into dst[0:4].
func dot4Generic(dst, q, base []float32) {
	d := len(q)
	for r := 0; r < 4; r++ {
		dst[r] = dotGeneric(q, base[r*d:(r+1)*d])
	}
}

// scaleGeneric multiplies every element of v by s.
func scaleGeneric(v []float32, s float32) {
	for i := range v {
		v[i] *= s
	}
}

// dotU8I8Generic is the reference integer inner product (int32, wrapping).
func dotU8I8Generic(a []uint8, b []int8) int32 {
	b = b[:len(a)]
	var s int32
	for i, x := range a {
		s += int32(x) * int32(b[i])
	}
	return s
}

// dotGatherGeneric is the portable gather: one dot product per listed row.
func dotGatherGeneric(dst, q, base []float32, ids []uint32) {
	dim := len(q)
	for j, id := range ids {
		o := int(id) * dim
		dst[j] = dotGeneric(q, base[o:o+dim])
	}
}

// dotU8I8GatherGeneric is the portable integer gather.
func dotU8I8GatherGeneric(dst []int32, q []int8, base []uint8, ids []uint32) {
	dim := len(q)
	for j, id := range ids {
		o := int(id) * dim
		dst[j] = dotU8I8Generic(base[o:o+dim], q)
	}
}
