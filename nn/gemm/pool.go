package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of worker goroutines plus the scratch memory they
// pack into. A Pool may be shared by several goroutines: their products
// run one after another, each spread over all workers. The zero Pool is
// not usable; create one with NewPool.
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
		p.start[i] = make(chan struct{})
		go p.work(i)
	}
	return p
}

// Workers reports how many goroutines share each product.
func (p *Pool) Workers() int { return p.workers }

// Close stops the worker goroutines. Products started after Close still
// work, on the calling goroutine only. Close is idempotent.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, c := range p.start[1:] {
		close(c)
	}
}

func (p *Pool) work(id int) {
	for range p.start[id] {
		p.runTiles(id)
		p.wg.Done()
	}
}

// run executes p.job over n workers (n ≤ p.workers); p.mu must be held.
func (p *Pool) run(n int) {
	p.next.Store(0)
	if p.closed {
		n = 1
	}
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
