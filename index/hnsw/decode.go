package hnsw

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"unsafe"
)

// decodeSnapshot verifies every checksum and structural invariant of a
// snapshot image b and builds the Graph. With canMap, an int8 Graph keeps
// its float vectors in b (which must then stay mapped); otherwise they are
// copied. It never panics on malformed input.
func decodeSnapshot(path string, b []byte, raw Options, canMap bool) (*Graph, uint64, error) {
	le := binary.LittleEndian
	if len(b) < snapHeaderLen {
		return nil, 0, corruptf(path, "truncated: %d bytes, header needs %d", len(b), snapHeaderLen)
	}
	h := b[:snapHeaderLen]
	if string(h[:8]) != snapMagic {
		return nil, 0, corruptf(path, "bad magic %q", h[:8])
	}
	if le.Uint32(h[hdrCRCOff:]) != crc32.Checksum(h[:hdrCRCOff], castagnoli) {
		return nil, 0, corruptf(path, "header checksum mismatch")
	}
	if v := le.Uint32(h[8:]); v != snapVersion {
		return nil, 0, corruptf(path, "unsupported version %d", v)
	}
	dim, m := int(le.Uint32(h[12:])), int(le.Uint32(h[16:]))
	efc := int(le.Uint32(h[20:]))
	quant := Quant(le.Uint32(h[24:]))
	n := uint64(le.Uint32(h[28:]))
	entry := le.Uint32(h[32:])
	maxL := int(le.Uint32(h[36:]))
	gen := le.Uint64(h[40:])
	trained := le.Uint32(h[48:]) == 1
	if dim <= 0 || dim > 1<<16 || m < 2 || m > 1024 || quant > QuantInt8 || maxL > maxLevelCap || efc < 1 {
		return nil, 0, corruptf(path, "implausible header (dim %d, M %d, quant %d, max level %d)", dim, m, quant, maxL)
	}
	if n >= uint64(none) || (n == 0) != (entry == none) || (n > 0 && uint64(entry) >= n) {
		return nil, 0, corruptf(path, "implausible node count %d or entry point %d", n, entry)
	}
	o := raw
	if err := matchOptions(path, &o, dim, m, quant); err != nil {
		return nil, 0, err
	}
	if raw.EfConstruction == 0 {
		o.EfConstruction = efc
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, 0, err
	}
	g := newGraph(o)
	s0, s1 := uint64(g.s0), uint64(g.s1)
	ud := uint64(dim)

	var secs [nSections]section
	for i := range secs {
		e := h[secTable+i*secEntry:]
		secs[i] = section{off: le.Uint64(e), n: le.Uint64(e[8:]), crc: le.Uint32(e[16:])}
		s := secs[i]
		if s.off < snapHeaderLen || s.off > uint64(len(b)) || s.n > uint64(len(b))-s.off {
			return nil, 0, corruptf(path, "%s section [%d,+%d) outside the %d-byte file (truncated?)", secNames[i], s.off, s.n, len(b))
		}
		if s.off%8 != 0 {
			return nil, 0, corruptf(path, "%s section misaligned", secNames[i])
		}
	}
	want := map[int]uint64{secIDs: 8 * n, secNodes: 2 * n, secLinks0: 4 * n * s0, secVectors: 4 * n * ud}
	if trained {
		want[secQuant] = 8*ud + n*ud
	} else {
		want[secQuant] = 0
	}
	for i, w := range want {
		if secs[i].n != w {
			return nil, 0, corruptf(path, "%s section has %d bytes, want %d", secNames[i], secs[i].n, w)
		}
	}
	if secs[secVectors].off%vecAlign != 0 {
		return nil, 0, corruptf(path, "vector section misaligned")
	}
	for i, s := range secs {
		if crc32.Checksum(b[s.off:s.off+s.n], castagnoli) != s.crc {
			return nil, 0, corruptf(path, "%s section checksum mismatch", secNames[i])
		}
	}
	sec := func(i int) []byte { return b[secs[i].off : secs[i].off+secs[i].n] }

	// Node metadata.
	nodes := sec(secNodes)
	var upperWords uint64
	for i := range n {
		l, f := nodes[2*i], nodes[2*i+1]
		if int(l) > maxL || f > flagDeleted {
			return nil, 0, corruptf(path, "node %d: level %d (max %d) or flags %d invalid", i, l, maxL, f)
		}
		upperWords += uint64(l) * s1
	}
	if n > 0 && int(nodes[2*entry]) != maxL {
		return nil, 0, corruptf(path, "entry point level %d differs from max level %d", nodes[2*entry], maxL)
	}
	if secs[secUpper].n != 4*upperWords {
		return nil, 0, corruptf(path, "upper section has %d bytes, want %d", secs[secUpper].n, 4*upperWords)
	}

	nn := int(n)
	cp := max(nn, 1024)
	g.levels = make([]uint8, cp)
	g.dead = make([]uint32, (cp+31)/32)
	g.ext = makeHuge[uint64](cp)
	g.upOff = make([]uint32, cp)
	g.upData = make([]uint32, max(upperWords, 1024))
	g.upLen = int(upperWords)
	g.links0 = makeHuge[uint32](cp * g.s0)
	idb := sec(secIDs)
	g.ids.reserve(g.ext, nn)
	var ndel int64
	for i := range nn {
		g.levels[i] = nodes[2*i]
		g.ext[i] = le.Uint64(idb[8*i:])
		if nodes[2*i+1]&flagDeleted != 0 {
			g.markDead(uint32(i))
			ndel++
			continue
		}
		if _, dup := g.ids.get(g.ext, g.ext[i]); dup {
			return nil, 0, corruptf(path, "id %d stored twice", g.ext[i])
		}
		g.ids.put(g.ext, g.ext[i], uint32(i))
	}
	g.ndel.Store(ndel)
	checkRec := func(r []uint32, level int, mmax int) bool {
		if int(r[0]) > mmax {
			return false
		}
		for _, x := range r[1 : 1+r[0]] {
			if uint64(x) >= n || int(g.levels[x]) < level {
				return false
			}
		}
		return true
	}
	l0 := sec(secLinks0)
	if nativeLE {
		copy(bytesOf(g.links0), l0)
	} else {
		for i := range nn * g.s0 {
			g.links0[i] = le.Uint32(l0[4*i:])
		}
	}
	for i := range nn {
		if !checkRec(g.links0[i*g.s0:(i+1)*g.s0], 0, g.m0) {
			return nil, 0, corruptf(path, "node %d: invalid level-0 neighbour list", i)
		}
	}
	up := sec(secUpper)
	off := 0
	for i := range nn {
		L := int(g.levels[i])
		if L == 0 {
			continue
		}
		g.upOff[i] = uint32(off / 4)
		u := g.upData[off/4 : off/4+L*g.s1]
		for j := range u {
			u[j] = le.Uint32(up[off+4*j:])
		}
		off += 4 * len(u)
		for l := 1; l <= L; l++ {
			if !checkRec(u[(l-1)*g.s1:l*g.s1], l, g.m) {
				return nil, 0, corruptf(path, "node %d: invalid level-%d neighbour list", i, l)
			}
		}
	}

	if quant == QuantInt8 {
		g.codes = makeHuge[uint8](cp * dim)
		if trained {
			qb := sec(secQuant)
			q := &quantizer{lo: make([]float32, dim), step: make([]float32, dim)}
			for d := range dim {
				q.lo[d] = math.Float32frombits(le.Uint32(qb[4*d:]))
				q.step[d] = math.Float32frombits(le.Uint32(qb[4*(dim+d):]))
				if !finite(q.lo[d]) || !finite(q.step[d]) || q.step[d] < 0 {
					return nil, 0, corruptf(path, "quantiser dimension %d invalid", d)
				}
			}
			copy(g.codes, qb[8*dim:])
			g.quant = q
			g.trained.Store(true)
		}
	}
	vb := sec(secVectors)
	if quant == QuantInt8 && canMap && nn > 0 {
		g.fbase = unsafe.Slice((*float32)(unsafe.Pointer(&vb[0])), nn*dim)
		g.nbase = uint32(nn)
		g.vecs = makeHuge[float32]((cp - nn) * dim)
	} else {
		g.vecs = makeHuge[float32](cp * dim)
		if nativeLE {
			copy(bytesOf(g.vecs), vb)
		} else {
			for i := range nn * dim {
				g.vecs[i] = math.Float32frombits(le.Uint32(vb[4*i:]))
			}
		}
	}
	g.count.Store(uint32(nn))
	g.entry, g.maxLevel = entry, maxL
	if n == 0 {
		g.maxLevel = 0
	}
	return g, gen, nil
}

var secNames = [nSections]string{"ids", "nodes", "level-0 links", "upper links", "quantiser", "vectors"}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }
