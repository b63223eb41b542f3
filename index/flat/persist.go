package flat

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// File format (little-endian), written by WriteTo and read by Read:
//
//	magic   [8]byte "SIGHTFLT"
//	version uint32 (1)
//	dim     uint32
//	count   uint64
//	ids     count × uint64
//	vectors count × dim × float32 (IEEE 754 bits)
//	crc     uint32, CRC-32C of every preceding byte
const (
	magic      = "SIGHTFLT"
	version    = 1
	maxDim     = 1 << 16
	headerSize = 8 + 4 + 4 + 8
)

// ErrFormat reports a file that is not a valid flat index.
var ErrFormat = errors.New("flat: invalid index file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index in the format described above. It implements
// io.WriterTo.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
	var hdr [headerSize]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint32(hdr[8:], version)
	binary.LittleEndian.PutUint32(hdr[12:], uint32(x.dim))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(x.ids)))
	n := int64(0)
	write := func(b []byte) error {
		m, err := bw.Write(b)
		n += int64(m)
		return err
	}
	if err := write(hdr[:]); err != nil {
		return n, err
	}
	chunk := make([]byte, 0, 1<<16)
	for i := 0; i < len(x.ids); i += 8192 {
		chunk = chunk[:0]
		for _, id := range x.ids[i:min(i+8192, len(x.ids))] {
			chunk = binary.LittleEndian.AppendUint64(chunk, id)
		}
		if err := write(chunk); err != nil {
			return n, err
		}
	}
	for i := 0; i < len(x.data); i += 16384 {
		chunk = chunk[:0]
		for _, f := range x.data[i:min(i+16384, len(x.data))] {
			chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(f))
		}
		if err := write(chunk); err != nil {
			return n, err
		}
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], h.Sum32())
	m, err := w.Write(sum[:])
	return n + int64(m), err
}

// Read decodes an index written by WriteTo, checking the header, every
// vector (as Add does) and the checksum. Errors wrap ErrFormat, or the Add
// sentinel errors for invalid vectors.
func Read(r io.Reader) (*Index, error) {
	h := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 1<<16)
	tr := io.TeeReader(br, h)
	var hdr [headerSize]byte
	if _, err := io.ReadFull(tr, hdr[:]); err != nil {
		return nil, fmt.Errorf("read header: %w: %w", ErrFormat, err)
	}
	if string(hdr[:8]) != magic {
		return nil, fmt.Errorf("bad magic %q: %w", hdr[:8], ErrFormat)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != version {
		return nil, fmt.Errorf("unsupported version %d: %w", v, ErrFormat)
	}
	dim := binary.LittleEndian.Uint32(hdr[12:])
	if dim == 0 || dim > maxDim {
		return nil, fmt.Errorf("dimension %d out of range 1..%d: %w", dim, maxDim, ErrFormat)
	}
	count := binary.LittleEndian.Uint64(hdr[16:])
	x := New(int(dim))
	// Grow as data arrives rather than trusting count for allocation.
	var buf [8]byte
	for i := uint64(0); i < count; i++ {
		if _, err := io.ReadFull(tr, buf[:]); err != nil {
			return nil, fmt.Errorf("read id %d of %d: %w: %w", i, count, ErrFormat, err)
		}
		id := binary.LittleEndian.Uint64(buf[:])
		if _, ok := x.pos[id]; ok {
			return nil, fmt.Errorf("id %d at row %d: %w", id, i, ErrDuplicate)
		}
		x.pos[id] = len(x.ids)
		x.ids = append(x.ids, id)
	}
	row := make([]byte, 4*int(dim))
	v := make([]float32, dim)
	for i := range x.ids {
		if _, err := io.ReadFull(tr, row); err != nil {
			return nil, fmt.Errorf("read vector %d of %d: %w: %w", i, count, ErrFormat, err)
		}
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*j:]))
		}
		if err := x.check(v, fmt.Sprintf("vector %d (row %d)", x.ids[i], i)); err != nil {
			return nil, err
		}
		x.data = append(x.data, v...)
	}
	want := h.Sum32()
	if _, err := io.ReadFull(br, buf[:4]); err != nil {
		return nil, fmt.Errorf("read checksum: %w: %w", ErrFormat, err)
	}
	if got := binary.LittleEndian.Uint32(buf[:4]); got != want {
		return nil, fmt.Errorf("checksum %08x, computed %08x: %w", got, want, ErrFormat)
	}
	return x, nil
}

// Save writes the index to path atomically (temporary file, sync, rename).
func (x *Index) Save(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := x.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// Load reads an index saved with Save.
func Load(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load flat index: %w", err)
	}
	defer f.Close()
	x, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return x, nil
}
