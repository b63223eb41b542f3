// Package texmex reads and writes the TEXMEX vector formats used by ANN
// benchmarks: .fvecs (float32 vectors) and .ivecs (int32 vectors, e.g. ground
// truth neighbour ids). Each row is a little-endian int32 dimension d
// followed by d 4-byte little-endian values; all rows of a file have the same
// d.
//
// Reader streams rows one at a time; ReadFvecs and ReadIvecs load a whole file
// into one contiguous matrix using parallel positioned reads, which moves a
// 2 GB file (1M×512) at page-cache speed.
package texmex

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxDim is the largest row dimension accepted.
const MaxDim = 1 << 20

// Errors wrapped by this package; test with errors.Is.
var (
	ErrTruncated = errors.New("texmex: truncated file")
	ErrBadDim    = errors.New("texmex: invalid row dimension")
	ErrDimChange = errors.New("texmex: inconsistent row dimension")
)

// Reader streams the rows of an fvecs or ivecs file.
type Reader struct {
	br   *bufio.Reader
	name string
	dim  int // 0 until the first row is read
	row  int // index of the next row
	buf  []byte
}

// NewReader returns a Reader over r; name (usually the file path) prefixes
// every error.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 1<<20), name: name}
}

// Dim returns the row dimension, or 0 before the first row has been read.
func (r *Reader) Dim() int { return r.dim }

// Row returns the number of rows read so far.
func (r *Reader) Row() int { return r.row }

// next reads one row's payload into r.buf. It returns io.EOF cleanly at the
// end of the input.
func (r *Reader) next() error {
	var hdr [4]byte
	n, err := io.ReadFull(r.br, hdr[:])
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("%s: row %d: header truncated after %d of 4 bytes: %w", r.name, r.row, n, ErrTruncated)
	}
	d := int32(binary.LittleEndian.Uint32(hdr[:]))
	if d <= 0 || d > MaxDim {
		return fmt.Errorf("%s: row %d: dimension %d out of range 1..%d: %w", r.name, r.row, d, MaxDim, ErrBadDim)
	}
	if r.dim != 0 && int(d) != r.dim {
		return fmt.Errorf("%s: row %d: dimension %d, previous rows have %d: %w", r.name, r.row, d, r.dim, ErrDimChange)
	}
	size := 4 * int(d)
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	if n, err := io.ReadFull(r.br, r.buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%s: row %d: truncated after %d of %d value bytes: %w", r.name, r.row, n, size, ErrTruncated)
		}
		return fmt.Errorf("%s: row %d: %w", r.name, r.row, err)
	}
	r.dim = int(d)
	r.row++
	return nil
}

// ReadFvec reads the next row as float32 values, reusing dst's storage when
// it is large enough. It returns io.EOF (unwrapped) after the last row.
func (r *Reader) ReadFvec(dst []float32) ([]float32, error) {
	if err := r.next(); err != nil {
		return nil, err
	}
	dst = grow(dst, r.dim)
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.buf[4*i:]))
	}
	return dst, nil
}

// ReadIvec reads the next row as int32 values, reusing dst's storage when it
// is large enough. It returns io.EOF (unwrapped) after the last row.
func (r *Reader) ReadIvec(dst []int32) ([]int32, error) {
	if err := r.next(); err != nil {
		return nil, err
	}
	dst = grow(dst, r.dim)
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(r.buf[4*i:]))
	}
	return dst, nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Writer writes fvecs or ivecs rows. Call Flush when done.
type Writer struct {
	bw  *bufio.Writer
	dim int
	row int
	buf []byte
}

// NewWriter returns a Writer that buffers output to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 1<<20)}
}

// start checks the row length and encodes the header into w.buf.
func (w *Writer) start(n int) error {
	if n <= 0 || n > MaxDim {
		return fmt.Errorf("texmex: write row %d: dimension %d out of range 1..%d: %w", w.row, n, MaxDim, ErrBadDim)
	}
	if w.dim != 0 && n != w.dim {
		return fmt.Errorf("texmex: write row %d: dimension %d, previous rows have %d: %w", w.row, n, w.dim, ErrDimChange)
	}
	w.dim = n
	w.buf = binary.LittleEndian.AppendUint32(w.buf[:0], uint32(n))
	return nil
}

func (w *Writer) finish() error {
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("texmex: write row %d: %w", w.row, err)
	}
	w.row++
	return nil
}

// WriteFvec writes one float32 row.
func (w *Writer) WriteFvec(v []float32) error {
	if err := w.start(len(v)); err != nil {
		return err
	}
	for _, f := range v {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(f))
	}
	return w.finish()
}

// WriteIvec writes one int32 row.
func (w *Writer) WriteIvec(v []int32) error {
	if err := w.start(len(v)); err != nil {
		return err
	}
	for _, x := range v {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(x))
	}
	return w.finish()
}

// Flush writes any buffered rows to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("texmex: flush: %w", err)
	}
	return nil
}
