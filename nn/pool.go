package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightsearch/sight/nn/gemm"
	"github.com/sightsearch/sight/nn/qgemm"
)

// Task is work over an index range [0, n) that a Pool splits into chunks.
// Run computes items [lo, hi) on the goroutine numbered worker (0 ≤ worker
// < Pool.Workers()), so per-worker scratch can be indexed by it.
type Task interface {
	Run(worker, lo, hi int)
}

// Pool is a fixed set of worker goroutines for the parallel parts of a
// forward pass: attention heads, norms, activations and int8 products
// (float32 and bf16 products run on the gemm.Pool it holds, see GEMM,
// which borrows these same workers for them). It
// also owns per-worker scratch memory, so that a steady-state forward pass
// does not allocate.
//
// A Pool may be shared by several goroutines; their parallel loops run one
// after another. A nil *Pool is valid wherever a *Pool is accepted and
// means "run on the calling goroutine" (allocating scratch as needed).
type Pool struct {
	mu      sync.Mutex // held for the whole of one For
	workers int
	closed  bool

	// With SetSpin, workers spin for a while after each loop before
	// parking on their start channel: the loops of a forward pass follow
	// each other within microseconds, faster than a parked goroutine
	// wakes.
	spin atomic.Int64  // spinning time in ns (0: park at once)
	gen  atomic.Uint64 // incremented to start a loop
	// ctl is the current loop's generation (high 32 bits), a closed bit
	// (set once every chunk is claimed: no worker may join after it) and
	// the number of workers that joined and have not yet left. The caller
	// waits only for workers that joined, so a worker that is slow to wake
	// (or descheduled) never holds up a loop it has no part in.
	ctl     atomic.Uint64
	joins   atomic.Int64  // joins of workers to loops, ever
	waiting atomic.Uint64 // generation the caller is blocked on, or 0
	// Spinning pays only while every worker has a CPU of its own. A
	// spinning worker that starts a loop late was descheduled: the
	// machine is oversubscribed, and spinning stops for a while.
	epoch     time.Time
	issued    atomic.Int64    // when the current loop started, ns since epoch
	contended atomic.Int64    // when a late start was last seen, ns since epoch
	done      chan uint64     // the last worker of a loop reports its generation
	state     []atomic.Int32  // per worker: awake, parked or woken
	start     []chan struct{} // start[i] wakes parked worker i (i ≥ 1)

	gemm  *gemm.Pool // float32 and bf16 products
	local []*workerLocal

	task        Task
	n, minChunk int
	loopWorkers int
	next        atomic.Int64

	// The tasks of the package's own parallel loops live here, so that
	// starting one does not allocate.
	apply applyTask
	team  poolTeam
	gang  gangTask
	attn  attentionTask
	norm  normTask
	q     qTask
	qrows qgemm.Rows
}

// Worker states.
const (
	awake  = iota // spinning or running
	parked        // blocked (or about to block) on its start channel
	woken         // the loop's starter is sending on its start channel
)

// lateStart is the delay after which a spinning worker counts as
// descheduled, and spinBackoff how long spinning then stops.
//
// lateStart was 50 µs. On this project's 2-vCPU virtual machines a
// worker that has a CPU of its own still starts that late now and then
// (the hypervisor's and the kernel's own interruptions), and every such
// start stopped spinning for 200 ms: a short text, ~60 short loops, then
// ran mostly on parked workers. At 500 µs, alternating builds in the same
// minutes, one 10-token text took 6.5 ms instead of 7.4–9.0 ms in fp32 and
// 2.3–2.4 ms instead of 3.7–4.0 ms in int8; image throughput stayed within
// noise. A worker that really has no CPU is late by a time slice (ms), so
// oversubscription is still detected.
const (
	lateStart   = 500 * time.Microsecond
	spinBackoff = 200 * time.Millisecond
)

// SetSpin makes idle workers (and a caller waiting for the end of a loop)
// poll for up to d before blocking; 0, the default, blocks at once.
// Spinning cuts the latency of forward passes made of many short loops
// when the workers have CPUs of their own; it stops by itself for a while
// when a worker is seen descheduled. The float32 and bf16 products of the
// Pool's gemm.Pool run on the same workers, so they spin between those
// too.
func (p *Pool) SetSpin(d time.Duration) {
	if p != nil {
		p.spin.Store(int64(max(d, 0)))
	}
}

// spinTime returns how long to spin now.
func (p *Pool) spinTime() int64 {
	d := p.spin.Load()
	if d == 0 || p.now()-p.contended.Load() <= int64(spinBackoff) {
		return 0
	}
	return d
}

// now returns the time since p's creation.
func (p *Pool) now() int64 { return int64(time.Since(p.epoch)) }

// workerLocal is one worker's private state: a single-threaded gemm pool
// (whose packing buffers are reused) and float32 scratch.
type workerLocal struct {
	gemm    *gemm.Pool
	scratch []float32
}

// NewPool starts a pool of workers goroutines (the goroutine calling For
// counts as one of them). workers ≤ 0 means runtime.GOMAXPROCS(0).
func NewPool(workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: workers, start: make([]chan struct{}, workers), state: make([]atomic.Int32, workers),
		done: make(chan uint64, 8), epoch: time.Now()}
	p.contended.Store(-int64(spinBackoff) - 1)
	p.team.p = p
	p.gemm = gemm.NewPoolOn(&p.team)
	p.local = make([]*workerLocal, workers)
	for i := range p.local {
		p.local[i] = &workerLocal{gemm: gemm.NewPool(1)}
	}
	for i := 1; i < workers; i++ {
		// Buffered: a starter that saw worker i parked never waits for
		// it to reach its receive.
		p.start[i] = make(chan struct{}, 1)
		go p.work(i)
	}
	return p
}

// Workers reports how many goroutines share each parallel loop (1 for a
// nil Pool).
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// GEMM returns the pool the float32 and bf16 products run on (nil for a
// nil Pool).
func (p *Pool) GEMM() *gemm.Pool {
	if p == nil {
		return nil
	}
	return p.gemm
}

// Close stops the worker goroutines. Work started after Close still runs,
// on the calling goroutine only. Close is idempotent.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	// Before taking p.mu: a product holds its gemm.Pool's lock while it
	// waits for p.mu.
	p.gemm.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, c := range p.start[1:] {
		close(c) // spinning workers park and then see it closed
	}
}

func (p *Pool) work(id int) {
	var seen uint64
	for {
		g, ok := p.wait(id, seen)
		if !ok {
			return
		}
		seen = g
		if !p.join(g) {
			continue // the loop was over before this worker got to it
		}
		p.runChunks(id)
		if v := p.ctl.Add(^uint64(0)); v&ctlClosed != 0 && v&ctlCount == 0 && p.waiting.Load() == g {
			select {
			case p.done <- g:
			default: // unreachable: stale tokens are drained at each loop start
			}
		}
	}
}

// Fields of Pool.ctl.
const (
	ctlClosed = 1 << 31
	ctlCount  = ctlClosed - 1
)

// join enters the loop of generation g, unless it is closed or over.
func (p *Pool) join(g uint64) bool {
	for {
		v := p.ctl.Load()
		if v>>32 != g&0xffffffff || v&ctlClosed != 0 {
			return false
		}
		if p.ctl.CompareAndSwap(v, v+1) {
			p.joins.Add(1)
			return true
		}
	}
}

// wait returns the generation of the next loop after seen, spinning
// first and then parking; false means the pool was closed.
func (p *Pool) wait(id int, seen uint64) (uint64, bool) {
	st := &p.state[id]
	// A plain spin keeps this goroutine's P busy: yielding it with
	// runtime.Gosched would let the caller's P run both goroutines in
	// turn while the other P sleeps.
	if d := p.spinTime(); d > 0 {
		deadline := p.now() + d
		for i := 0; ; i++ {
			if g := p.gen.Load(); g != seen {
				if now := p.now(); now-p.issued.Load() > int64(lateStart) {
					p.contended.Store(now)
				}
				return g, true
			}
			if i%256 == 255 && p.now() > deadline {
				break
			}
		}
	}
	st.Store(parked)
	if g := p.gen.Load(); g != seen && st.CompareAndSwap(parked, awake) {
		return g, true // a loop started before the starter saw us park
	}
	if _, ok := <-p.start[id]; !ok {
		return 0, false
	}
	st.Store(awake)
	return p.gen.Load(), true
}

// For runs t over [0, n) in chunks of at least minChunk items spread over
// the workers, and returns when all are done. With a nil Pool, t runs on
// the calling goroutine as worker 0.
func (p *Pool) For(n, minChunk int, t Task) {
	if n <= 0 {
		return
	}
	if p == nil {
		t.Run(0, 0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forLocked(n, minChunk, t)
}

// forLocked is For with p.mu held and p not nil.
func (p *Pool) forLocked(n, minChunk int, t Task) {
	if n <= 0 {
		return
	}
	minChunk = max(minChunk, 1)
	workers := min(p.workers, (n+minChunk-1)/minChunk)
	if p.closed || workers <= 1 {
		t.Run(0, 0, n)
		return
	}
	p.task, p.n, p.minChunk, p.loopWorkers = t, n, minChunk, workers
	p.next.Store(0)
	// Drop completion tokens of earlier loops (sent after their caller had
	// stopped waiting).
	for len(p.done) > 0 {
		<-p.done
	}
	g := p.gen.Load() + 1 // only the holder of p.mu changes gen
	p.ctl.Store(g & 0xffffffff << 32)
	issued := p.now()
	p.issued.Store(issued)
	joins := p.joins.Load()
	p.gen.Store(g)
	spinning := false
	for i := 1; i < p.workers; i++ {
		if p.state[i].CompareAndSwap(parked, woken) {
			p.start[i] <- struct{}{}
		} else {
			spinning = true
		}
	}
	p.runChunks(0)
	// Every chunk is claimed: close the loop to latecomers, then wait for
	// the workers that joined (spin a while, then block until the last
	// one reports this generation).
	v := p.ctl.Or(ctlClosed)
	if spinning && v&ctlCount == 0 && p.joins.Load() == joins {
		// No worker joined a loop that lasted long enough, although one
		// was awake: it had no CPU (the caller may even have been
		// waiting for the CPU it spun on).
		if now := p.now(); now-issued > int64(lateStart) {
			p.contended.Store(now)
		}
	}
	if v&ctlCount != 0 {
		deadline := p.now() + p.spinTime()
		for i := 0; p.ctl.Load()&ctlCount != 0; i++ {
			if i%256 == 255 && p.now() > deadline {
				p.waiting.Store(g)
				for p.ctl.Load()&ctlCount != 0 && <-p.done != g {
				}
				p.waiting.Store(0)
				break
			}
		}
	}
	p.task = nil
}

// runChunks claims and runs chunks until none is left. Chunks are guided:
// each takes 1/(2·workers) of what remains (at least minChunk), so the
// workers finish together even on a machine shared with other work.
func (p *Pool) runChunks(id int) {
	n, w := int64(p.n), int64(2*p.loopWorkers)
	for {
		lo := p.next.Load()
		rem := n - lo
		if rem <= 0 {
			return
		}
		c := min(rem, max(int64(p.minChunk), (rem+w-1)/w))
		if p.next.CompareAndSwap(lo, lo+c) {
			p.task.Run(id, int(lo), int(lo+c))
		}
	}
}

// worker returns worker's scratch buffer of at least n floats and its
// single-threaded gemm pool. It must only be called from inside a Task
// running as worker on p (p.mu held). For a nil Pool it allocates.
func (p *Pool) worker(worker, n int) (*gemm.Pool, []float32) {
	if p == nil {
		return gemm.NewPool(1), make([]float32, n)
	}
	l := p.local[worker]
	if cap(l.scratch) < n {
		l.scratch = make([]float32, n)
	}
	return l.gemm, l.scratch[:n]
}

// poolTeam lets the pool's gemm.Pool run its products on the pool's
// workers: one set of goroutines serves every parallel loop, so that
// spinning workers (SetSpin) never keep a gemm worker from a CPU.
type poolTeam struct{ p *Pool }

func (t *poolTeam) Workers() int { return t.p.workers }

func (t *poolTeam) RunTeam(g gemm.TeamTask) {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gang = gangTask{g}
	p.forLocked(p.workers, 1, &p.gang)
	p.gang = gangTask{}
}

// gangTask runs a gemm.TeamTask once per item.
type gangTask struct{ t gemm.TeamTask }

func (g *gangTask) Run(worker, lo, hi int) {
	for range hi - lo {
		g.t.Work(worker)
	}
}

// applyTask applies an in-place element-wise function to chunks of x.
type applyTask struct {
	x []float32
	f func([]float32)
}

func (a *applyTask) Run(_, lo, hi int) { a.f(a.x[lo:hi]) }

// Apply runs f on disjoint consecutive parts of x over p's workers (for
// element-wise functions such as the activations). It does not allocate.
func (p *Pool) Apply(x []float32, f func([]float32)) {
	if p == nil {
		f(x)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.apply = applyTask{x: x, f: f}
	p.forLocked(len(x), 1<<15, &p.apply)
	p.apply = applyTask{}
}
