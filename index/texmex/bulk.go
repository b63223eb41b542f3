package texmex

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// Matrix is a whole file's rows stored contiguously: row i is
// Data[i*Dim:(i+1)*Dim].
type Matrix[T float32 | int32] struct {
	Dim  int
	Rows int
	Data []T
}

// Row returns row i (a subslice of Data).
func (m *Matrix[T]) Row(i int) []T { return m.Data[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim] }

// ReadFvecs loads a whole .fvecs file. On Unix the file is memory-mapped and
// copied into the matrix by GOMAXPROCS goroutines; elsewhere it is read with
// parallel positioned reads (ReadAll).
func ReadFvecs(ctx context.Context, path string) (*Matrix[float32], error) {
	return readFile[float32](ctx, path)
}

// ReadIvecs loads a whole .ivecs file like ReadFvecs.
func ReadIvecs(ctx context.Context, path string) (*Matrix[int32], error) {
	return readFile[int32](ctx, path)
}

func readFile[T float32 | int32](ctx context.Context, path string) (*Matrix[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("texmex: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("texmex: %w", err)
	}
	size := st.Size()
	if size > 0 && size == int64(int(size)) {
		if data, unmap, err := mmapFile(f, int(size)); err == nil {
			defer unmap()
			return Parse[T](ctx, data, path)
		}
	}
	return ReadAll[T](ctx, f, size, path)
}

// chunkBytes is the size of each unit of parallel work.
const chunkBytes = 8 << 20

// littleEndian reports whether the host stores numbers little-endian, in
// which case row payloads are copied without decoding.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// shape validates the first header and returns the matrix for size bytes.
func shape[T float32 | int32](hdr []byte, size int64, name string) (*Matrix[T], int64, error) {
	if len(hdr) < 4 {
		return nil, 0, fmt.Errorf("%s: row 0: header truncated after %d of 4 bytes: %w", name, len(hdr), ErrTruncated)
	}
	d := int32(binary.LittleEndian.Uint32(hdr))
	if d <= 0 || d > MaxDim {
		return nil, 0, fmt.Errorf("%s: row 0: dimension %d out of range 1..%d: %w", name, d, MaxDim, ErrBadDim)
	}
	dim := int(d)
	rowBytes := int64(4 + 4*dim)
	rows := size / rowBytes
	if rows > int64(math.MaxInt/4/dim) {
		return nil, 0, fmt.Errorf("%s: %d rows of %d values is too large", name, rows, dim)
	}
	return &Matrix[T]{Dim: dim, Rows: int(rows), Data: make([]T, int(rows)*dim)}, rowBytes, nil
}

// parallel runs work(lo, hi) over row ranges of about chunkBytes on
// GOMAXPROCS goroutines and returns the error of the lowest failing range,
// so errors name the first bad row.
func parallel(ctx context.Context, rows, rowBytes int64, work func(lo, hi int64) error) error {
	rowsPerChunk := max(1, chunkBytes/rowBytes)
	chunks := (rows + rowsPerChunk - 1) / rowsPerChunk
	workers := min(int64(runtime.GOMAXPROCS(0)), chunks)
	errs := make([]error, chunks)
	var mu sync.Mutex
	next := int64(0)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= chunks {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[c] = err
					return
				}
				lo := c * rowsPerChunk
				if errs[c] = work(lo, min(lo+rowsPerChunk, rows)); errs[c] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Parse decodes a whole fvecs/ivecs file held in memory (for example a
// memory mapping) into one matrix, in parallel. name prefixes errors, which
// name the first bad row and match the errors Reader reports.
func Parse[T float32 | int32](ctx context.Context, data []byte, name string) (*Matrix[T], error) {
	if len(data) == 0 {
		return &Matrix[T]{}, nil
	}
	m, rowBytes, err := shape[T](data[:min(4, len(data))], int64(len(data)), name)
	if err != nil {
		return nil, err
	}
	rows := int64(m.Rows)
	err = parallel(ctx, rows, rowBytes, func(lo, hi int64) error {
		return decodeRows(data[lo*rowBytes:hi*rowBytes], lo, m, name)
	})
	if err != nil {
		return nil, err
	}
	if err := remainder(data[rows*rowBytes:], rows, m.Dim, name); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadAll loads size bytes of fvecs/ivecs data from ra into one matrix with
// parallel row-aligned positioned reads. name prefixes errors, which name the
// first bad row and match the errors Reader reports.
func ReadAll[T float32 | int32](ctx context.Context, ra io.ReaderAt, size int64, name string) (*Matrix[T], error) {
	if size == 0 {
		return &Matrix[T]{}, nil
	}
	var hdr [4]byte
	n, err := ra.ReadAt(hdr[:], 0)
	if n < 4 && err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, rowBytes, err := shape[T](hdr[:n], size, name)
	if err != nil {
		return nil, err
	}
	rows := int64(m.Rows)
	bufs := sync.Pool{New: func() any { return new([]byte) }}
	err = parallel(ctx, rows, rowBytes, func(lo, hi int64) error {
		bp := bufs.Get().(*[]byte)
		defer bufs.Put(bp)
		buf := grow(*bp, int((hi-lo)*rowBytes))
		*bp = buf
		if n, err := ra.ReadAt(buf, lo*rowBytes); n < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				return fmt.Errorf("%s: rows from %d: file shorter than its size: %w", name, lo, ErrTruncated)
			}
			return fmt.Errorf("%s: rows from %d: %w", name, lo, err)
		}
		return decodeRows(buf, lo, m, name)
	})
	if err != nil {
		return nil, err
	}
	rem := size - rows*rowBytes
	tail := make([]byte, min(rem, 4))
	if n, err := ra.ReadAt(tail, rows*rowBytes); n < len(tail) {
		return nil, fmt.Errorf("%s: row %d: %w", name, rows, err)
	}
	if err := remainder(tail, rows, m.Dim, name); err != nil {
		if rem >= 4 && errors.Is(err, ErrTruncated) {
			return nil, fmt.Errorf("%s: row %d: truncated after %d of %d value bytes: %w", name, rows, rem-4, 4*m.Dim, ErrTruncated)
		}
		return nil, err
	}
	return m, nil
}

// checkDim validates row header d against the file dimension.
func checkDim(d int32, dim int, row int64, name string) error {
	if int(d) == dim {
		return nil
	}
	if d <= 0 || d > MaxDim {
		return fmt.Errorf("%s: row %d: dimension %d out of range 1..%d: %w", name, row, d, MaxDim, ErrBadDim)
	}
	return fmt.Errorf("%s: row %d: dimension %d, previous rows have %d: %w", name, row, d, dim, ErrDimChange)
}

// remainder classifies the bytes after the last whole row (tail holds them,
// or at least their first 4) the way Reader does.
func remainder(tail []byte, row int64, dim int, name string) error {
	if len(tail) == 0 {
		return nil
	}
	if len(tail) < 4 {
		return fmt.Errorf("%s: row %d: header truncated after %d of 4 bytes: %w", name, row, len(tail), ErrTruncated)
	}
	if err := checkDim(int32(binary.LittleEndian.Uint32(tail)), dim, row, name); err != nil {
		return err
	}
	return fmt.Errorf("%s: row %d: truncated after %d of %d value bytes: %w", name, row, len(tail)-4, 4*dim, ErrTruncated)
}

// decodeRows validates and copies the whole rows in buf, the first of which
// is row lo, into m.
func decodeRows[T float32 | int32](buf []byte, lo int64, m *Matrix[T], name string) error {
	dim := m.Dim
	rowBytes := 4 + 4*dim
	for r := 0; r*rowBytes < len(buf); r++ {
		b := buf[r*rowBytes : (r+1)*rowBytes]
		row := lo + int64(r)
		if err := checkDim(int32(binary.LittleEndian.Uint32(b)), dim, row, name); err != nil {
			return err
		}
		dst := m.Data[int(row)*dim : (int(row)+1)*dim]
		if littleEndian {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*dim), b[4:])
			continue
		}
		for i := range dst { // T is a 4-byte type: store the raw bits
			*(*uint32)(unsafe.Pointer(&dst[i])) = binary.LittleEndian.Uint32(b[4+4*i:])
		}
	}
	return nil
}

// WriteFvecs writes m to path as .fvecs.
func WriteFvecs(path string, m *Matrix[float32]) error {
	return writeFile(path, m.Rows, func(w *Writer, i int) error { return w.WriteFvec(m.Row(i)) })
}

// WriteIvecs writes m to path as .ivecs.
func WriteIvecs(path string, m *Matrix[int32]) error {
	return writeFile(path, m.Rows, func(w *Writer, i int) error { return w.WriteIvec(m.Row(i)) })
}

func writeFile(path string, rows int, row func(*Writer, int) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("texmex: %w", err)
	}
	w := NewWriter(f)
	for i := range rows {
		if err := row(w, i); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("texmex: %w", err)
	}
	return nil
}
