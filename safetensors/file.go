package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
)

// MaxHeaderSize is the largest JSON header accepted (100 MiB).
const MaxHeaderSize = 100 << 20

const metadataKey = "__metadata__"

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are byte offsets relative to the start of the data
	// buffer (which follows the header).
	Begin, End int64
}

// NumElements returns the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file. Its methods may be called concurrently
// until Close.
type File struct {
	path     string
	data     []byte // the data buffer (after the header)
	infos    map[string]TensorInfo
	names    []string
	metadata map[string]string
	release  func() error // unmaps or drops the file contents; nil for Parse
	closed   bool
}

// Open memory-maps the file at path read-only (on systems without mmap the
// file is read into memory) and validates its header. The slices returned by
// Bytes stay valid until Close.
func Open(path string) (*File, error) {
	contents, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: open %s: %w", path, err)
	}
	f, err := parse(path, contents)
	if err != nil {
		if rerr := release(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("safetensors: unmap %s: %w", path, rerr))
		}
		return nil, err
	}
	f.release = release
	return f, nil
}

// Parse validates data as a complete safetensors file. The File refers to
// data; it must not be modified while the File is in use.
func Parse(data []byte) (*File, error) {
	return parse("", data)
}

// Close releases the memory mapping. Slices returned by Bytes must not be
// used afterwards. Close is idempotent.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.data = nil
	if f.release == nil {
		return nil
	}
	if err := f.release(); err != nil {
		return fmt.Errorf("safetensors: close %s: %w", f.path, err)
	}
	return nil
}

// Metadata returns a copy of the "__metadata__" map (empty if absent).
func (f *File) Metadata() map[string]string {
	m := make(map[string]string, len(f.metadata))
	for k, v := range f.metadata {
		m[k] = v
	}
	return m
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	t, ok := f.infos[name]
	if ok {
		t.Shape = slices.Clone(t.Shape)
	}
	return t, ok
}

// Bytes returns the raw little-endian bytes of the named tensor. The slice
// is a view into the file (read-only memory when mapped): do not modify it,
// and do not use it after Close.
func (f *File) Bytes(name string) ([]byte, error) {
	_, b, err := f.lookup(name)
	return b, err
}

func (f *File) lookup(name string) (TensorInfo, []byte, error) {
	if f.closed {
		return TensorInfo{}, nil, fmt.Errorf("safetensors%s: tensor %q: file is closed", f.where(), name)
	}
	t, ok := f.infos[name]
	if !ok {
		return TensorInfo{}, nil, fmt.Errorf("safetensors%s: no tensor %q", f.where(), name)
	}
	return t, f.data[t.Begin:t.End:t.End], nil
}

func (f *File) where() string {
	if f.path == "" {
		return ""
	}
	return " " + f.path
}

// Float32 returns the named tensor converted to a new float32 slice. F32,
// F16 and BF16 convert exactly; F64 is rounded to the nearest float32.
func (f *File) Float32(name string) ([]float32, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	n := len(b) / t.DType.Size()
	out := make([]float32, n)
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = float16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	default:
		return nil, fmt.Errorf("safetensors%s: tensor %q: cannot convert %s to float32", f.where(), name, t.DType)
	}
	return out, nil
}

// Int64 returns the named tensor as a new int64 slice. I64 is copied; I32,
// I16, I8, U32, U16, U8 and BOOL are widened; U64 values above MaxInt64 are
// an error.
func (f *File) Int64(name string) ([]int64, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	n := len(b) / t.DType.Size()
	out := make([]int64, n)
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case U64:
		for i := range out {
			v := binary.LittleEndian.Uint64(b[8*i:])
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("safetensors%s: tensor %q: element %d = %d does not fit in int64", f.where(), name, i, v)
			}
			out[i] = int64(v)
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case U32:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(binary.LittleEndian.Uint16(b[2*i:])))
		}
	case U16:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(b[i]))
		}
	case U8, Bool:
		for i := range out {
			out[i] = int64(b[i])
		}
	default:
		return nil, fmt.Errorf("safetensors%s: tensor %q: cannot convert %s to int64", f.where(), name, t.DType)
	}
	return out, nil
}

// Uint8 returns a copy of the named U8 (or BOOL) tensor.
func (f *File) Uint8(name string) ([]uint8, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.DType != U8 && t.DType != Bool {
		return nil, fmt.Errorf("safetensors%s: tensor %q: cannot convert %s to uint8", f.where(), name, t.DType)
	}
	return slices.Clone(b), nil
}

// rawTensor is a tensor entry of the JSON header before validation.
type rawTensor struct {
	DType       *string           `json:"dtype"`
	Shape       []json.RawMessage `json:"shape"`
	DataOffsets []json.RawMessage `json:"data_offsets"`
}

// parse validates contents (a whole file) and builds a File. path is only
// used in error messages.
func parse(path string, contents []byte) (*File, error) {
	where := ""
	if path != "" {
		where = " " + path
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors"+where+": "+format, args...)
	}
	if len(contents) < 8 {
		return nil, fail("truncated: %d bytes, need at least 8 for the header length", len(contents))
	}
	n := binary.LittleEndian.Uint64(contents)
	switch {
	case n < 2:
		return nil, fail("header length %d is too small", n)
	case n > MaxHeaderSize:
		return nil, fail("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	case n > uint64(len(contents)-8):
		return nil, fail("truncated: header length is %d but only %d bytes follow it", n, len(contents)-8)
	}
	header := contents[8 : 8+n]
	data := contents[8+n:]

	entries, err := decodeHeader(header)
	if err != nil {
		return nil, fail("header: %v", err)
	}
	f := &File{
		path:     path,
		data:     data,
		infos:    make(map[string]TensorInfo, len(entries)),
		metadata: map[string]string{},
	}
	for _, e := range entries {
		if e.key == metadataKey {
			if err := decodeMetadata(e.value, f.metadata); err != nil {
				return nil, fail("%s: %v", metadataKey, err)
			}
			continue
		}
		t, err := decodeTensor(e.key, e.value)
		if err != nil {
			return nil, fail("tensor %q: %v", e.key, err)
		}
		f.infos[e.key] = t
		f.names = append(f.names, e.key)
	}
	slices.Sort(f.names)

	// Report truncation against the tensor that ends last, so the message
	// says how long the data should be.
	var last TensorInfo
	for _, name := range f.names {
		if t := f.infos[name]; t.End > last.End {
			last = t
		}
	}
	if last.End > int64(len(data)) {
		return nil, fail("truncated: header says tensor %q ends at byte %d but the data is %d bytes",
			last.Name, last.End, len(data))
	}

	// No two tensors may share bytes. Empty tensors occupy nothing.
	order := make([]TensorInfo, 0, len(f.infos))
	for _, t := range f.infos {
		if t.End > t.Begin {
			order = append(order, t)
		}
	}
	slices.SortFunc(order, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpString(a.Name, b.Name)
	})
	for i := 1; i < len(order); i++ {
		if prev, t := order[i-1], order[i]; t.Begin < prev.End {
			return nil, fail("tensor %q (bytes %d..%d) overlaps tensor %q (bytes %d..%d)",
				t.Name, t.Begin, t.End, prev.Name, prev.Begin, prev.End)
		}
	}
	return f, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type headerEntry struct {
	key   string
	value json.RawMessage
}

// decodeHeader splits the header object into its entries, rejecting
// duplicate keys, non-objects and trailing garbage. Trailing spaces (the
// usual padding) and NUL bytes are allowed.
func decodeHeader(header []byte) ([]headerEntry, error) {
	header = bytes.TrimRight(header, " \x00")
	dec := json.NewDecoder(bytes.NewReader(header))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var entries []headerEntry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON: unexpected %v", tok)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("invalid JSON at key %q: %w", key, err)
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		entries = append(entries, headerEntry{key, value})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the header object")
	}
	return entries, nil
}

func decodeMetadata(raw json.RawMessage, into map[string]string) error {
	if string(raw) == "null" {
		return nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("not a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for k, v := range m {
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return fmt.Errorf("value of %q is not a string", k)
		}
		into[k] = s
	}
	return nil
}

func decodeTensor(name string, raw json.RawMessage) (TensorInfo, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return TensorInfo{}, errors.New("entry is not a JSON object")
	}
	var r rawTensor
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&r); err != nil {
		return TensorInfo{}, err
	}
	if r.DType == nil {
		return TensorInfo{}, errors.New("missing dtype")
	}
	dt := DType(*r.DType)
	if !dt.Valid() {
		return TensorInfo{}, fmt.Errorf("unknown dtype %q", *r.DType)
	}
	if r.Shape == nil {
		return TensorInfo{}, errors.New("missing shape")
	}
	t := TensorInfo{Name: name, DType: dt, Shape: make([]int, len(r.Shape))}
	elems := uint64(1)
	overflow := false
	for i, s := range r.Shape {
		d, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || d < 0 {
			return TensorInfo{}, fmt.Errorf("shape[%d] = %s is not a non-negative integer", i, s)
		}
		if int64(int(d)) != d {
			return TensorInfo{}, fmt.Errorf("shape[%d] = %d does not fit in int", i, d)
		}
		t.Shape[i] = int(d)
		hi, lo := bits.Mul64(elems, uint64(d))
		if hi != 0 {
			overflow = true
		}
		elems = lo
	}
	hi, size := bits.Mul64(elems, uint64(dt.Size()))
	if overflow || hi != 0 || size > math.MaxInt64 || elems > math.MaxInt {
		return TensorInfo{}, fmt.Errorf("shape %v is too large", t.Shape)
	}
	if len(r.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("data_offsets must be two integers, got %d values", len(r.DataOffsets))
	}
	var off [2]int64
	for i, s := range r.DataOffsets {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || v < 0 {
			return TensorInfo{}, fmt.Errorf("data_offsets[%d] = %s is not a non-negative integer", i, s)
		}
		off[i] = v
	}
	t.Begin, t.End = off[0], off[1]
	if t.Begin > t.End {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d]: begin after end", t.Begin, t.End)
	}
	if uint64(t.End-t.Begin) != size {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] hold %d bytes but %s %v needs %d",
			t.Begin, t.End, t.End-t.Begin, dt, t.Shape, size)
	}
	return t, nil
}
