package hnsw

import (
	"context"
	"slices"
)

// Compact removes tombstones: every live node that linked to a deleted node
// gets its list rebuilt by the neighbour heuristic from its live neighbours
// and the live neighbours of its deleted neighbours, then the nodes are
// renumbered densely and the memory of deleted vectors is released. It
// blocks writers and readers while it runs. On a persistent Graph it ends
// with a Snapshot.
func (g *Graph) Compact(ctx context.Context) error {
	if g.closed.Load() {
		return ErrClosed
	}
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	if err := g.compactLocked(ctx); err != nil {
		return err
	}
	if g.st != nil {
		return g.st.snapshot(g)
	}
	return nil
}

func (g *Graph) compactLocked(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.idMu.Lock()
	defer g.idMu.Unlock()
	if g.ndel.Load() == 0 {
		return nil
	}
	n := int(g.count.Load())
	// Repair lists that point at tombstones.
	c := g.getCtx()
	defer g.putCtx(c)
	seen := make(map[uint32]struct{})
	for i := range n {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		u := uint32(i)
		if !g.isLive(u) {
			continue
		}
		for level := 0; level <= int(g.levels[u]); level++ {
			g.repair(c, u, level, seen)
		}
	}
	// Renumber.
	remap := make([]uint32, n)
	live := 0
	for i := range n {
		if g.isLive(uint32(i)) {
			remap[i] = uint32(live)
			live++
		} else {
			remap[i] = none
		}
	}
	nc := max(live, 1024)
	vecs := makeHuge[float32](nc * g.dim)
	var codes []uint8
	if g.o.Quantization == QuantInt8 {
		codes = makeHuge[uint8](nc * g.dim)
	}
	links0 := makeHuge[uint32](nc * g.s0)
	upOff := make([]uint32, nc)
	var upData []uint32
	levels := make([]uint8, nc)
	dead := make([]uint32, (nc+31)/32)
	ext := make([]uint64, nc)
	entry, maxL := none, 0
	for i := range n {
		j := remap[i]
		if j == none {
			continue
		}
		u := uint32(i)
		copy(vecs[int(j)*g.dim:], g.fvec(u))
		if codes != nil {
			copy(codes[int(j)*g.dim:(int(j)+1)*g.dim], g.codes[i*g.dim:(i+1)*g.dim])
		}
		levels[j] = g.levels[u]
		ext[j] = g.ext[u]
		if L := int(levels[j]); L > 0 {
			upOff[j] = uint32(len(upData))
			upData = append(upData, make([]uint32, L*g.s1)...)
		}
		for level := 0; level <= int(levels[j]); level++ {
			var dst []uint32
			if level == 0 {
				dst = links0[int(j)*g.s0 : int(j+1)*g.s0]
			} else {
				o := int(upOff[j]) + (level-1)*g.s1
				dst = upData[o : o+g.s1]
			}
			src := g.rec(u, level)
			k := 0
			for _, nb := range src[1 : 1+src[0]] {
				if r := remap[nb]; r != none {
					dst[1+k] = r
					k++
				}
			}
			dst[0] = uint32(k)
		}
		if entry == none || int(levels[j]) > maxL {
			entry, maxL = j, int(levels[j])
		}
	}
	g.vecs, g.fbase, g.nbase = vecs, nil, 0
	g.codes, g.links0, g.upOff, g.levels, g.dead, g.ext = codes, links0, upOff, levels, dead, ext
	g.upData, g.upLen = upData, len(upData)
	g.count.Store(uint32(live))
	g.ndel.Store(0)
	g.ids.reset()
	g.ids.reserve(g.ext, live)
	for j := range uint32(live) {
		g.ids.put(g.ext, g.ext[j], j)
	}
	if g.entry != none && remap[g.entry] != none && int(g.levels[remap[g.entry]]) == maxL {
		entry = remap[g.entry]
	}
	g.epMu.Lock()
	g.entry, g.maxLevel = entry, maxL
	g.epMu.Unlock()
	if g.st != nil {
		g.st.unmap()
	}
	g.o.Logger.Info("hnsw: compacted", "removed", n-live, "live", live)
	return nil
}

// repair rebuilds u's list at level if it references tombstones. Caller
// holds mu exclusively.
func (g *Graph) repair(c *searchCtx, u uint32, level int, seen map[uint32]struct{}) {
	r := g.rec(u, level)
	nbs := r[1 : 1+r[0]]
	dirty := false
	for _, nb := range nbs {
		if !g.isLive(nb) {
			dirty = true
			break
		}
	}
	if !dirty {
		return
	}
	clear(seen)
	seen[u] = struct{}{}
	uv := g.fvec(u)
	cands := c.tmp[:0]
	add := func(x uint32) {
		if _, ok := seen[x]; ok || !g.isLive(x) {
			return
		}
		seen[x] = struct{}{}
		cands = append(cands, item{1 - dot(uv, g.fvec(x)), x})
	}
	for _, nb := range nbs {
		if g.isLive(nb) {
			add(nb)
			continue
		}
		r2 := g.rec(nb, level)
		for _, x := range r2[1 : 1+r2[0]] {
			if g.isLive(x) {
				add(x)
				continue
			}
			// Two tombstones in a row: look one hop further.
			r3 := g.rec(x, level)
			for _, y := range r3[1 : 1+r3[0]] {
				add(y)
			}
		}
	}
	slices.SortFunc(cands, byDist)
	mmax := g.m
	if level == 0 {
		mmax = g.m0
	}
	kept := g.heuristic(cands, mmax, c.sel)
	r[0] = uint32(len(kept))
	for j, k := range kept {
		r[1+j] = k.id
	}
	c.tmp, c.sel = cands, kept
}
