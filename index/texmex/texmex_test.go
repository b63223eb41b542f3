package texmex

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

// rowBytes builds one raw row with header d and the given payload values.
func rawRow(d int32, vals ...uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(d))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// streamAll reads every row with Reader, as float32 bits.
func streamAll(data []byte) ([][]float32, *Reader, error) {
	r := NewReader(bytes.NewReader(data), "x.fvecs")
	var rows [][]float32
	for {
		v, err := r.ReadFvec(nil)
		if err == io.EOF {
			return rows, r, nil
		}
		if err != nil {
			return rows, r, err
		}
		rows = append(rows, v)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Matrix[float32]{Dim: 3, Rows: 4, Data: []float32{1, 2, 3, -1, 0.5, 0, float32(math.Inf(1)), 7, 8, 1e-30, -0, 3.25}}
	path := filepath.Join(dir, "a.fvecs")
	if err := WriteFvecs(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFvecs(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dim != 3 || got.Rows != 4 || !slices.Equal(got.Data, m.Data) {
		t.Fatalf("bulk round trip: %+v", got)
	}
	data, _ := os.ReadFile(path)
	rows, _, err := streamAll(data)
	if err != nil || len(rows) != 4 || !slices.Equal(rows[2], m.Row(2)) {
		t.Fatalf("stream round trip: %v %v", rows, err)
	}
	im := &Matrix[int32]{Dim: 2, Rows: 2, Data: []int32{-5, math.MaxInt32, math.MinInt32, 0}}
	ipath := filepath.Join(dir, "a.ivecs")
	if err := WriteIvecs(ipath, im); err != nil {
		t.Fatal(err)
	}
	igot, err := ReadIvecs(context.Background(), ipath)
	if err != nil || !slices.Equal(igot.Data, im.Data) {
		t.Fatalf("ivecs round trip: %+v %v", igot, err)
	}
	f, _ := os.Open(ipath)
	defer f.Close()
	r := NewReader(f, ipath)
	row, err := r.ReadIvec(nil)
	if err != nil || !slices.Equal(row, []int32{-5, math.MaxInt32}) || r.Dim() != 2 || r.Row() != 1 {
		t.Fatalf("ReadIvec: %v %v", row, err)
	}
	empty := filepath.Join(dir, "empty.fvecs")
	os.WriteFile(empty, nil, 0o644)
	if e, err := ReadFvecs(context.Background(), empty); err != nil || e.Rows != 0 {
		t.Fatalf("empty file: %+v %v", e, err)
	}
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(io.Discard)
	if err := w.WriteFvec(nil); !errors.Is(err, ErrBadDim) {
		t.Fatalf("empty row: %v", err)
	}
	if err := w.WriteFvec([]float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteIvec([]int32{1}); !errors.Is(err, ErrDimChange) {
		t.Fatalf("dim change: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	good := rawRow(2, 1, 2)
	tests := []struct {
		name string
		data []byte
		want error
		row  string // must appear in the message
		rows int    // rows read before the error
	}{
		{"short header", cat(good, []byte{2, 0}), ErrTruncated, "row 1", 1},
		{"short payload", cat(good, good[:9]), ErrTruncated, "row 1", 1},
		{"dim change", cat(good, good, rawRow(3, 1, 2, 3)), ErrDimChange, "row 2", 2},
		{"dim change in last partial row", cat(good, rawRow(5, 1)), ErrDimChange, "row 1", 1},
		{"zero dim", rawRow(0), ErrBadDim, "row 0", 0},
		{"negative dim", cat(good, rawRow(-2, 1, 2)), ErrBadDim, "row 1", 1},
		{"huge dim", rawRow(MaxDim+1, 1), ErrBadDim, "row 0", 0},
		{"first row truncated", rawRow(4, 1, 2), ErrTruncated, "row 0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _, err := streamAll(tt.data)
			if !errors.Is(err, tt.want) || !bytes.Contains([]byte(err.Error()), []byte(tt.row)) ||
				!bytes.Contains([]byte(err.Error()), []byte("x.fvecs")) || len(rows) != tt.rows {
				t.Fatalf("stream: %v after %d rows; want %v at %s", err, len(rows), tt.want, tt.row)
			}
			_, err = ReadAll[float32](context.Background(), bytes.NewReader(tt.data), int64(len(tt.data)), "x.fvecs")
			if !errors.Is(err, tt.want) || !bytes.Contains([]byte(err.Error()), []byte(tt.row)) {
				t.Fatalf("ReadAll: %v; want %v at %s", err, tt.want, tt.row)
			}
			_, err = Parse[float32](context.Background(), tt.data, "x.fvecs")
			if !errors.Is(err, tt.want) || !bytes.Contains([]byte(err.Error()), []byte(tt.row)) {
				t.Fatalf("Parse: %v; want %v at %s", err, tt.want, tt.row)
			}
			path := filepath.Join(t.TempDir(), "x.fvecs")
			os.WriteFile(path, tt.data, 0o644)
			_, err = ReadFvecs(context.Background(), path)
			if !errors.Is(err, tt.want) || !bytes.Contains([]byte(err.Error()), []byte(tt.row+":")) {
				t.Fatalf("ReadFvecs: %v; want %v at %s", err, tt.want, tt.row)
			}
		})
	}
}

// TestBulkManyChunks forces many chunks so the parallel path, and a bad row
// deep inside a later chunk, are exercised.
func TestBulkManyChunks(t *testing.T) {
	const dim, rows = 1000, 5000 // 20 MB: three 8 MB chunks
	var buf bytes.Buffer
	w := NewWriter(&buf)
	v := make([]float32, dim)
	for i := range rows {
		for j := range v {
			v[j] = float32(i*dim + j)
		}
		if err := w.WriteFvec(v); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	data := buf.Bytes()
	m, err := ReadAll[float32](context.Background(), bytes.NewReader(data), int64(len(data)), "big")
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range m.Data {
		if x != float32(i) {
			t.Fatalf("element %d = %v", i, x)
		}
	}
	binary.LittleEndian.PutUint32(data[4321*(4+4*dim):], 999)
	_, err = ReadAll[float32](context.Background(), bytes.NewReader(data), int64(len(data)), "big")
	if !errors.Is(err, ErrDimChange) || !bytes.Contains([]byte(err.Error()), []byte("row 4321")) {
		t.Fatalf("bad row 4321: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadAll[float32](ctx, bytes.NewReader(data), int64(len(data)), "big"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestVecgenGolden reads the tiny vecgen data set in testdata (made with
// `vecgen -n 60 -q 5 -d 12 -k 10 -clusters 8 -seed 7`) and recomputes its
// ground truth by brute force.
func TestVecgenGolden(t *testing.T) {
	ctx := context.Background()
	base, err := ReadFvecs(ctx, "testdata/tiny/base.fvecs")
	if err != nil {
		t.Fatal(err)
	}
	query, err := ReadFvecs(ctx, "testdata/tiny/query.fvecs")
	if err != nil {
		t.Fatal(err)
	}
	gt, err := ReadIvecs(ctx, "testdata/tiny/groundtruth.ivecs")
	if err != nil {
		t.Fatal(err)
	}
	if base.Rows != 60 || base.Dim != 12 || query.Rows != 5 || gt.Rows != 5 || gt.Dim != 10 {
		t.Fatalf("shapes: base %dx%d query %dx%d gt %dx%d", base.Rows, base.Dim, query.Rows, query.Dim, gt.Rows, gt.Dim)
	}
	for i := range base.Rows {
		var n float64
		for _, x := range base.Row(i) {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Fatalf("base row %d has |v|² = %v, vecgen writes unit vectors", i, n)
		}
	}
	for qi := range query.Rows {
		ids := make([]int, base.Rows)
		score := make([]float64, base.Rows)
		for i := range ids {
			ids[i] = i
			for j, x := range base.Row(i) {
				score[i] += float64(x) * float64(query.Row(qi)[j])
			}
		}
		sort.SliceStable(ids, func(a, b int) bool { return score[ids[a]] > score[ids[b]] })
		for r, id := range gt.Row(qi) {
			if int(id) != ids[r] {
				t.Fatalf("query %d rank %d: ground truth %d, brute force %d", qi, r, id, ids[r])
			}
		}
	}
}

// FuzzReader checks that the streaming and bulk readers never panic and
// agree on every input: same rows, or errors of the same kind at the same row.
func FuzzReader(f *testing.F) {
	f.Add(cat(rawRow(2, 1, 2), rawRow(2, 3, 4)))
	f.Add(cat(rawRow(2, 1, 2), rawRow(3, 3, 4, 5)))
	f.Add(rawRow(1, 0x7fc00000))
	f.Add([]byte{1, 0, 0})
	if data, err := os.ReadFile("testdata/tiny/query.fvecs"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, sr, serr := streamAll(data)
		m, berr := ReadAll[float32](context.Background(), bytes.NewReader(data), int64(len(data)), "x.fvecs")
		pm, perr := Parse[float32](context.Background(), data, "x.fvecs")
		if (serr == nil) != (berr == nil) || (serr == nil) != (perr == nil) {
			t.Fatalf("stream err %v, ReadAll err %v, Parse err %v", serr, berr, perr)
		}
		if serr != nil {
			for _, e := range []error{ErrTruncated, ErrBadDim, ErrDimChange} {
				if errors.Is(serr, e) != errors.Is(berr, e) || errors.Is(serr, e) != errors.Is(perr, e) {
					t.Fatalf("different kinds: stream %v, ReadAll %v, Parse %v", serr, berr, perr)
				}
			}
			if berr.Error() != perr.Error() {
				t.Fatalf("ReadAll %q, Parse %q", berr, perr)
			}
			if sr.Row() != len(rows) {
				t.Fatalf("Row() %d after %d rows", sr.Row(), len(rows))
			}
			return
		}
		if !slices.Equal(m.Data, pm.Data) && !bytes.Equal(f32bytes(m.Data), f32bytes(pm.Data)) {
			t.Fatal("ReadAll and Parse differ")
		}
		if len(rows) != m.Rows {
			t.Fatalf("stream %d rows, bulk %d", len(rows), m.Rows)
		}
		var out bytes.Buffer
		w := NewWriter(&out)
		for i, r := range rows {
			for j := range r {
				if math.Float32bits(r[j]) != math.Float32bits(m.Row(i)[j]) {
					t.Fatalf("row %d col %d differs", i, j)
				}
			}
			if err := w.WriteFvec(r); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatal("re-encoding differs from input")
		}
	})
}

func f32bytes(v []float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func BenchmarkReadFvecs(b *testing.B) {
	const dim, rows = 512, 20000 // 41 MB
	path := filepath.Join(b.TempDir(), "b.fvecs")
	m := &Matrix[float32]{Dim: dim, Rows: rows, Data: make([]float32, dim*rows)}
	for i := range m.Data {
		m.Data[i] = float32(i)
	}
	if err := WriteFvecs(path, m); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(rows * (4 + 4*dim)))
	b.Run("bulk", func(b *testing.B) {
		b.SetBytes(int64(rows * (4 + 4*dim)))
		for b.Loop() {
			if _, err := ReadFvecs(context.Background(), path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("readall", func(b *testing.B) {
		b.SetBytes(int64(rows * (4 + 4*dim)))
		for b.Loop() {
			f, _ := os.Open(path)
			st, _ := f.Stat()
			if _, err := ReadAll[float32](context.Background(), f, st.Size(), path); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(rows * (4 + 4*dim)))
		v := make([]float32, dim)
		for b.Loop() {
			f, _ := os.Open(path)
			r := NewReader(f, path)
			var err error
			for err == nil {
				v, err = r.ReadFvec(v)
			}
			f.Close()
			if err != io.EOF {
				b.Fatal(err)
			}
		}
	})
}
