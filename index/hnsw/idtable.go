package hnsw

// idTable maps external ids to node slots in about 5–11 bytes per id
// (a Go map[uint64]uint32 takes 18–37): an open-addressing table with
// linear probing whose entries are slot+1 (0 = empty), the key of an entry
// being read from the ext array. Every method takes that array, which must
// hold ext[slot] == id for every id in the table. Not safe for concurrent
// use (Graph guards it with idMu).
type idTable struct {
	tab []uint32
	n   int
}

const idTableMinSize = 64

func idHash(id uint64) uint64 {
	id ^= id >> 33
	id *= 0xff51afd7ed558ccd
	id ^= id >> 33
	id *= 0xc4ceb9fe1a85ec53
	return id ^ id>>33
}

// Len returns the number of ids.
func (t *idTable) Len() int { return t.n }

// bytes returns the table's size in bytes.
func (t *idTable) bytes() int { return 4 * len(t.tab) }

// find returns the position of id, or of the empty entry ending its probe
// sequence, and whether id was found.
func (t *idTable) find(ext []uint64, id uint64) (int, bool) {
	if len(t.tab) == 0 {
		return -1, false
	}
	mask := len(t.tab) - 1
	p := int(idHash(id)) & mask
	for {
		e := t.tab[p]
		if e == 0 {
			return p, false
		}
		if ext[e-1] == id {
			return p, true
		}
		p = (p + 1) & mask
	}
}

// get returns the slot of id.
func (t *idTable) get(ext []uint64, id uint64) (uint32, bool) {
	p, ok := t.find(ext, id)
	if !ok {
		return 0, false
	}
	return t.tab[p] - 1, true
}

// put maps id (= ext[slot], not present) to slot.
func (t *idTable) put(ext []uint64, id uint64, slot uint32) {
	if 4*(t.n+1) > 3*len(t.tab) { // load factor at most 3/4
		t.resize(ext, max(idTableMinSize, 2*len(t.tab)))
	}
	p, _ := t.find(ext, id)
	t.tab[p] = slot + 1
	t.n++
}

// reserve sizes the table for n ids.
func (t *idTable) reserve(ext []uint64, n int) {
	size := idTableMinSize
	for 3*size < 4*n {
		size *= 2
	}
	if size > len(t.tab) {
		t.resize(ext, size)
	}
}

func (t *idTable) resize(ext []uint64, size int) {
	old := t.tab
	t.tab = make([]uint32, size)
	mask := size - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		p := int(idHash(ext[e-1])) & mask
		for t.tab[p] != 0 {
			p = (p + 1) & mask
		}
		t.tab[p] = e
	}
}

// del removes id, shifting later entries of its cluster back so no probe
// sequence is broken (no tombstones needed). It reports whether id was
// present.
func (t *idTable) del(ext []uint64, id uint64) bool {
	i, ok := t.find(ext, id)
	if !ok {
		return false
	}
	mask := len(t.tab) - 1
	for j := i; ; {
		t.tab[i] = 0
		for {
			j = (j + 1) & mask
			e := t.tab[j]
			if e == 0 {
				t.n--
				return true
			}
			home := int(idHash(ext[e-1])) & mask
			// The entry at j may move to i unless its home lies
			// cyclically in (i, j].
			if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
				t.tab[i] = e
				i = j
				break
			}
		}
	}
}

// reset empties the table.
func (t *idTable) reset() { t.tab, t.n = nil, 0 }
