package hnsw

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	none        = ^uint32(0) // no node
	nLocks      = 1 << 14    // striped node locks
	maxLevelCap = 31         // highest level a node may get
	flagDeleted = 1          // node flag: tombstone
	insertChunk = 4096       // AddBatch allocation granularity
)

// Graph is an HNSW index over unit float32 vectors keyed by uint64 ids.
// All methods are safe for concurrent use: any number of Search calls run
// alongside Add, AddBatch and Delete.
type Graph struct {
	o     Options
	dim   int
	m, m0 int
	s0    int // level-0 record stride: count + m0 slots
	s1    int // upper-level record stride: count + m slots
	mult  float64

	// applyMu is held shared by every mutation from its log record to its
	// in-memory application, and exclusively by Snapshot and Compact, which
	// therefore see no half-applied operation.
	applyMu sync.RWMutex

	// mu guards the slice headers below: shared for traversal and insertion,
	// exclusive for growth, training and compaction. Neighbour records are
	// guarded by the striped locks; other per-node fields are written once,
	// before the node is published.
	mu     sync.RWMutex
	vecs   []float32 // float rows of nodes >= nbase (row i-nbase)
	fbase  []float32 // float rows of nodes < nbase (memory-mapped snapshot)
	nbase  uint32
	codes  []uint8 // int8 mode: dim codes per node
	links0 []uint32
	upOff  []uint32 // offset in upData of a node's level-1 record (level > 0)
	upData []uint32 // upper-level records, L consecutive ones per node of level L
	levels []uint8
	dead   []uint32 // tombstone bits, bit i%32 of word i/32 (atomic)
	ext    []uint64
	quant  *quantizer

	// idMu guards ids, pending and the slot contents written by allocate.
	// Lock order: applyMu, mu, idMu.
	idMu    sync.Mutex
	ids     idTable // external id -> slot, keyed through ext
	pending map[uint64]struct{}
	upLen   int // words of upData in use
	rng     *rand.Rand
	count   atomic.Uint32 // allocated slots
	ndel    atomic.Int64
	trained atomic.Bool

	topMu    sync.Mutex   // serialises inserts that raise the top level
	epMu     sync.RWMutex // guards entry and maxLevel
	entry    uint32
	maxLevel int

	locks []sync.Mutex
	pool  sync.Pool

	st     *store // persistence; nil in memory
	closed atomic.Bool
}

// New returns an empty in-memory Graph.
func New(opts Options) (*Graph, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newGraph(o), nil
}

func newGraph(o Options) *Graph {
	g := &Graph{
		o:       o,
		dim:     o.Dim,
		m:       o.M,
		m0:      2 * o.M,
		s0:      1 + 2*o.M,
		s1:      1 + o.M,
		mult:    1 / math.Log(float64(o.M)),
		pending: make(map[uint64]struct{}),
		rng:     rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)),
		entry:   none,
		locks:   make([]sync.Mutex, nLocks),
	}
	g.pool.New = func() any { return new(searchCtx) }
	return g
}

func (g *Graph) getCtx() *searchCtx  { return g.pool.Get().(*searchCtx) }
func (g *Graph) putCtx(c *searchCtx) { g.pool.Put(c) }

// fvec returns the float row of node i. Caller holds mu (shared).
func (g *Graph) fvec(i uint32) []float32 {
	if i < g.nbase {
		o := int(i) * g.dim
		return g.fbase[o : o+g.dim : o+g.dim]
	}
	o := int(i-g.nbase) * g.dim
	return g.vecs[o : o+g.dim : o+g.dim]
}

// rec returns node i's neighbour record at level (count then slots).
// Caller holds mu (shared) and node i's stripe lock.
func (g *Graph) rec(i uint32, level int) []uint32 {
	if level == 0 {
		o := int(i) * g.s0
		return g.links0[o : o+g.s0 : o+g.s0]
	}
	o := int(g.upOff[i]) + (level-1)*g.s1
	return g.upData[o : o+g.s1 : o+g.s1]
}

func (g *Graph) lock(i uint32) *sync.Mutex { return &g.locks[i&(nLocks-1)] }

// links copies node i's neighbours at level into c.nbuf. Like hnswlib's
// search it takes no lock: writers (holding the node's stripe lock) store
// the neighbour ids before the count with atomic stores, so a reader
// racing with an update sees a mix of old and new entries, all of them
// valid node ids.
func (g *Graph) links(c *searchCtx, i uint32, level int) []uint32 {
	r := g.rec(i, level)
	n := min(int(atomic.LoadUint32(&r[0])), len(r)-1)
	buf := c.nbuf[:0]
	for j := 1; j <= n; j++ {
		buf = append(buf, atomic.LoadUint32(&r[j]))
	}
	c.nbuf = buf
	return buf
}

// setLinks stores ids as r's list. Caller holds the node's stripe lock.
func setLinks(r []uint32, ids []item) {
	for j, x := range ids {
		atomic.StoreUint32(&r[1+j], x.id)
	}
	atomic.StoreUint32(&r[0], uint32(len(ids)))
}

func (g *Graph) isLive(i uint32) bool { return atomic.LoadUint32(&g.dead[i>>5])&(1<<(i&31)) == 0 }

// markDead tombstones node i.
func (g *Graph) markDead(i uint32) { atomic.OrUint32(&g.dead[i>>5], 1<<(i&31)) }

// prepare validates v and returns a unit-norm copy.
func (g *Graph) prepare(v []float32) ([]float32, error) {
	if len(v) != g.dim {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrDim, len(v), g.dim)
	}
	var ss float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%w: component %d is %v", ErrNonFinite, i, x)
		}
		ss += float64(x) * float64(x)
	}
	if ss == 0 || math.IsInf(ss, 0) {
		return nil, fmt.Errorf("%w: norm is %v", ErrZeroVector, math.Sqrt(ss))
	}
	inv := 1 / math.Sqrt(ss)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out, nil
}

// scorer computes distances (1 - similarity) from one query to nodes.
type scorer struct {
	g     *Graph
	q     []float32
	q8    []int8 // set in int8 mode
	t, c  float32
	codes []uint8
}

func (s *scorer) dist(i uint32) float32 {
	if s.q8 != nil {
		o := int(i) * s.g.dim
		return 1 - s.c - s.t*float32(dotCode(s.codes[o:o+s.g.dim:o+s.g.dim], s.q8))
	}
	return 1 - dot(s.q, s.g.fvec(i))
}

// dists returns the distances from the query to nodes ids (in c.dbuf),
// computed by the gather kernels, which prefetch each next row.
func (s *scorer) dists(c *searchCtx, ids []uint32) []float32 {
	n := len(ids)
	if cap(c.dbuf) < n {
		c.dbuf = make([]float32, n+n/2+16)
		c.ibuf = make([]int32, cap(c.dbuf))
	}
	ds := c.dbuf[:n]
	if n == 0 {
		return ds
	}
	if s.q8 != nil {
		is := c.ibuf[:n]
		dotCodes(is, s.q8, s.codes, ids)
		for j, x := range is {
			ds[j] = 1 - s.c - s.t*float32(x)
		}
		return ds
	}
	s.g.dotRows(c, ds, s.q, ids)
	for j, x := range ds {
		ds[j] = 1 - x
	}
	return ds
}

// dotRows writes the inner products of q with the float rows of nodes ids
// to dst. Caller holds mu (shared).
func (g *Graph) dotRows(c *searchCtx, dst, q []float32, ids []uint32) {
	nb := g.nbase
	if nb == 0 {
		dotGather(dst, q, g.vecs, ids)
		return
	}
	hi := uint32(0)
	for _, id := range ids {
		hi = max(hi, id)
	}
	if hi < nb {
		dotGather(dst, q, g.fbase, ids)
		return
	}
	// Mixed: rows below nbase are in the mapped snapshot, the others in
	// RAM. Gather each part, then scatter.
	lo, up := c.gbuf[:0], c.gbuf2[:0]
	for _, id := range ids {
		if id < nb {
			lo = append(lo, id)
		} else {
			up = append(up, id-nb)
		}
	}
	c.gbuf, c.gbuf2 = lo, up
	tmp := slices.Grow(c.gdst[:0], len(ids))[:len(ids)]
	c.gdst = tmp
	dotGather(tmp[:len(lo)], q, g.fbase, lo)
	dotGather(tmp[len(lo):], q, g.vecs, up)
	a, b := 0, len(lo)
	for j, id := range ids {
		if id < nb {
			dst[j] = tmp[a]
			a++
		} else {
			dst[j] = tmp[b]
			b++
		}
	}
}

// greedy walks level to the local optimum from cur.
func (g *Graph) greedy(c *searchCtx, s *scorer, cur item, level int) item {
	for changed := true; changed; {
		changed = false
		ns := g.links(c, cur.id, level)
		for j, d := range s.dists(c, ns) {
			if d < cur.d {
				cur = item{d, ns[j]}
				changed = true
			}
		}
	}
	return cur
}

// unvisited copies into c.nbuf the neighbours of node i at level whose
// mark is not gen, marking them (lock-free like links).
func (g *Graph) unvisited(c *searchCtx, i uint32, level int, marks []uint16, gen uint16) []uint32 {
	r := g.rec(i, level)
	n := min(int(atomic.LoadUint32(&r[0])), len(r)-1)
	buf := c.nbuf[:0]
	for j := 1; j <= n; j++ {
		x := atomic.LoadUint32(&r[j])
		if marks[x] != gen {
			marks[x] = gen
			buf = append(buf, x)
		}
	}
	c.nbuf = buf
	return buf
}

// searchLayer is the HNSW beam search on one level, leaving the best ef
// admitted nodes in c.res. exclude is never visited. With strict set
// (filters or tombstones present) the search goes on until ef admitted
// nodes are found. A nil admit admits every node.
func (g *Graph) searchLayer(c *searchCtx, s *scorer, ep item, level, ef int, admit func(uint32) bool, strict bool, exclude uint32) {
	c.seeds = append(c.seeds[:0], ep)
	g.searchLayerFrom(c, s, c.seeds, level, ef, admit, strict, exclude)
}

// searchLayerFrom is searchLayer starting from several entry points.
func (g *Graph) searchLayerFrom(c *searchCtx, s *scorer, eps []item, level, ef int, admit func(uint32) bool, strict bool, exclude uint32) {
	c.vis.reset(len(g.ext))
	marks, gen := c.vis.marks, c.vis.gen
	if exclude != none {
		marks[exclude] = gen
	}
	cand, res := c.cand[:0], c.res[:0]
	lower := float32(math.Inf(1))
	for _, ep := range eps {
		if marks[ep.id] == gen {
			continue
		}
		marks[ep.id] = gen
		cand.push(ep)
		if admit == nil || admit(ep.id) {
			res.push(ep)
			if len(res) > ef {
				res.pop()
			}
			lower = res[0].d
		}
	}
	for len(cand) > 0 {
		cur := cand.pop()
		if cur.d > lower && (len(res) >= ef || !strict) {
			break
		}
		if len(cand) > 0 {
			// Most likely the next node expanded: start loading its list.
			prefetchLinks(g.rec(cand[0].id, level))
		}
		ns := g.unvisited(c, cur.id, level, marks, gen)
		ds := s.dists(c, ns)
		for j, n := range ns {
			d := ds[j]
			if len(res) < ef || d < lower {
				cand.push(item{d, n})
				if admit == nil || admit(n) {
					res.push(item{d, n})
					if len(res) > ef {
						res.pop()
					}
					lower = res[0].d
				}
			}
		}
	}
	c.cand, c.res = cand, res
}

// heuristic is hnswlib's getNeighborsByHeuristic2: from cands (sorted by
// distance to the base, ascending) keep a candidate only if it is closer to
// the base than to every candidate already kept, up to m.
func (g *Graph) heuristic(cands []item, m int, out []item) []item {
	out = out[:0]
	if len(cands) <= m {
		return append(out, cands...)
	}
	for _, e := range cands {
		if len(out) >= m {
			break
		}
		ev := g.fvec(e.id)
		good := true
		for _, r := range out {
			if 1-dot(ev, g.fvec(r.id)) < e.d {
				good = false
				break
			}
		}
		if good {
			out = append(out, e)
		}
	}
	return out
}

func byDist(a, b item) int { return cmp.Compare(a.d, b.d) }

// connect links node i at level to a heuristic selection from c.res and
// updates the selected neighbours' lists. It returns the closest selected
// node.
func (g *Graph) connect(c *searchCtx, i uint32, level int) item {
	cands := append(c.tmp[:0], c.res...)
	slices.SortFunc(cands, byDist)
	c.tmp = cands
	sel := g.heuristic(cands, g.m, c.sel)
	c.sel = sel
	mmax := g.m
	if level == 0 {
		mmax = g.m0
	}
	l := g.lock(i)
	l.Lock()
	r := g.rec(i, level)
	own := sel
	if r[0] > 0 {
		// Nodes inserted concurrently already linked themselves here
		// (i was reachable through an upper level): keep them.
		iv := g.fvec(i)
		own = append(c.batch2[:0], sel...)
		for _, x := range r[1 : 1+r[0]] {
			if !slices.ContainsFunc(sel, func(e item) bool { return e.id == x }) {
				own = append(own, item{1 - dot(iv, g.fvec(x)), x})
			}
		}
		slices.SortFunc(own, byDist)
		c.batch2 = own
		if len(own) > mmax {
			own = g.heuristic(own, mmax, c.sel2)
			c.sel2 = own
		}
	}
	setLinks(r, own)
	l.Unlock()
	linked := false
	for _, s := range sel {
		linked = g.linkBack(c, s, i, level, mmax) || linked
	}
	if !linked {
		// Every selected neighbour pruned i away, so nothing links to
		// it at this level and searches could never reach it (rare, but
		// more likely when nodes nearby are inserted concurrently). Try
		// the next candidates until one keeps it.
		tries := 0
		for _, e := range cands {
			if tries == mmax {
				break
			}
			if slices.ContainsFunc(sel, func(x item) bool { return x.id == e.id }) {
				continue
			}
			tries++
			if g.linkBack(c, e, i, level, mmax) {
				break
			}
		}
	}
	return sel[0]
}

// linkBack adds i (at distance s.d) to node s.id's list at level, pruning
// the list with the heuristic when it is full. It reports whether the
// list holds i afterwards.
func (g *Graph) linkBack(c *searchCtx, s item, i uint32, level, mmax int) bool {
	l := g.lock(s.id)
	l.Lock()
	defer l.Unlock()
	r := g.rec(s.id, level)
	n := int(r[0])
	if slices.Contains(r[1:1+n], i) {
		return true
	}
	if n < mmax {
		atomic.StoreUint32(&r[1+n], i)
		atomic.StoreUint32(&r[0], uint32(n+1))
		return true
	}
	sv := g.fvec(s.id)
	nc := append(c.batch2[:0], item{s.d, i})
	for _, nb := range r[1 : 1+n] {
		nc = append(nc, item{1 - dot(sv, g.fvec(nb)), nb})
	}
	slices.SortFunc(nc, byDist)
	c.batch2 = nc
	kept := g.heuristic(nc, mmax, c.sel2)
	c.sel2 = kept
	setLinks(r, kept)
	return slices.ContainsFunc(kept, func(x item) bool { return x.id == i })
}

// insert links the allocated node i into the graph. Caller holds mu
// (shared).
func (g *Graph) insert(c *searchCtx, i uint32) {
	L := int(g.levels[i])
	g.topMu.Lock()
	g.epMu.RLock()
	ep, maxL := g.entry, g.maxLevel
	g.epMu.RUnlock()
	if ep == none {
		g.epMu.Lock()
		g.entry, g.maxLevel = i, L
		g.epMu.Unlock()
		g.topMu.Unlock()
		return
	}
	top := L > maxL
	if !top {
		g.topMu.Unlock()
	}
	var admit func(uint32) bool // nil: every node (no tombstones)
	if g.ndel.Load() > 0 {
		admit = g.isLive
	}
	s := scorer{g: g, q: g.fvec(i)}
	cur := item{s.dist(ep), ep}
	for lc := maxL; lc > L; lc-- {
		cur = g.greedy(c, &s, cur, lc)
	}
	for lc := min(L, maxL); lc >= 0; lc-- {
		g.searchLayer(c, &s, cur, lc, g.o.EfConstruction, admit, true, i)
		if len(c.res) < 2 && cur.id != ep {
			// Stuck: cur is most likely a node inserted concurrently
			// that has no links at this level yet. Search from the entry
			// point too, so i does not hang on cur alone.
			seeds := []item{cur, {s.dist(ep), ep}}
			g.searchLayerFrom(c, &s, seeds, lc, g.o.EfConstruction, admit, true, i)
		}
		if len(c.res) == 0 && admit != nil {
			// Every node reachable here is deleted. Link i to the
			// tombstones, which searches still traverse (and Compact
			// relinks through), rather than leave it with no links:
			// nothing could ever reach it, nor the nodes later linked
			// only to it.
			g.searchLayer(c, &s, cur, lc, g.o.EfConstruction, nil, true, i)
		}
		if len(c.res) > 0 {
			cur = g.connect(c, i, lc)
		}
	}
	if top {
		g.epMu.Lock()
		g.entry, g.maxLevel = i, L
		g.epMu.Unlock()
		g.topMu.Unlock()
	}
}

// reserve marks ids as in flight, failing with ErrDuplicate if any is
// present or in flight (or repeated within ids).
func (g *Graph) reserve(ids []uint64) error {
	g.idMu.Lock()
	defer g.idMu.Unlock()
	for j, id := range ids {
		_, in := g.ids.get(g.ext, id)
		_, pend := g.pending[id]
		if in || pend {
			for _, r := range ids[:j] {
				delete(g.pending, r)
			}
			return fmt.Errorf("%w: %d", ErrDuplicate, id)
		}
		g.pending[id] = struct{}{}
	}
	return nil
}

func (g *Graph) unreserve(ids []uint64) {
	g.idMu.Lock()
	for _, id := range ids {
		delete(g.pending, id)
	}
	g.idMu.Unlock()
}

// grow makes room for need slots. Caller holds mu and idMu exclusively.
func (g *Graph) grow(need int) {
	c := len(g.ext)
	if need <= c {
		return
	}
	nc := max(need, 1024, c+c/2)
	if c < 1<<16 {
		nc = max(nc, 2*c)
	}
	g.vecs = growTo(g.vecs, (nc-int(g.nbase))*g.dim)
	if g.o.Quantization == QuantInt8 {
		g.codes = growTo(g.codes, nc*g.dim)
	}
	g.links0 = growTo(g.links0, nc*g.s0)
	g.upOff = growTo(g.upOff, nc)
	g.levels = growTo(g.levels, nc)
	g.dead = growTo(g.dead, (nc+31)/32)
	g.ext = growTo(g.ext, nc)
}

func growTo[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	out := makeHuge[T](n)
	copy(out, s)
	return out
}

// hugeMin is the size from which arrays ask for transparent huge pages.
const hugeMin = 4 << 20

// makeHuge is make([]T, n), asking for huge pages if the array is large.
func makeHuge[T any](n int) []T {
	s := make([]T, n)
	if b := n * int(unsafe.Sizeof(*new(T))); b >= hugeMin {
		adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), b)
	}
	return s
}

func (g *Graph) randomLevel() uint8 {
	l := int(-math.Log(1-g.rng.Float64()) * g.mult)
	return uint8(min(l, maxLevelCap))
}

// allocate stores reserved ids and their unit vectors in new slots,
// publishes them in the id map and returns the first slot. The nodes are
// not yet linked into the graph.
func (g *Graph) allocate(ids []uint64, vs [][]float32) uint32 {
	n := len(ids)
	g.idMu.Lock()
	levels := make([]uint8, n)
	words := 0
	for j := range levels {
		levels[j] = g.randomLevel()
		words += int(levels[j]) * g.s1
	}
	if int(g.count.Load())+n > len(g.ext) || g.upLen+words > len(g.upData) {
		g.idMu.Unlock()
		g.mu.Lock()
		g.idMu.Lock()
		g.grow(int(g.count.Load()) + n)
		if need := g.upLen + words; need > len(g.upData) {
			g.upData = growTo(g.upData, max(need, 1024, len(g.upData)+len(g.upData)/2))
		}
		g.mu.Unlock()
	}
	first := g.count.Load()
	for j, id := range ids {
		i := first + uint32(j)
		copy(g.vecs[int(i-g.nbase)*g.dim:], vs[j])
		if g.quant != nil {
			g.quant.encode(vs[j], g.codes[int(i)*g.dim:int(i+1)*g.dim])
		}
		g.ext[i] = id
		L := levels[j]
		g.levels[i] = L
		if L > 0 {
			g.upOff[i] = uint32(g.upLen)
			g.upLen += int(L) * g.s1
		}
		g.ids.put(g.ext, id, i)
		delete(g.pending, id)
	}
	g.count.Store(first + uint32(n))
	g.idMu.Unlock()
	return first
}

// insertRange links slots first..first+n-1 using all cores.
func (g *Graph) insertRange(first uint32, n int) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			c := g.getCtx()
			defer g.putCtx(c)
			for {
				j := next.Add(1) - 1
				if j >= int64(n) {
					return
				}
				g.mu.RLock()
				g.insert(c, first+uint32(j))
				g.mu.RUnlock()
			}
		})
	}
	wg.Wait()
}

// maybeTrain trains the int8 quantiser once enough vectors are stored.
func (g *Graph) maybeTrain() {
	if g.o.Quantization != QuantInt8 || g.trained.Load() || int(g.count.Load()) < g.o.TrainSize {
		return
	}
	g.mu.Lock()
	g.idMu.Lock()
	defer g.mu.Unlock()
	defer g.idMu.Unlock()
	if g.quant != nil {
		return
	}
	g.trainLocked()
}

// trainLocked trains on the first TrainSize slots and encodes every slot.
// Caller holds mu and idMu exclusively.
func (g *Graph) trainLocked() {
	n := int(g.count.Load())
	q := trainQuantizer(g.dim, min(n, g.o.TrainSize), func(i int) []float32 { return g.fvec(uint32(i)) })
	for i := range n {
		q.encode(g.fvec(uint32(i)), g.codes[i*g.dim:(i+1)*g.dim])
	}
	g.quant = q
	g.trained.Store(true)
	g.o.Logger.Info("hnsw: int8 quantiser trained", "vectors", min(n, g.o.TrainSize))
}

// Add inserts v under id. v is normalised to unit length; it must have
// Options.Dim finite components, not all zero. On a persistent Graph, Add
// returns after the operation is durable in the write-ahead log.
func (g *Graph) Add(id uint64, v []float32) error {
	return g.AddBatch(context.Background(), []uint64{id}, [][]float32{v})
}

// AddBatch inserts vs[j] under ids[j] for every j, linking them into the
// graph on all cores. Either every vector is validated and logged (one
// fsync for the batch) or none is added. On an in-memory Graph ctx
// cancellation stops the insertion between chunks of 4096 vectors, and
// the vectors not yet inserted are not added; once a persistent batch is
// logged it is always inserted completely.
func (g *Graph) AddBatch(ctx context.Context, ids []uint64, vs [][]float32) error {
	if g.closed.Load() {
		return ErrClosed
	}
	if len(ids) != len(vs) {
		return fmt.Errorf("%w: %d ids but %d vectors", ErrOptions, len(ids), len(vs))
	}
	if len(ids) == 0 {
		return nil
	}
	units := make([][]float32, len(vs))
	for j, v := range vs {
		u, err := g.prepare(v)
		if err != nil {
			return fmt.Errorf("add id %d: %w", ids[j], err)
		}
		units[j] = u
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	g.applyMu.RLock()
	defer g.applyMu.RUnlock()
	if g.closed.Load() {
		return ErrClosed
	}
	if err := g.reserve(ids); err != nil {
		return err
	}
	if g.st != nil {
		if err := g.st.logAdds(ids, units); err != nil {
			g.unreserve(ids)
			return err
		}
	}
	for s := 0; s < len(ids); s += insertChunk {
		if g.st == nil && s > 0 {
			if err := ctx.Err(); err != nil {
				g.unreserve(ids[s:])
				return err
			}
		}
		e := min(s+insertChunk, len(ids))
		first := g.allocate(ids[s:e], units[s:e])
		if e-s == 1 {
			c := g.getCtx()
			g.mu.RLock()
			g.insert(c, first)
			g.mu.RUnlock()
			g.putCtx(c)
		} else {
			g.insertRange(first, e-s)
		}
		g.maybeTrain()
	}
	if g.st != nil {
		g.st.maybeSnapshot(g)
	}
	return nil
}

// Delete removes id. Its node stays in the graph as a tombstone, still
// traversed but never returned, until Compact repairs its neighbours'
// lists and reclaims the space.
func (g *Graph) Delete(id uint64) error {
	if g.closed.Load() {
		return ErrClosed
	}
	g.applyMu.RLock()
	defer g.applyMu.RUnlock()
	if g.closed.Load() {
		return ErrClosed
	}
	g.idMu.Lock()
	_, ok := g.ids.get(g.ext, id)
	_, pend := g.pending[id]
	if !ok || pend {
		g.idMu.Unlock()
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	g.pending[id] = struct{}{}
	g.idMu.Unlock()
	if g.st != nil {
		if err := g.st.logDelete(id); err != nil {
			g.unreserve([]uint64{id})
			return err
		}
	}
	g.applyDelete(id)
	if g.st != nil {
		g.st.maybeSnapshot(g)
	}
	return nil
}

// applyDelete tombstones id (which must be present).
func (g *Graph) applyDelete(id uint64) bool {
	g.idMu.Lock()
	defer g.idMu.Unlock()
	delete(g.pending, id)
	i, ok := g.ids.get(g.ext, id)
	if !ok {
		return false
	}
	g.ids.del(g.ext, id)
	g.markDead(i)
	g.ndel.Add(1)
	return true
}

// Contains reports whether id is present.
func (g *Graph) Contains(id uint64) bool {
	g.idMu.Lock()
	defer g.idMu.Unlock()
	_, ok := g.ids.get(g.ext, id)
	return ok
}

// Len returns the number of live vectors.
func (g *Graph) Len() int {
	g.idMu.Lock()
	defer g.idMu.Unlock()
	return g.ids.Len()
}

// Vector returns a copy of the stored (unit-normalised) vector of id.
func (g *Graph) Vector(id uint64) ([]float32, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed.Load() {
		return nil, false
	}
	g.idMu.Lock()
	i, ok := g.ids.get(g.ext, id)
	g.idMu.Unlock()
	if !ok {
		return nil, false
	}
	return slices.Clone(g.fvec(i)), true
}

// Stats reports sizes and memory use.
func (g *Graph) Stats() Stats {
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.epMu.RLock()
	maxL := g.maxLevel
	g.epMu.RUnlock()
	n := int(g.count.Load())
	s := Stats{
		Len:          g.Len(),
		Deleted:      int(g.ndel.Load()),
		Dim:          g.dim,
		M:            g.m,
		MaxLevel:     maxL,
		Quantization: g.o.Quantization,
		Trained:      g.trained.Load(),
	}
	if g.st != nil {
		s.WALBytes = g.st.walSize()
	}
	if n == 0 {
		return s
	}
	g.idMu.Lock()            // upLen and the id table change under idMu
	upper := 4*n + 4*g.upLen // offsets and records
	idTable := g.ids.bytes()
	g.idMu.Unlock()
	links := n*g.s0*4 + upper + n + 4*((n+31)/32) // lists, levels, tombstone bits
	s.LinkBytesPerVector = float64(links) / float64(n)
	s.GraphBytesPerVector = float64(links+8*n+idTable) / float64(n) // + ext ids, id table
	if g.o.Quantization == QuantInt8 {
		s.CodeBytesPerVector = float64(g.dim)
	}
	ram := n - int(min(g.nbase, uint32(n)))
	s.FloatBytesPerVector = float64(ram*g.dim*4) / float64(n)
	s.MappedFloatBytesPerVector = float64((n-ram)*g.dim*4) / float64(n)
	return s
}
