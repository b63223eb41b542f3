package nn

import "github.com/sightsearch/sight/nn/qgemm"

// qPacked is a Linear weight quantised for the int8 kernel.
type qPacked struct {
	w *qgemm.Packed
}

func quantize(w []float32, n, k int) (*qPacked, error) {
	p, err := qgemm.Pack(w, n, k)
	if err != nil {
		return nil, err
	}
	return &qPacked{w: p}, nil
}

// qTask runs the two phases of an int8 product: quantising the rows of x,
// then blocks of rows × column panels.
type qTask struct {
	w        *qgemm.Packed
	dst, x   []float32
	bias     []float32
	rows     qgemm.Rows
	m        int
	quantize bool
	// The product's units: row blocks of qRowBlock rows × panel groups.
	rowBlocks, panelGroups, panelsPer int
}

// qRowBlock rows share one sweep over a group of W panels.
const qRowBlock = 64

func (t *qTask) Run(_, lo, hi int) {
	if t.quantize {
		qgemm.QuantizeRows(t.rows, t.x, t.w.K(), lo, hi)
		return
	}
	for u := lo; u < hi; u++ {
		rb, pg := u%t.rowBlocks, u/t.rowBlocks
		i0 := rb * qRowBlock
		p0 := pg * t.panelsPer
		t.w.MulBlock(t.dst, t.rows, t.bias, i0, min(i0+qRowBlock, t.m), p0, min(p0+t.panelsPer, t.w.Panels()))
	}
}

// mul sets dst[m×n] = x·Wᵀ + bias in int8 on p's workers.
func (q *qPacked) mul(dst, x []float32, m int, bias []float32, p *Pool) {
	if m == 0 {
		return
	}
	k := q.w.K()
	var rows qgemm.Rows
	var t *qTask
	if p == nil {
		rows = qgemm.Rows{Q: make([]uint8, m*qgemm.RowBytes(k)), Scale: make([]float32, m), Zero: make([]int32, m)}
		t = &qTask{}
	} else {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.qrows.Q = grow(p.qrows.Q, m*qgemm.RowBytes(k))
		p.qrows.Scale = grow(p.qrows.Scale, m)
		p.qrows.Zero = grow(p.qrows.Zero, m)
		rows = p.qrows
		t = &p.q
	}
	np := q.w.Panels()
	rowBlocks := (m + qRowBlock - 1) / qRowBlock
	// Split columns finely enough that every worker gets several units.
	workers := p.Workers()
	panelsPer := np
	for panelsPer > 1 && rowBlocks*((np+panelsPer-1)/panelsPer) < 16*workers {
		panelsPer = (panelsPer + 1) / 2
	}
	*t = qTask{w: q.w, dst: dst, x: x, bias: bias, rows: rows, m: m, quantize: true,
		rowBlocks: rowBlocks, panelGroups: (np + panelsPer - 1) / panelsPer, panelsPer: panelsPer}
	run := func(n, minChunk int) {
		if p == nil {
			t.Run(0, 0, n)
		} else {
			p.forLocked(n, minChunk, t)
		}
	}
	run(m, max(1, (1<<16)/max(k, 1))) // chunks of at least 64k values
	t.quantize = false
	units := rowBlocks * t.panelGroups
	minUnits := 1
	if m*q.w.N()*k < 1<<17 {
		minUnits = units // too small to split
	}
	run(units, minUnits)
	*t = qTask{}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
