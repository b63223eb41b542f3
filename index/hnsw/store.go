package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	snapName = "graph.snap"
	walName  = "wal.log"
	tmpExt   = ".tmp"
)

// store is the persistent side of a Graph: the write-ahead log, the
// snapshot and the directory lock.
type store struct {
	fs     fileSystem
	dir    string
	w      atomic.Pointer[wal] // replaced by snapshots
	walGen uint64              // generation of the current wal.log
	hdr    walHeader
	// mapping is the memory-mapped snapshot whose vector section backs
	// Graph.fbase (int8 mode); nil otherwise.
	mapping      []byte
	unlockDir    func()
	snapshotting atomic.Bool
	bg           sync.WaitGroup
}

// Open opens the persistent index in dir, creating it if absent. Options
// must match a stored index: Dim and M may be 0 to adopt the stored
// values; Quantization must equal the stored mode. Opening loads the
// snapshot (memory-mapping its vector section) and replays the log tail.
func Open(dir string, opts Options) (*Graph, error) {
	return openFS(osFS{}, dir, opts)
}

func openFS(fsys fileSystem, dir string, raw Options) (*Graph, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	g, err := openLocked(fsys, dir, raw)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	g.st.unlockDir = unlock
	return g, nil
}

func openLocked(fsys fileSystem, dir string, raw Options) (*Graph, error) {
	snapPath := filepath.Join(dir, snapName)
	walPath := filepath.Join(dir, walName)
	_ = os.Remove(snapPath + tmpExt)
	_ = os.Remove(walPath + tmpExt)

	walData, err := os.ReadFile(walPath)
	walExists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var wh walHeader
	if walExists {
		if wh, err = decodeWALHeader(walPath, walData); err != nil {
			return nil, err
		}
	}

	var g *Graph
	var mapping []byte
	expectGen := uint64(1)
	if _, err := os.Stat(snapPath); err == nil {
		g, expectGen, mapping, err = loadSnapshot(snapPath, raw)
		if err != nil {
			return nil, err
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		o := raw
		if walExists {
			if err := matchOptions(walPath, &o, wh.dim, wh.m, wh.quant); err != nil {
				return nil, err
			}
		}
		if o, err = o.withDefaults(); err != nil {
			return nil, err
		}
		g = newGraph(o)
	} else {
		return nil, err
	}
	st := &store{fs: fsys, dir: dir, hdr: walHeader{dim: g.dim, m: g.m, quant: g.o.Quantization}, mapping: mapping}
	g.st = st
	ok := false
	defer func() {
		if !ok {
			st.unmap()
			if w := st.wal(); w != nil {
				w.close()
			}
		}
	}()

	if walExists && wh.gen == expectGen {
		if wh.dim != g.dim || wh.m != g.m || wh.quant != g.o.Quantization {
			return nil, corruptf(walPath, "header (dim %d, M %d, %s) does not match the snapshot (dim %d, M %d, %s)",
				wh.dim, wh.m, wh.quant, g.dim, g.m, g.o.Quantization)
		}
		recs, good, err := parseWAL(walPath, walData, g.dim)
		if err != nil {
			return nil, err
		}
		f, err := fsys.OpenRW(walPath)
		if err != nil {
			return nil, err
		}
		if good < len(walData) {
			g.o.Logger.Warn("hnsw: truncating torn write-ahead-log tail", "path", walPath, "bytes", len(walData)-good)
			if err := f.Truncate(int64(good)); err != nil {
				f.Close()
				return nil, fmt.Errorf("truncate %s: %w", walPath, err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return nil, fmt.Errorf("fsync %s: %w", walPath, err)
			}
		}
		st.w.Store(&wal{fs: fsys, path: walPath, f: f, size: int64(good), synced: int64(good)})
		st.walGen = wh.gen
		if err := g.replay(walPath, recs); err != nil {
			return nil, err
		}
		g.o.Logger.Info("hnsw: replayed write-ahead log", "records", len(recs))
	} else {
		if walExists && wh.gen > expectGen {
			return nil, corruptf(walPath, "log generation %d is newer than the snapshot's %d (snapshot missing or stale)", wh.gen, expectGen)
		}
		// Missing, or older than the snapshot (which already contains it).
		if err := st.newWAL(expectGen); err != nil {
			return nil, err
		}
	}
	ok = true
	return g, nil
}

// matchOptions fills zero Dim/M from stored values and rejects mismatches.
func matchOptions(path string, o *Options, dim, m int, q Quant) error {
	if o.Dim == 0 {
		o.Dim = dim
	}
	if o.M == 0 {
		o.M = m
	}
	if o.Dim != dim || o.M != m || o.Quantization != q {
		return fmt.Errorf("%w: %s holds dim %d, M %d, quantization %s; options ask for dim %d, M %d, quantization %s",
			ErrOptions, path, dim, m, q, o.Dim, o.M, o.Quantization)
	}
	return nil
}

// replay applies logged records in order.
func (g *Graph) replay(path string, recs []walRecord) error {
	for s := 0; s < len(recs); {
		if recs[s].op == opDelete {
			if !g.applyDelete(recs[s].id) {
				return corruptf(path, "deletes id %d which is not present", recs[s].id)
			}
			s++
			continue
		}
		e := s
		var ids []uint64
		var vs [][]float32
		for e < len(recs) && recs[e].op == opAdd && len(ids) < insertChunk {
			ids = append(ids, recs[e].id)
			vs = append(vs, recs[e].vec)
			e++
		}
		for j, v := range vs {
			if _, err := g.prepare(v); err != nil {
				return corruptf(path, "record for id %d: %v", ids[j], err)
			}
		}
		if err := g.reserve(ids); err != nil {
			return corruptf(path, "adds an id twice: %v", err)
		}
		first := g.allocate(ids, vs)
		g.insertRange(first, len(ids))
		g.maybeTrain()
		s = e
	}
	return nil
}

// newWAL atomically replaces wal.log with an empty log of generation gen.
func (st *store) newWAL(gen uint64) error {
	path := filepath.Join(st.dir, walName)
	h := st.hdr
	h.gen = gen
	tmp := path + tmpExt
	f, err := st.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	hb := h.encode()
	if n, err := f.WriteAt(hb, 0); err != nil || n != len(hb) {
		f.Close()
		return fmt.Errorf("%w: write %s: short write or %v", ErrWAL, tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%w: fsync %s: %v", ErrWAL, tmp, err)
	}
	if err := st.fs.Rename(tmp, path); err != nil {
		f.Close()
		return fmt.Errorf("%w: rename %s: %v", ErrWAL, tmp, err)
	}
	if err := st.fs.SyncDir(st.dir); err != nil {
		f.Close()
		return fmt.Errorf("%w: fsync dir %s: %v", ErrWAL, st.dir, err)
	}
	old := st.w.Swap(&wal{fs: st.fs, path: path, f: f, size: walHeaderSize, synced: walHeaderSize})
	st.walGen = gen
	if old != nil {
		old.close()
	}
	return nil
}

func (st *store) wal() *wal { return st.w.Load() }

func (st *store) walSize() int64 { return st.wal().sizeNow() }

func (st *store) logAdds(ids []uint64, vs [][]float32) error {
	var buf []byte
	var epoch uint64
	var end int64
	first := true
	flush := func() error {
		e, n, err := st.wal().append(buf)
		if err != nil {
			return err
		}
		if !first && e != epoch {
			return fmt.Errorf("%w: %w", ErrWAL, errLost)
		}
		epoch, end, first = e, n, false
		buf = buf[:0]
		return nil
	}
	for j, id := range ids {
		buf = appendRecord(buf, opAdd, id, vs[j])
		if len(buf) >= walChunkBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	return st.wal().commit(epoch, end)
}

func (st *store) logDelete(id uint64) error {
	e, end, err := st.wal().append(appendRecord(nil, opDelete, id, nil))
	if err != nil {
		return err
	}
	return st.wal().commit(e, end)
}

// maybeSnapshot starts a background snapshot when the log is large.
func (st *store) maybeSnapshot(g *Graph) {
	if g.o.SnapshotBytes < 0 || st.walSize() < g.o.SnapshotBytes || !st.snapshotting.CompareAndSwap(false, true) {
		return
	}
	st.bg.Go(func() {
		defer st.snapshotting.Store(false)
		if g.closed.Load() {
			return
		}
		if err := g.Snapshot(); err != nil {
			g.o.Logger.Error("hnsw: background snapshot failed", "err", err)
		}
	})
}

func (st *store) unmap() {
	if st.mapping != nil {
		unmapFile(st.mapping)
		st.mapping = nil
	}
}

// Sync makes every acknowledged operation durable. Add, AddBatch and
// Delete already fsync before returning, so Sync only matters after an
// error; it is a no-op for an in-memory Graph.
func (g *Graph) Sync() error {
	if g.closed.Load() {
		return ErrClosed
	}
	if g.st == nil {
		return nil
	}
	w := g.st.wal()
	w.mu.Lock()
	e, end := w.epoch, w.size
	w.mu.Unlock()
	return w.commit(e, end)
}

// Snapshot writes the whole index to graph.snap (temp file, fsync, rename,
// directory fsync) and starts a new, empty write-ahead log. Writers wait
// while it runs; readers do not.
func (g *Graph) Snapshot() error {
	if g.st == nil {
		return ErrNotPersistent
	}
	if g.closed.Load() {
		return ErrClosed
	}
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	return g.st.snapshot(g)
}

// Close writes a final snapshot if the log holds records, then releases
// the files. An in-memory Graph just becomes unusable.
func (g *Graph) Close() error {
	if g.closed.Swap(true) {
		return ErrClosed
	}
	if g.st == nil {
		return nil
	}
	g.st.bg.Wait()
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	var err error
	if g.st.wal().sizeNow() > walHeaderSize && g.st.wal().broken == nil {
		err = g.st.snapshot(g)
	}
	if cerr := g.st.wal().close(); err == nil {
		err = cerr
	}
	g.mu.Lock()
	g.st.unmap()
	g.fbase = nil
	g.mu.Unlock()
	g.st.unlockDir()
	return err
}

// Snapshot file layout (see doc.go).
const (
	snapMagic     = "SGHSNAP1"
	snapVersion   = 1
	snapHeaderLen = 4096
	nSections     = 6
	secTable      = 64
	secEntry      = 24
	hdrCRCOff     = secTable + nSections*secEntry
	secIDs        = 0
	secNodes      = 1
	secLinks0     = 2
	secUpper      = 3
	secQuant      = 4
	secVectors    = 5
	vecAlign      = 4096
)

type section struct {
	off, n uint64
	crc    uint32
}

// snapshot writes the index. Caller holds applyMu exclusively.
func (st *store) snapshot(g *Graph) error {
	gen := st.walGen + 1
	path := filepath.Join(st.dir, snapName)
	tmp := path + tmpExt
	g.mu.RLock()
	err := g.writeSnapshot(st.fs, tmp, gen)
	g.mu.RUnlock()
	if err != nil {
		st.fs.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := st.fs.Rename(tmp, path); err != nil {
		st.fs.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := st.fs.SyncDir(st.dir); err != nil {
		st.failRotation(gen, err)
		return fmt.Errorf("snapshot %s: fsync dir: %w", path, err)
	}
	if err := st.newWAL(gen); err != nil {
		st.failRotation(gen, err)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if g.o.Quantization == QuantInt8 {
		// Serve the snapshot's float vectors from the new mapping.
		if err := g.remap(path); err != nil {
			g.o.Logger.Warn("hnsw: keeping float vectors in RAM", "err", err)
		}
	}
	g.o.Logger.Info("hnsw: snapshot written", "path", path, "vectors", g.count.Load())
	return nil
}

// failRotation handles a failure after the new snapshot may have become
// visible but before the log was rotated: the old log would be ignored at
// the next open, so further writes must fail until a snapshot succeeds.
func (st *store) failRotation(gen uint64, err error) {
	st.walGen = gen
	st.wal().mu.Lock()
	st.wal().broken = fmt.Errorf("%w: log rotation after snapshot failed (%v); call Snapshot again or reopen the index", ErrWAL, err)
	st.wal().mu.Unlock()
}

// crcWriter writes sequentially, tracking the offset and a running CRC.
type crcWriter struct {
	w   *bufio.Writer
	off uint64
	h   hash.Hash32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.off += uint64(n)
	c.h.Write(p[:n])
	return n, err
}

func (c *crcWriter) pad(align uint64) error {
	if r := c.off % align; r != 0 {
		_, err := c.w.Write(make([]byte, align-r))
		c.off += align - r
		return err
	}
	return nil
}

// nativeLE reports whether this machine is little-endian, so slices can be
// written and mapped without conversion.
var nativeLE = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

func bytesOf[T uint32 | uint64 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// writeLE writes s in little-endian order.
func writeLE[T uint32 | uint64 | float32](w io.Writer, s []T) error {
	if nativeLE {
		_, err := w.Write(bytesOf(s))
		return err
	}
	return binary.Write(w, binary.LittleEndian, s)
}

// writeSnapshot writes the snapshot to path. Caller holds applyMu
// exclusively and mu shared.
func (g *Graph) writeSnapshot(fsys fileSystem, path string, gen uint64) error {
	f, err := fsys.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n := int(g.count.Load())
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &crcWriter{w: bw, h: crc32.New(castagnoli)}
	if _, err := cw.Write(make([]byte, snapHeaderLen)); err != nil {
		return err
	}
	var secs [nSections]section
	begin := func(i int, align uint64) error {
		if err := cw.pad(align); err != nil {
			return err
		}
		secs[i].off = cw.off
		cw.h.Reset()
		return nil
	}
	end := func(i int) {
		secs[i].n = cw.off - secs[i].off
		secs[i].crc = cw.h.Sum32()
	}
	// ids
	if err := begin(secIDs, 8); err != nil {
		return err
	}
	if err := writeLE(cw, g.ext[:n]); err != nil {
		return err
	}
	end(secIDs)
	// nodes: level, flags
	if err := begin(secNodes, 8); err != nil {
		return err
	}
	nodes := make([]byte, 2*n)
	for i := range n {
		nodes[2*i] = g.levels[i]
		if !g.isLive(uint32(i)) {
			nodes[2*i+1] = flagDeleted
		}
	}
	if _, err := cw.Write(nodes); err != nil {
		return err
	}
	end(secNodes)
	// level-0 records
	if err := begin(secLinks0, 8); err != nil {
		return err
	}
	if err := writeLE(cw, g.links0[:n*g.s0]); err != nil {
		return err
	}
	end(secLinks0)
	// upper-level records, in node order
	if err := begin(secUpper, 8); err != nil {
		return err
	}
	for i := range n {
		if L := int(g.levels[i]); L > 0 {
			o := int(g.upOff[i])
			if err := writeLE(cw, g.upData[o:o+L*g.s1]); err != nil {
				return err
			}
		}
	}
	end(secUpper)
	// quantiser and codes
	if err := begin(secQuant, 8); err != nil {
		return err
	}
	if g.quant != nil {
		if err := writeLE(cw, g.quant.lo); err != nil {
			return err
		}
		if err := writeLE(cw, g.quant.step); err != nil {
			return err
		}
		if _, err := cw.Write(g.codes[:n*g.dim]); err != nil {
			return err
		}
	}
	end(secQuant)
	// float vectors, page aligned for mmap
	if err := begin(secVectors, vecAlign); err != nil {
		return err
	}
	for i := range n {
		if err := writeLE(cw, g.fvec(uint32(i))); err != nil {
			return err
		}
	}
	end(secVectors)
	if err := bw.Flush(); err != nil {
		return err
	}
	g.epMu.RLock()
	entry, maxL := g.entry, g.maxLevel
	g.epMu.RUnlock()
	h := make([]byte, snapHeaderLen)
	copy(h, snapMagic)
	le := binary.LittleEndian
	le.PutUint32(h[8:], snapVersion)
	le.PutUint32(h[12:], uint32(g.dim))
	le.PutUint32(h[16:], uint32(g.m))
	le.PutUint32(h[20:], uint32(g.o.EfConstruction))
	le.PutUint32(h[24:], uint32(g.o.Quantization))
	le.PutUint32(h[28:], uint32(n))
	le.PutUint32(h[32:], entry)
	le.PutUint32(h[36:], uint32(maxL))
	le.PutUint64(h[40:], gen)
	if g.quant != nil {
		le.PutUint32(h[48:], 1)
	}
	for i, s := range secs {
		o := secTable + i*secEntry
		le.PutUint64(h[o:], s.off)
		le.PutUint64(h[o+8:], s.n)
		le.PutUint32(h[o+16:], s.crc)
	}
	le.PutUint32(h[hdrCRCOff:], crc32.Checksum(h[:hdrCRCOff], castagnoli))
	if _, err := f.WriteAt(h, 0); err != nil {
		return err
	}
	return f.Sync()
}

// remap points fbase at the vector section of the freshly written
// snapshot and drops the RAM copies. Caller holds applyMu exclusively.
func (g *Graph) remap(path string) error {
	b, mapped, err := mapFile(path)
	if err != nil {
		return err
	}
	n := int(g.count.Load())
	h := b[:snapHeaderLen]
	o := secTable + secVectors*secEntry
	off := binary.LittleEndian.Uint64(h[o:])
	if !mapped || !nativeLE || uint64(len(b)) < off+uint64(n*g.dim*4) {
		if mapped {
			unmapFile(b)
		}
		return errors.New("snapshot vectors not mappable on this platform")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.st.unmap()
	if n > 0 {
		g.fbase = unsafe.Slice((*float32)(unsafe.Pointer(&b[off])), n*g.dim)
	} else {
		g.fbase = nil
	}
	g.nbase = uint32(n)
	g.vecs = make([]float32, (len(g.ext)-n)*g.dim)
	g.st.mapping = b
	return nil
}

// loadSnapshot maps, verifies and decodes a snapshot. It returns the
// graph, the log generation the snapshot expects and the mapping that backs
// the graph's float vectors (nil if they were copied to RAM).
func loadSnapshot(path string, raw Options) (*Graph, uint64, []byte, error) {
	b, mapped, err := mapFile(path)
	if err != nil {
		return nil, 0, nil, err
	}
	g, gen, err := decodeSnapshot(path, b, raw, mapped && nativeLE)
	if err != nil || g.nbase == 0 {
		if mapped {
			unmapFile(b)
		}
		b = nil
	}
	if err != nil {
		return nil, 0, nil, err
	}
	return g, gen, b, nil
}
