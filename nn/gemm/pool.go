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
	team    Team     // if not nil, runs the workers instead of start
	work1   teamTask // p's share of a product, for team

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

// Team is a fixed set of goroutines that a Pool can run its products on
// instead of starting its own (see NewPoolOn), so that a program's
// parallel loops of every kind share one set of workers: those can then
// spin between loops without keeping each other from a CPU.
type Team interface {
	// Workers reports the number of goroutines, the caller of RunTeam
	// included.
	Workers() int
	// RunTeam calls t.Work(worker) from the team's goroutines (worker 0
	// being the caller, each worker number used by one goroutine at a
	// time) until every goroutine has made at least one call or found
	// the loop done, and returns when all calls have returned. A
	// goroutine may make several calls.
	RunTeam(t TeamTask)
}

// TeamTask is what a Pool hands to its Team: one worker's share of a
// product.
type TeamTask interface {
	Work(worker int)
}

// teamTask runs worker shares of the pool's current product.
type teamTask struct{ p *Pool }

func (t *teamTask) Work(worker int) { t.p.runTiles(worker) }

// NewPoolOn returns a pool that runs its large products on team's
// goroutines (and starts none of its own). Its products still take turns;
// the team may run other loops between them.
func NewPoolOn(team Team) *Pool {
	w := max(team.Workers(), 1)
	p := &Pool{workers: w, scratch: make([][]float32, w), start: make([]chan struct{}, w), team: team}
	p.work1.p = p
	return p
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
	if p.team != nil {
		return
	}
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
	if p.team != nil {
		p.team.RunTeam(&p.work1)
		return
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
