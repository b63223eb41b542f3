package gemm

import (
	"fmt"
	"sync/atomic"
)

// Cache blocking, tuned on Zen 4 (1 MiB L2): at most kc values of the
// shared dimension are multiplied per pass (k is cut into equal blocks),
// so a kc×32 W panel (≤ 96 KiB) is reused from L2 while the rows of X
// sweep over it, and a tile of up to mcTarget rows × kc (≤ 344 KiB) stays
// in L2 while it sweeps over the W panels.
const (
	kc       = 768
	mcTarget = 112
	// minParallel is the number of multiply-adds below which a product
	// runs on the calling goroutine only.
	minParallel = 1 << 19
)

// Kernel names the micro-kernel in use: "avx512", "avx2" or "go".
func Kernel() string { return active.name }

// Packed is a weight matrix W [n×k] packed for Mul. It is immutable after
// Pack and safe for concurrent use.
type Packed struct {
	n, k int
	w    []float32 // panels of [k][32], zero padded, in k blocks (see panelOff)
}

// Pack packs w, a row-major [n×k] matrix (Hugging Face Linear weight
// layout: n outputs, k inputs). It panics if n or k is negative or w
// holds fewer than n·k values.
func Pack(w []float32, n, k int) *Packed {
	if n < 0 || k < 0 || len(w) < n*k {
		panic(fmt.Sprintf("gemm: Pack n=%d k=%d with len(w)=%d", n, k, len(w)))
	}
	p := &Packed{n: n, k: k, w: make([]float32, panels(n)*k*nr)}
	packT(p.w, w, k, n, k)
	return p
}

// N is the number of outputs (rows of W).
func (p *Packed) N() int { return p.n }

// Unpack writes W back to dst as the row-major [n×k] matrix given to Pack
// (the same values: packing only moves them). It panics if dst holds
// fewer than n·k values.
func (p *Packed) Unpack(dst []float32) {
	n, k := p.n, p.k
	if len(dst) < n*k {
		panic(fmt.Sprintf("gemm: Unpack n=%d k=%d into len(dst)=%d", n, k, len(dst)))
	}
	np := panels(n)
	eachBlock(k, func(k0, kb int) {
		for j0 := 0; j0 < n; j0 += nr {
			pan := p.w[panelOff(np, k0, kb, j0/nr):]
			for c := 0; c < min(nr, n-j0); c++ {
				row := dst[(j0+c)*k+k0 : (j0+c)*k+k0+kb]
				for q := range row {
					row[q] = pan[q*nr+c]
				}
			}
		}
	})
}

// K is the number of inputs (columns of W).
func (p *Packed) K() int { return p.k }

// Mul sets dst[m×n] = x[m×k]·Wᵀ + bias, all row-major. bias has n values
// or is nil; dst must not overlap x. pool may be nil to run on the
// calling goroutine (which then allocates scratch memory). It panics if a
// slice is shorter than its shape says.
func (p *Packed) Mul(dst, x []float32, m int, bias []float32, pool *Pool) {
	if m < 0 || len(dst) < m*p.n || len(x) < m*p.k || (bias != nil && len(bias) < p.n) {
		panic(fmt.Sprintf("gemm: Packed.Mul m=%d n=%d k=%d with len(dst)=%d len(x)=%d len(bias)=%d",
			m, p.n, p.k, len(dst), len(x), len(bias)))
	}
	execute(pool, active, product{dst: dst, ldd: p.n, x: x, lda: p.k, w: p.w, bias: bias, m: m, n: p.n, k: p.k, kx: p.k})
}

// MulT sets dst[m×n] = a[m×k]·bᵀ with b [n×k] (for attention: Q·Kᵀ). b is
// packed on the fly into memory owned by pool; pool may be nil. dst must
// not overlap a.
func MulT(dst, a, b []float32, m, n, k int, pool *Pool) {
	MulTStrided(dst, n, a, k, b, k, m, n, k, pool)
}

// Mul sets dst[m×n] = a[m×k]·b with b [k×n] (for attention: P·V). b is
// packed on the fly into memory owned by pool; pool may be nil. dst must
// not overlap a.
func Mul(dst, a, b []float32, m, n, k int, pool *Pool) {
	MulStrided(dst, n, a, k, b, n, m, n, k, pool)
}

// MulTStrided is MulT on matrices stored with row strides: row i of dst
// starts at dst[i*ldd], row i of a at a[i*lda], row j of b at b[j*ldb].
// Only the m×n, m×k and n×k elements are read or written, so the matrices
// can be column ranges of wider ones (one attention head of a fused QKV
// buffer).
func MulTStrided(dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, m, n, k int, pool *Pool) {
	checkShapes("MulTStrided", dst, ldd, a, lda, b, ldb, m, n, k, n, k)
	execute(pool, active, product{dst: dst, ldd: ldd, x: a, lda: lda, b: b, ldb: ldb, mode: 'T', m: m, n: n, k: k, kx: k})
}

// MulStrided is Mul on matrices stored with row strides, as MulTStrided:
// row p of b [k×n] starts at b[p*ldb].
func MulStrided(dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, m, n, k int, pool *Pool) {
	checkShapes("MulStrided", dst, ldd, a, lda, b, ldb, m, n, k, k, n)
	execute(pool, active, product{dst: dst, ldd: ldd, x: a, lda: lda, b: b, ldb: ldb, mode: 'N', m: m, n: n, k: k, kx: k})
}

// product is one dst = x·Wᵀ + bias to compute. W is packed in w, or, for
// mode 'T' or 'N', is b ([n×k] or [k×n], rows ldb apart) to be packed
// first. Rows of dst are ldd apart, rows of x lda apart (for bf16 kernels
// k counts pairs, and x rows hold kx floats, lda = kx).
type product struct {
	dst     []float32
	ldd     int
	x       []float32
	lda     int
	w, bias []float32
	b       []float32
	ldb     int
	mode    byte
	m, n, k int
	kx      int
}

// execute computes pr. Large products take the pool's workers (one
// product at a time); small ones run on the calling goroutine with a
// scratch context from the pool, so several goroutines can run them at
// once.
func execute(pool *Pool, ks *kernelSet, pr product) {
	m, n, k := pr.m, pr.n, pr.k
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			d := pr.dst[i*pr.ldd : i*pr.ldd+n]
			if pr.bias != nil {
				copy(d, pr.bias[:n])
			} else {
				clear(d)
			}
		}
		return
	}
	if pool != nil && pool.workers > 1 && m*n*k >= minParallel {
		pool.mu.Lock()
		if !pool.closed {
			if pr.mode != 0 {
				pool.packed = packInto(pool.packed, pr.b, pr.ldb, n, k, pr.mode)
				pr.w = pool.packed
			}
			pool.job = newJob(ks, pr, pool.workers)
			pool.run(pool.workers)
			pool.job = job{}
			pool.mu.Unlock()
			return
		}
		pool.mu.Unlock()
	}
	c := pool.getContext()
	if pr.mode != 0 {
		c.packed = packInto(c.packed, pr.b, pr.ldb, n, k, pr.mode)
		pr.w = c.packed
	}
	j := newJob(ks, pr, 1)
	if need := j.scratchSize(); cap(c.scratch) < need {
		c.scratch = make([]float32, need)
	}
	var next atomic.Int64
	j.runWorker(&next, c.scratch[:j.scratchSize()])
	pool.putContext(c)
}

// packInto packs b ('T': [n×k], 'N': [k×n], rows ldb apart) into buf,
// grown if needed.
func packInto(buf, b []float32, ldb, n, k int, mode byte) []float32 {
	need := panels(n) * k * nr
	if cap(buf) < need {
		buf = make([]float32, need)
	}
	buf = buf[:need]
	if mode == 'T' {
		packT(buf, b, ldb, n, k)
	} else {
		packN(buf, b, ldb, n, k)
	}
	return buf
}

// checkShapes panics unless dst (m×n), a (m×k) and b (br×bc) fit their
// slices with the given row strides.
func checkShapes(name string, dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, m, n, k, br, bc int) {
	fits := func(s []float32, rows, cols, ld int) bool {
		return ld >= cols && (rows == 0 || cols == 0 || len(s) >= (rows-1)*ld+cols)
	}
	if m < 0 || n < 0 || k < 0 || !fits(dst, m, n, ldd) || !fits(a, m, k, lda) || !fits(b, br, bc, ldb) {
		panic(fmt.Sprintf("gemm: %s m=%d n=%d k=%d with len(dst)=%d (stride %d) len(a)=%d (stride %d) len(b)=%d (stride %d)",
			name, m, n, k, len(dst), ldd, len(a), lda, len(b), ldb))
	}
}

func panels(n int) int { return (n + nr - 1) / nr }

// A packed W is cut along k into the blocks that a product multiplies one
// at a time (kStep). Each block holds every panel's [kb][32] slice in
// panel order, so that one block's sweep over the panels reads one
// contiguous stream, which the hardware prefetchers follow: with panels of
// the whole k side by side, a sweep jumped k·128 bytes from panel to
// panel, and products with a long k ran ~10% slower on weights not yet in
// cache.

// eachBlock calls f for each k block [k0, k0+kb) of a packed k.
func eachBlock(k int, f func(k0, kb int)) {
	if k <= 0 {
		return
	}
	ks := kStep(k)
	for k0 := 0; k0 < k; k0 += ks {
		f(k0, min(ks, k-k0))
	}
}

// panelOff is the offset of panel pj's slice of the k block [k0, k0+kb)
// in a packed W of np panels.
func panelOff(np, k0, kb, pj int) int { return k0*np*nr + pj*kb*nr }

// packT packs b [n×k] (row j = output column j, rows ldb apart) into
// panels of [k][32].
func packT(dst, b []float32, ldb, n, k int) {
	np := panels(n)
	eachBlock(k, func(k0, kb int) {
		for j0 := 0; j0 < n; j0 += nr {
			pan := dst[panelOff(np, k0, kb, j0/nr):][:kb*nr]
			w := min(nr, n-j0)
			for c := 0; c < w; c++ {
				row := b[(j0+c)*ldb+k0 : (j0+c)*ldb+k0+kb]
				for p, v := range row {
					pan[p*nr+c] = v
				}
			}
			for c := w; c < nr; c++ {
				for p := 0; p < kb; p++ {
					pan[p*nr+c] = 0
				}
			}
		}
	})
}

// packN packs b [k×n] (row p = shared index p, rows ldb apart) into
// panels of [k][32].
func packN(dst, b []float32, ldb, n, k int) {
	np := panels(n)
	eachBlock(k, func(k0, kb int) {
		for j0 := 0; j0 < n; j0 += nr {
			pan := dst[panelOff(np, k0, kb, j0/nr):][:kb*nr]
			w := min(nr, n-j0)
			for p := 0; p < kb; p++ {
				d := pan[p*nr : p*nr+nr]
				copy(d, b[(k0+p)*ldb+j0:(k0+p)*ldb+j0+w])
				clear(d[w:])
			}
		}
	})
}

// job is one product dst = x·Wᵀ + bias with W packed. Workers claim
// chunks of units — row blocks of mr rows (byRows) or W panels — with
// guided scheduling: chunks shrink as the work runs out, so that workers
// finish together even when the machine is shared.
type job struct {
	ks              *kernelSet
	dst, x, w, bias []float32
	m, n, k, np     int
	kx              int // floats per row of x: k, or 2k−1 or 2k for bf16 pairs
	lda, ldd        int // row strides of x and dst
	kstep           int // k block length: kStep(k), as packed
	byRows          bool
	units, maxChunk int
	workers         int
	// direct: the kernel reads x in place; otherwise each worker first
	// copies x (a k block of its rows, or all of x in a column split) to
	// a stride that does not alias in L1, or converts it to bf16 pairs.
	direct bool
}

// kStep cuts k into equal blocks of at most kc (rounded up to 8).
func kStep(k int) int {
	blocks := (k + kc - 1) / kc
	return min(kc, ((k+blocks-1)/blocks+7)/8*8)
}

// newJob plans product pr (W packed in pr.w) over workers.
func newJob(ks *kernelSet, pr product, workers int) job {
	m, n, k := pr.m, pr.n, pr.k
	np := panels(n)
	mr := ks.mr
	blocks := (m + mr - 1) / mr
	j := job{ks: ks, dst: pr.dst, x: pr.x, w: pr.w, bias: pr.bias, m: m, n: n, k: k, np: np, kx: pr.kx,
		lda: pr.lda, ldd: pr.ldd, kstep: kStep(k), workers: workers,
		direct: !ks.bf16 && (pr.lda*4)%2048 != 0}
	if workers == 1 || blocks >= 4*workers {
		// Many rows (or one worker): split over rows; each chunk of up
		// to mcTarget rows sweeps over all of W.
		j.byRows = true
		j.units = blocks
		j.maxChunk = max(1, mcTarget/mr)
	} else {
		// Few rows: split over W panels; every chunk takes all rows.
		j.units = np
		j.maxChunk = np
	}
	return j
}

// scratchSize is how many floats of scratch a worker needs for j.
func (j *job) scratchSize() int {
	if j.direct {
		return 0
	}
	if j.byRows {
		return min(j.m, j.maxChunk*j.ks.mr) * padStride(j.kstep)
	}
	return j.m * padStride(j.k)
}

// claim takes the next chunk of units, or reports false when none is left.
func (j *job) claim(next *atomic.Int64) (lo, hi int, ok bool) {
	for {
		s := next.Load()
		rem := int64(j.units) - s
		if rem <= 0 {
			return 0, 0, false
		}
		c := min(int64(j.maxChunk), max(1, (rem+int64(2*j.workers)-1)/int64(2*j.workers)))
		if next.CompareAndSwap(s, s+c) {
			return int(s), int(s + c), true
		}
	}
}

// runWorker claims and computes chunks of j until none are left, using
// sc (≥ j.scratchSize() values) for copies of x.
func (j *job) runWorker(next *atomic.Int64, sc []float32) {
	copied := false
	for {
		lo, hi, ok := j.claim(next)
		if !ok {
			return
		}
		switch {
		case j.byRows && j.direct:
			j.tile(nil, j.x, j.lda, lo*j.ks.mr, min(j.m, hi*j.ks.mr), 0, j.np)
			continue
		case j.byRows:
			j.tile(sc, nil, 0, lo*j.ks.mr, min(j.m, hi*j.ks.mr), 0, j.np)
			continue
		case j.direct:
			j.tile(nil, j.x, j.lda, 0, j.m, lo, hi)
			continue
		}
		lda := padStride(j.k)
		if !copied {
			for i := 0; i < j.m; i++ {
				j.loadRow(sc[i*lda:], i, 0, j.k)
			}
			copied = true
		}
		j.tile(nil, sc, lda, 0, j.m, lo, hi)
	}
}

// padStride is a row stride ≥ k for copies of rows of k values that keeps
// rows out of the same L1 sets: 4-byte strides that are multiples of 2 KiB
// would put the rows of a micro-kernel call into one or two sets.
func padStride(k int) int {
	if (k*4)%2048 == 0 {
		return k + 16
	}
	return k
}

// loadRow copies (or converts to bf16 pairs) values [k0,k0+kb) of row
// of x to dst.
func (j *job) loadRow(dst []float32, row, k0, kb int) {
	if j.ks.bf16 {
		x := j.x[row*j.lda : row*j.lda+j.kx]
		j.ks.cvt(dst[:kb], x[2*k0:min(j.kx, 2*(k0+kb))])
		return
	}
	copy(dst[:kb], j.x[row*j.lda+k0:row*j.lda+k0+kb])
}

// tile computes rows [i0,i1) × panels [p0,p1) of the product, reading the
// rows from a (row stride lda) or, if a is nil, loading each k block of
// the rows of x into sc (≥ (i1-i0)·kstep values) first.
func (j *job) tile(sc, a []float32, lda int, i0, i1, p0, p1 int) {
	micro, mr := j.ks.micro, j.ks.mr
	rows := i1 - i0
	for k0 := 0; k0 < j.k; k0 += j.kstep {
		kb := min(j.kstep, j.k-k0)
		var ab []float32
		ld := lda
		if a != nil {
			ab = a[i0*lda+k0:]
		} else {
			ld = padStride(kb)
			ab = sc[:rows*ld]
			for i := 0; i < rows; i++ {
				j.loadRow(ab[i*ld:], i0+i, k0, kb)
			}
		}
		var bias []float32
		if k0 == 0 {
			bias = j.bias
		}
		acc := k0 > 0
		for pj := p0; pj < p1; pj++ {
			col := pj * nr
			ncols := min(nr, j.n-col)
			b := j.w[panelOff(j.np, k0, kb, pj):][:kb*nr]
			var bs []float32
			if bias != nil {
				bs = bias[col : col+ncols]
			}
			for ir := 0; ir < rows; ir += mr {
				r := min(mr, rows-ir)
				micro(r, kb, ab[ir*ld:], ld, b, j.dst[(i0+ir)*j.ldd+col:], j.ldd, bs, ncols, acc)
			}
		}
	}
}
