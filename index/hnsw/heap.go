package hnsw

// item is a node with its distance to the current query (1 - dot, smaller is
// closer).
type item struct {
	d  float32
	id uint32
}

// minHeap pops the closest item first.
type minHeap []item

func (h *minHeap) push(x item) {
	a := append(*h, x)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d <= x.d {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = x
	*h = a
}

func (h *minHeap) pop() item {
	a := *h
	top := a[0]
	n := len(a) - 1
	x := a[n]
	a = a[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1].d < a[c].d {
			c++
		}
		if x.d <= a[c].d {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = x
	}
	*h = a
	return top
}

// maxHeap keeps the farthest item on top, so the worst of the current best
// set can be dropped.
type maxHeap []item

func (h *maxHeap) push(x item) {
	a := append(*h, x)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d >= x.d {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = x
	*h = a
}

func (h *maxHeap) pop() item {
	a := *h
	top := a[0]
	n := len(a) - 1
	x := a[n]
	a = a[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1].d > a[c].d {
			c++
		}
		if x.d >= a[c].d {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = x
	}
	*h = a
	return top
}

// visited marks nodes seen by one search. A mark equals gen when set, so
// clearing is a counter increment; the array is zeroed only on wrap-around.
type visited struct {
	marks []uint16
	gen   uint16
}

// reset prepares v for a search over n nodes.
func (v *visited) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint16, n+n/4+64)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

// searchCtx holds the reusable buffers of one search or insert; pooled.
type searchCtx struct {
	vis    visited
	cand   minHeap
	res    maxHeap
	nbuf   []uint32
	sel    []item
	sel2   []item
	tmp    []item
	batch2 []item
	q8     []int8
	qf     []float32
	batch  []float32
	dbuf   []float32 // distances of a gathered neighbour list
	ibuf   []int32   // integer dot products of the same
	gbuf   []uint32  // mixed-storage gather: ids in the snapshot
	gbuf2  []uint32  // and in RAM (minus nbase)
	gdst   []float32
	ids    []uint32 // re-rank ids
	gdst2  []float32
	seeds  []item // entry points of a layer search
}
