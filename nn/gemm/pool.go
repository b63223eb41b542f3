package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of worker goroutines plus the scratch memory they
// pack into. A Pool may be shared by several goroutines: large products
// run one after another, each spread over all workers; small ones run at
// once, each on its calling goroutine. A zero Pool has no workers and runs
// every product on the calling goroutine.
type Pool struct {
	mu      sync.Mutex // held for the whole of one product
	workers int
	start   []chan struct{} // start[i] wakes worker i (i ≥ 1)
	wg      sync.WaitGroup
	closed  bool

	job     job
	next    atomic.Int64 // next tile to claim
	scratch [][]float32  // per worker: rows of A for one cache block
	packed  []float32    // W panels packed on the fly by MulT and Mul

	freeMu sync.Mutex
	free   []*context // for products on the calling goroutine
}

// context is the scratch memory of one product run on its caller.
type context struct {
	scratch, packed []float32
}

// getContext takes a free context, or makes one.
func (p *Pool) getContext() *context {
	if p == nil {
		return new(context)
	}
	p.freeMu.Lock()
	defer p.freeMu.Unlock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		return c
	}
	return new(context)
}

// putContext returns c for reuse.
func (p *Pool) putContext(c *context) {
	if p == nil {
		return
	}
	p.freeMu.Lock()
	p.free = append(p.free, c)
	p.freeMu.Unlock()
}

// NewPool starts a pool of workers goroutines (the calling goroutine of
// each product counts as one of them). workers ≤ 0 means
// runtime.GOMAXPROCS(0).
func NewPool(workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: workers, scratch: make([][]float32, workers), start: make([]chan struct{}, workers)}
	for i := 1; i < workers; i++ {
		// Buffered, so that waking a worker never waits for it to be
		// scheduled: the caller starts on the work at once, and a late
		// worker finds the remaining chunks (or none).
		p.start[i] = make(chan struct{}, 1)
		go p.work(i)
	}
	return p
}

// Workers reports how many goroutines share each product.
func (p *Pool) Workers() int { return p.workers }

// Close stops the worker goroutines. Products started after Close still
// work, on the calling goroutine only. Close may be called more than once.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, c := range p.start {
		if c != nil {
			close(c)
		}
	}
}

func (p *Pool) work(id int) {
	for range p.start[id] {
		p.runTiles(id)
		p.wg.Done()
	}
}

// run executes p.job over n workers (2 ≤ n ≤ p.workers); p.mu must be
// held and the pool open.
func (p *Pool) run(n int) {
	p.next.Store(0)
	p.wg.Add(n - 1)
	for i := 1; i < n; i++ {
		p.start[i] <- struct{}{}
	}
	p.runTiles(0)
	p.wg.Wait()
}

// runTiles runs worker id's share of p.job.
func (p *Pool) runTiles(id int) {
	need := p.job.scratchSize()
	if cap(p.scratch[id]) < need {
		p.scratch[id] = make([]float32, need)
	}
	p.job.runWorker(&p.next, p.scratch[id][:need])
}
