package hnsw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sync"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	walMagic      = "SGHWAL01"
	walVersion    = 1
	walHeaderSize = 40
	opAdd         = 1
	opDelete      = 2
	recHeaderSize = 8 // length + CRC32C
	walChunkBytes = 8 << 20
)

// walHeader is the fixed start of wal.log.
type walHeader struct {
	dim, m int
	quant  Quant
	gen    uint64
}

func (h walHeader) encode() []byte {
	b := make([]byte, walHeaderSize)
	copy(b, walMagic)
	binary.LittleEndian.PutUint32(b[8:], walVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.dim))
	binary.LittleEndian.PutUint32(b[16:], uint32(h.m))
	binary.LittleEndian.PutUint32(b[20:], uint32(h.quant))
	binary.LittleEndian.PutUint64(b[24:], h.gen)
	binary.LittleEndian.PutUint32(b[36:], crc32.Checksum(b[:36], castagnoli))
	return b
}

func decodeWALHeader(path string, b []byte) (walHeader, error) {
	if len(b) < walHeaderSize {
		return walHeader{}, corruptf(path, "truncated header (%d bytes)", len(b))
	}
	if string(b[:8]) != walMagic {
		return walHeader{}, corruptf(path, "bad magic %q", b[:8])
	}
	if got, want := binary.LittleEndian.Uint32(b[36:]), crc32.Checksum(b[:36], castagnoli); got != want {
		return walHeader{}, corruptf(path, "header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != walVersion {
		return walHeader{}, corruptf(path, "unsupported version %d", v)
	}
	h := walHeader{
		dim:   int(binary.LittleEndian.Uint32(b[12:])),
		m:     int(binary.LittleEndian.Uint32(b[16:])),
		quant: Quant(binary.LittleEndian.Uint32(b[20:])),
		gen:   binary.LittleEndian.Uint64(b[24:]),
	}
	if h.dim <= 0 || h.dim > 1<<16 || h.m < 2 || h.m > 1024 || h.quant > QuantInt8 {
		return walHeader{}, corruptf(path, "implausible header dim=%d M=%d quant=%d", h.dim, h.m, h.quant)
	}
	return h, nil
}

// walRecord is one logged operation.
type walRecord struct {
	op  byte
	id  uint64
	vec []float32 // opAdd only
}

func appendRecord(dst []byte, op byte, id uint64, v []float32) []byte {
	n := 9 + 4*len(v)
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, 0, 0, 0, 0) // CRC placeholder
	dst = append(dst, op)
	dst = binary.LittleEndian.AppendUint64(dst, id)
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	crc := crc32.Update(crc32.Checksum(dst[start:start+4], castagnoli), castagnoli, dst[start+8:])
	binary.LittleEndian.PutUint32(dst[start+4:], crc)
	return dst
}

// parseWAL decodes the records after the header. It returns the records
// and the length of the valid prefix. An invalid record that reaches the
// end of the data is a torn write (never acknowledged) and ends the valid
// prefix without error; an invalid record followed by more data is
// corruption.
func parseWAL(path string, data []byte, dim int) ([]walRecord, int, error) {
	var recs []walRecord
	off := walHeaderSize
	addLen := 9 + 4*dim
	for off < len(data) {
		rest := data[off:]
		if len(rest) < recHeaderSize {
			return recs, off, nil // torn header
		}
		n := int(binary.LittleEndian.Uint32(rest))
		end := recHeaderSize + n
		if n != 9 && n != addLen {
			if n == 0 && allZero(rest) {
				return recs, off, nil // zero-filled tail
			}
			if end >= len(rest) || end < 0 {
				return recs, off, nil // torn length
			}
			return nil, 0, corruptf(path, "record at offset %d has bad length %d", off, n)
		}
		if end > len(rest) {
			return recs, off, nil // torn record
		}
		crc := crc32.Update(crc32.Checksum(rest[:4], castagnoli), castagnoli, rest[recHeaderSize:end])
		if crc != binary.LittleEndian.Uint32(rest[4:]) {
			if end == len(rest) {
				return recs, off, nil // torn last record
			}
			return nil, 0, corruptf(path, "record at offset %d: checksum mismatch", off)
		}
		p := rest[recHeaderSize:end]
		r := walRecord{op: p[0], id: binary.LittleEndian.Uint64(p[1:])}
		switch {
		case r.op == opAdd && n == addLen:
			r.vec = make([]float32, dim)
			for d := range r.vec {
				r.vec[d] = math.Float32frombits(binary.LittleEndian.Uint32(p[9+4*d:]))
			}
		case r.op == opDelete && n == 9:
		default:
			return nil, 0, corruptf(path, "record at offset %d: bad op %d for length %d", off, r.op, n)
		}
		recs = append(recs, r)
		off += end
	}
	return recs, off, nil
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

// errLost is returned by commit for a record that a failed write or fsync
// discarded before it became durable.
var errLost = errors.New("record discarded after an earlier write failure")

// wal appends records with group commit: every append is written
// immediately, and commit fsyncs once for all records appended so far, so
// concurrent writers share fsyncs. On any write or fsync failure the file
// is truncated back to the last durable size, so a record that was not
// acknowledged can never reappear.
type wal struct {
	fs     fileSystem
	path   string
	syncMu sync.Mutex // one fsync at a time
	mu     sync.Mutex // guards the fields below
	f      file
	size   int64  // bytes written
	synced int64  // bytes durable
	epoch  uint64 // incremented whenever unsynced bytes are discarded
	broken error  // set when the file state is unknown; all writes fail
}

// append writes p and returns the epoch and end offset for commit.
func (w *wal) append(p []byte) (uint64, int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != nil {
		return 0, 0, w.broken
	}
	n, err := w.f.WriteAt(p, w.size)
	if err == nil && n != len(p) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(p))
	}
	if err != nil {
		w.discardLocked()
		return 0, 0, fmt.Errorf("%w: write %s: %v", ErrWAL, w.path, err)
	}
	w.size += int64(n)
	return w.epoch, w.size, nil
}

// discardLocked drops every unsynced byte. Caller holds w.mu.
func (w *wal) discardLocked() {
	w.epoch++
	if err := w.f.Truncate(w.synced); err != nil {
		w.broken = fmt.Errorf("%w: %s: cannot truncate after failed write: %v (reopen the index)", ErrWAL, w.path, err)
		return
	}
	if err := w.f.Sync(); err != nil {
		w.broken = fmt.Errorf("%w: %s: cannot sync after failed write: %v (reopen the index)", ErrWAL, w.path, err)
		return
	}
	w.size = w.synced
}

// commit makes everything up to end (from append in epoch) durable.
func (w *wal) commit(epoch uint64, end int64) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	if w.epoch != epoch {
		w.mu.Unlock()
		return fmt.Errorf("%w: %s: %w", ErrWAL, w.path, errLost)
	}
	if w.synced >= end {
		w.mu.Unlock()
		return nil
	}
	if w.broken != nil {
		w.mu.Unlock()
		return w.broken
	}
	target := w.size
	w.mu.Unlock()
	err := w.f.Sync()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.discardLocked()
		return fmt.Errorf("%w: fsync %s: %v", ErrWAL, w.path, err)
	}
	w.synced = max(w.synced, target)
	return nil
}

func (w *wal) sizeNow() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

func (w *wal) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if w.broken == nil {
		w.broken = ErrClosed
	}
	return err
}
