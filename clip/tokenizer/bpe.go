package tokenizer

import (
	"math"
	"strings"
	"sync"
)

// pieceCacheSize bounds the number of cached pieces per Tokenizer.
const pieceCacheSize = 1 << 14

// maxCachedPiece is the longest piece (in bytes) that is cached.
const maxCachedPiece = 64

// pieceCache maps pieces to their BPE ids. When it is full it is emptied,
// which bounds its memory and lets it follow a changing stream of texts.
type pieceCache struct {
	mu  sync.RWMutex
	m   map[string][]int
	max int
}

func newPieceCache(max int) *pieceCache {
	return &pieceCache{m: make(map[string][]int), max: max}
}

func (c *pieceCache) get(piece string) ([]int, bool) {
	c.mu.RLock()
	ids, ok := c.m[piece]
	c.mu.RUnlock()
	return ids, ok
}

func (c *pieceCache) put(piece string, ids []int) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[strings.Clone(piece)] = ids // the piece may pin a long text
	c.mu.Unlock()
}

// appendPiece appends the BPE ids of one pre-tokenized piece to out.
func (t *Tokenizer) appendPiece(out []int, piece string) []int {
	if len(piece) > maxCachedPiece {
		return t.bpe(out, piece)
	}
	if ids, ok := t.cache.get(piece); ok {
		return append(out, ids...)
	}
	n := len(out)
	out = t.bpe(out, piece)
	t.cache.put(piece, append([]int(nil), out[n:]...))
	return out
}

// symbols returns the initial symbol ids of a piece: one per byte, the last
// one with "</w>". A byte missing from the vocabulary becomes the unk id, or
// is dropped without one.
func (t *Tokenizer) symbols(piece string) []int32 {
	syms := make([]int32, 0, len(piece))
	for i := 0; i < len(piece); i++ {
		id := t.byteID[piece[i]]
		if i == len(piece)-1 {
			id = t.byteEndID[piece[i]]
		}
		if id < 0 {
			if t.unk < 0 {
				continue
			}
			id = int32(t.unk)
		}
		syms = append(syms, id)
	}
	return syms
}

// smallPiece is the symbol count up to which bpe uses the quadratic merge
// loop, which beats the heap on short pieces.
const smallPiece = 48

// bpe appends the ids of piece after byte-level BPE to out. Both merge loops
// repeatedly merge the adjacent pair with the lowest merge rank, the
// leftmost one among equals, until no pair has a rank; they differ only in
// speed.
func (t *Tokenizer) bpe(out []int, piece string) []int {
	syms := t.symbols(piece)
	if len(syms) <= smallPiece {
		syms = t.mergeSmall(syms)
	} else {
		syms = t.mergeHeap(syms)
	}
	for _, id := range syms {
		out = append(out, int(id))
	}
	return out
}

const noRank = math.MaxInt32

// rankOf returns the merge of the pair (a, b), with rank noRank if none.
func (t *Tokenizer) rankOf(a, b int32) merge {
	if m, ok := t.merges[pairKey(a, b)]; ok {
		return m
	}
	return merge{rank: noRank}
}

// mergeSmall merges in place, keeping the merge of each adjacent pair.
func (t *Tokenizer) mergeSmall(syms []int32) []int32 {
	if len(syms) < 2 {
		return syms
	}
	var buf [smallPiece]merge
	pairs := buf[:0] // pairs[i]: merge of syms[i], syms[i+1]
	if len(syms)-1 > len(buf) {
		pairs = make([]merge, 0, len(syms)-1)
	}
	pairs = pairs[:len(syms)-1]
	for i := range pairs {
		pairs[i] = t.rankOf(syms[i], syms[i+1])
	}
	for len(pairs) > 0 {
		best := 0
		for i := 1; i < len(pairs); i++ {
			if pairs[i].rank < pairs[best].rank {
				best = i
			}
		}
		if pairs[best].rank == noRank {
			break
		}
		syms[best] = pairs[best].id
		syms = append(syms[:best+1], syms[best+2:]...)
		pairs = append(pairs[:best], pairs[best+1:]...)
		if best > 0 {
			pairs[best-1] = t.rankOf(syms[best-1], syms[best])
		}
		if best < len(pairs) {
			pairs[best] = t.rankOf(syms[best], syms[best+1])
		}
	}
	return syms
}

// heapEntry is a candidate merge of the symbol at pos with its right
// neighbour.
type heapEntry struct{ rank, pos int32 }

func (a heapEntry) less(b heapEntry) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// mergeHeap merges with a priority queue of candidate pairs, in
// O(n log n) for long pieces. Symbols keep their original index; merged-away
// symbols are unlinked. Entries whose pair has changed since they were pushed
// are skipped when popped.
func (t *Tokenizer) mergeHeap(syms []int32) []int32 {
	n := len(syms)
	if n < 2 {
		return syms
	}
	prev := make([]int32, n)
	next := make([]int32, n)
	for i := range syms {
		prev[i], next[i] = int32(i-1), int32(i+1)
	}
	next[n-1] = -1
	var h []heapEntry
	push := func(e heapEntry) {
		h = append(h, e)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !h[i].less(h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() heapEntry {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && h[l].less(h[m]) {
				m = l
			}
			if r < len(h) && h[r].less(h[m]) {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
		return top
	}
	for i := 0; i+1 < n; i++ {
		if m := t.rankOf(syms[i], syms[i+1]); m.rank != noRank {
			push(heapEntry{m.rank, int32(i)})
		}
	}
	const dead = -1
	for len(h) > 0 {
		e := pop()
		p := e.pos
		if syms[p] == dead || next[p] < 0 {
			continue
		}
		q := next[p]
		m := t.rankOf(syms[p], syms[q])
		if m.rank != e.rank { // stale: ranks identify pairs uniquely
			continue
		}
		syms[p] = m.id
		syms[q] = dead
		next[p] = next[q]
		if next[p] >= 0 {
			prev[next[p]] = p
			if m2 := t.rankOf(syms[p], syms[next[p]]); m2.rank != noRank {
				push(heapEntry{m2.rank, p})
			}
		}
		if prev[p] >= 0 {
			if m2 := t.rankOf(syms[prev[p]], syms[p]); m2.rank != noRank {
				push(heapEntry{m2.rank, prev[p]})
			}
		}
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}
