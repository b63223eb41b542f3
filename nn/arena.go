package nn

// Arena hands out float32 scratch buffers for one forward pass from a few
// large allocations. After Reset the memory is handed out again, so a
// steady-state pass allocates nothing. An Arena is not safe for concurrent
// use; the zero value is ready to use.
type Arena struct {
	chunks [][]float32
	off    int // used part of the last chunk
	total  int // floats handed out since Reset
}

// Alloc returns a buffer of n floats with undefined contents, valid until
// the next Reset.
func (a *Arena) Alloc(n int) []float32 {
	a.total += n
	if len(a.chunks) > 0 {
		c := a.chunks[len(a.chunks)-1]
		if a.off+n <= len(c) {
			s := c[a.off : a.off+n : a.off+n]
			a.off += n
			return s
		}
	}
	size := max(n, 1<<16)
	if len(a.chunks) > 0 {
		size = max(size, 2*len(a.chunks[len(a.chunks)-1]))
	}
	c := make([]float32, size)
	a.chunks = append(a.chunks, c)
	a.off = n
	return c[:n:n]
}

// Reset makes all buffers reusable. If the last pass needed more than one
// allocation they are replaced by a single one large enough for it.
func (a *Arena) Reset() {
	if len(a.chunks) > 1 {
		a.chunks = [][]float32{make([]float32, a.total)}
	}
	a.off, a.total = 0, 0
}

// ParallelApply runs f on disjoint consecutive parts of x in parallel (for
// element-wise functions such as the activations).
func ParallelApply(x []float32, f func([]float32)) {
	parallelFor(len(x), 1<<14, func(lo, hi int) { f(x[lo:hi]) })
}
