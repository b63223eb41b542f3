package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	modelPath    = "../testdata/clip/tiny-b32/model.safetensors"
	expectedPath = "../testdata/clip/expected.safetensors"
	textsPath    = "../testdata/clip/texts.json"
)

func openT(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

func TestOpenModelFixture(t *testing.T) {
	f := openT(t, modelPath)
	names := f.Names()
	if len(names) != 80 {
		t.Fatalf("got %d tensors, want 80", len(names))
	}
	if !slices.IsSorted(names) {
		t.Error("Names not sorted")
	}
	if got := f.Metadata(); len(got) != 1 || got["format"] != "pt" {
		t.Errorf("metadata = %v, want {format: pt}", got)
	}
	counts := map[DType]int{}
	for _, n := range names {
		info, _ := f.Info(n)
		counts[info.DType]++
	}
	if counts[F32] != 78 || counts[I64] != 2 {
		t.Errorf("dtype counts = %v, want 78 F32 + 2 I64", counts)
	}

	// Reference values read from the file with NumPy (first three values,
	// float64 sum of all values, element count).
	tests := []struct {
		name  string
		shape []int
		first []uint32
		sum   float64
	}{
		{"logit_scale", []int{1}, []uint32{0x402a3055}, 2.6591999530792236},
		{"text_model.embeddings.token_embedding.weight", []int{49408, 64},
			[]uint32{0x3cd44e50, 0x3c99c97b, 0xbcd2b47a}, -103.70109515750796},
		{"vision_model.embeddings.patch_embedding.weight", []int{64, 3, 32, 32},
			[]uint32{0x3ccc7f2b, 0xbd1541a9, 0x3ba723c1}, 23.599246461480732},
		{"text_model.final_layer_norm.bias", []int{64},
			[]uint32{0xbd123e1a, 0xbc843f1d, 0xbbec1dd7}, 0.03936034900834784},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, ok := f.Info(tc.name)
			if !ok {
				t.Fatal("missing")
			}
			if info.DType != F32 || !slices.Equal(info.Shape, tc.shape) {
				t.Fatalf("info = %+v, want F32 %v", info, tc.shape)
			}
			v, err := f.Float32(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != info.NumElements() {
				t.Fatalf("len = %d, want %d", len(v), info.NumElements())
			}
			for i, want := range tc.first {
				if got := math.Float32bits(v[i]); got != want {
					t.Errorf("[%d] = %#x, want %#x", i, got, want)
				}
			}
			var sum float64
			for _, x := range v {
				sum += float64(x)
			}
			if math.Abs(sum-tc.sum) > 1e-9*math.Max(1, math.Abs(tc.sum)) {
				t.Errorf("sum = %.17g, want %.17g", sum, tc.sum)
			}
			raw, err := f.Bytes(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(raw)) != info.End-info.Begin || len(raw) != 4*len(v) {
				t.Errorf("Bytes len = %d", len(raw))
			}
		})
	}

	for _, tc := range []struct {
		name string
		n    int
	}{{"text_model.embeddings.position_ids", 77}, {"vision_model.embeddings.position_ids", 50}} {
		info, _ := f.Info(tc.name)
		if info.DType != I64 || !slices.Equal(info.Shape, []int{1, tc.n}) {
			t.Errorf("%s: info = %+v", tc.name, info)
		}
		ids, err := f.Int64(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if id != int64(i) {
				t.Fatalf("%s[%d] = %d", tc.name, i, id)
			}
		}
		if _, err := f.Float32(tc.name); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("Float32 of I64 tensor: err = %v, want an error naming the tensor", err)
		}
	}
}

func TestOpenExpectedFixture(t *testing.T) {
	f := openT(t, expectedPath)
	md := f.Metadata()
	if md["num_texts"] != "67" {
		t.Errorf("num_texts = %q", md["num_texts"])
	}
	var order []string
	if err := json.Unmarshal([]byte(md["image_order"]), &order); err != nil || len(order) != 11 {
		t.Fatalf("image_order = %q (%v)", md["image_order"], err)
	}
	u8 := 0
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		if info.DType != U8 {
			continue
		}
		u8++
		v, err := f.Uint8(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Shape) != 3 || info.Shape[2] != 3 || len(v) != info.NumElements() {
			t.Errorf("%s: shape %v, %d values", name, info.Shape, len(v))
		}
	}
	if u8 != 11 {
		t.Errorf("%d U8 tensors, want 11", u8)
	}

	// input_ids rows must equal the unpadded ids in texts.json.
	ids, err := f.Int64("input_ids")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(textsPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Texts []struct {
			Index    int     `json:"index"`
			InputIDs []int64 `json:"input_ids"`
		} `json:"texts"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	texts := doc.Texts
	if len(texts) != 67 || len(ids) != 67*77 {
		t.Fatalf("%d texts, %d ids", len(texts), len(ids))
	}
	for _, tx := range texts {
		row := ids[tx.Index*77 : tx.Index*77+len(tx.InputIDs)]
		if !slices.Equal(row, tx.InputIDs) {
			t.Errorf("input_ids row %d = %v, want %v", tx.Index, row, tx.InputIDs)
		}
	}
	if _, err := f.Uint8("input_ids"); err == nil {
		t.Error("Uint8 of I64 tensor: no error")
	}
}

func TestOpenMatchesParse(t *testing.T) {
	f := openT(t, modelPath)
	data, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Names(), g.Names()) {
		t.Fatal("names differ")
	}
	for _, n := range f.Names() {
		a, _ := f.Bytes(n)
		b, _ := g.Bytes(n)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs", n)
		}
	}
}

// TestWriteReproducesFixture rewrites every tensor of the fixture and checks
// the output is byte-identical to the file the reference library wrote.
func TestWriteReproducesFixture(t *testing.T) {
	f := openT(t, modelPath)
	var tensors []Tensor
	for _, n := range slices.Backward(f.Names()) { // order must not matter
		info, _ := f.Info(n)
		b, _ := f.Bytes(n)
		tensors = append(tensors, Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: b})
	}
	var buf bytes.Buffer
	if err := Write(&buf, tensors, f.Metadata()); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("rewritten file differs from the fixture (%d vs %d bytes)", buf.Len(), len(want))
	}
}

func TestRoundTrip(t *testing.T) {
	f32 := []float32{1, -2.5, float32(math.Inf(1)), 3.1415927, 0, 1e-30}
	tensors := []Tensor{
		{Name: "w", DType: F32, Shape: []int{2, 3}, Data: EncodeFloat32(f32)},
		{Name: "h", DType: F16, Shape: []int{6}, Data: EncodeFloat16(f32)},
		{Name: "bf", DType: BF16, Shape: []int{3, 2}, Data: EncodeBFloat16(f32)},
		{Name: "ids", DType: I64, Shape: []int{3}, Data: EncodeInt64([]int64{-1, 0, math.MaxInt64})},
		{Name: "scalar", DType: F64, Shape: []int{}, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1))},
		{Name: "empty", DType: F32, Shape: []int{0, 4}, Data: nil},
		{Name: "bytes", DType: U8, Shape: []int{3}, Data: []byte{0, 7, 255}},
		{Name: "i8", DType: I8, Shape: []int{2}, Data: []byte{0x80, 0x7f}},
		{Name: "i16", DType: I16, Shape: []int{2}, Data: []byte{0x00, 0x80, 0xff, 0x7f}},
		{Name: "u16", DType: U16, Shape: []int{1}, Data: []byte{0xff, 0xff}},
		{Name: "i32", DType: I32, Shape: []int{1}, Data: []byte{0xfe, 0xff, 0xff, 0xff}},
		{Name: "u32", DType: U32, Shape: []int{1}, Data: []byte{0xff, 0xff, 0xff, 0xff}},
		{Name: "u64", DType: U64, Shape: []int{1}, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
		{Name: "u64big", DType: U64, Shape: []int{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
		{Name: "mask", DType: Bool, Shape: []int{2}, Data: []byte{1, 0}},
		{Name: "quoted \"<&>\" ü", DType: U8, Shape: []int{1}, Data: []byte{9}},
	}
	md := map[string]string{"format": "pt", "note": "a <b> & \"c\"\n"}
	var buf bytes.Buffer
	if err := Write(&buf, tensors, md); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if n := binary.LittleEndian.Uint64(out); n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Metadata(); len(got) != 2 || got["note"] != md["note"] {
		t.Errorf("metadata = %q", got)
	}
	for _, tt := range tensors {
		info, ok := f.Info(tt.Name)
		if !ok || info.DType != tt.DType || !slices.Equal(info.Shape, tt.Shape) {
			t.Errorf("%s: info %+v", tt.Name, info)
		}
		b, err := f.Bytes(tt.Name)
		if err != nil || !bytes.Equal(b, tt.Data) {
			t.Errorf("%s: bytes %v, %v", tt.Name, b, err)
		}
	}
	// Tensors are laid out in name order.
	var prev int64
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		if info.Begin != prev {
			t.Errorf("%s begins at %d, want %d", n, info.Begin, prev)
		}
		prev = info.End
	}

	wantF32 := map[string][]float32{
		"w":      f32,
		"h":      {1, -2.5, float32(math.Inf(1)), 3.140625, 0, 0},
		"bf":     {1, -2.5, float32(math.Inf(1)), 3.140625, 0, math.Float32frombits(0x0da2 << 16)},
		"scalar": {0.1},
		"empty":  {},
	}
	for name, want := range wantF32 {
		got, err := f.Float32(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Float32(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	wantI64 := map[string][]int64{
		"ids":   {-1, 0, math.MaxInt64},
		"bytes": {0, 7, 255},
		"i8":    {-128, 127},
		"i16":   {-32768, 32767},
		"u16":   {65535},
		"i32":   {-2},
		"u32":   {4294967295},
		"u64":   {1},
		"mask":  {1, 0},
	}
	for name, want := range wantI64 {
		got, err := f.Int64(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Int64(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := f.Int64("u64big"); err == nil || !strings.Contains(err.Error(), "u64big") {
		t.Errorf("Int64(u64big) err = %v", err)
	}
	if _, err := f.Int64("w"); err == nil {
		t.Error("Int64 of F32: no error")
	}
	if got, err := f.Uint8("mask"); err != nil || !slices.Equal(got, []uint8{1, 0}) {
		t.Errorf("Uint8(mask) = %v, %v", got, err)
	}
	// Float32 and Uint8 return new slices.
	u, _ := f.Uint8("bytes")
	u[0] = 99
	if b, _ := f.Bytes("bytes"); b[0] != 0 {
		t.Error("Uint8 aliases the file data")
	}
}

func TestWriteNoMetadata(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{{Name: "a", DType: U8, Shape: []int{1}, Data: []byte{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	want := `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`
	for len(want)%8 != 0 {
		want += " "
	}
	if got := string(buf.Bytes()[8 : 8+len(want)]); got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	var empty bytes.Buffer
	if err := Write(&empty, nil, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(empty.Bytes())
	if err != nil || len(f.Names()) != 0 {
		t.Errorf("empty file: %v, %v", f, err)
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"short data", []Tensor{{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}}, `tensor "x": F32 [2] needs 8 bytes, got 7`},
		{"long data", []Tensor{{Name: "x", DType: F16, Shape: []int{}, Data: make([]byte, 3)}}, `tensor "x"`},
		{"duplicate", []Tensor{{Name: "x", DType: U8, Shape: []int{1}, Data: []byte{1}}, {Name: "x", DType: U8, Shape: []int{1}, Data: []byte{1}}}, `duplicate tensor "x"`},
		{"empty name", []Tensor{{Name: "", DType: U8, Shape: []int{1}, Data: []byte{1}}}, "empty name"},
		{"reserved", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{1}, Data: []byte{1}}}, "reserved"},
		{"dtype", []Tensor{{Name: "x", DType: "F128", Shape: []int{1}, Data: []byte{1}}}, `unknown dtype "F128"`},
		{"negative", []Tensor{{Name: "x", DType: U8, Shape: []int{-1}}}, "negative"},
		{"overflow", []Tensor{{Name: "x", DType: F64, Shape: []int{math.MaxInt, math.MaxInt, math.MaxInt}}}, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.tensors, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.safetensors")
	tensors := []Tensor{{Name: "v", DType: F32, Shape: []int{2}, Data: EncodeFloat32([]float32{1, 2})}}
	if err := WriteFile(path, tensors, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	f := openT(t, path)
	if v, err := f.Float32("v"); err != nil || !slices.Equal(v, []float32{1, 2}) {
		t.Errorf("Float32 = %v, %v", v, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
	// A failing write leaves neither the target nor a temporary file.
	bad := filepath.Join(dir, "bad.safetensors")
	err := WriteFile(bad, []Tensor{{Name: "v", DType: F32, Shape: []int{3}, Data: nil}}, nil)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("err = %v, want it to name %s", err, bad)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after a failed write the directory holds %d entries", len(entries))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.safetensors"), tensors, nil); err == nil {
		t.Error("write into a missing directory: no error")
	}
}

// build makes a file from a header string and a data buffer of n bytes.
func build(header string, n int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, n)...)
}

func TestParseErrors(t *testing.T) {
	hugeLen := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "truncated"},
		{"header length 1", build("{", 0), "too small"},
		{"header length 0", build("", 10), "too small"},
		{"huge header length", append(hugeLen, "{}"...), "exceeds the limit"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "truncated: header length is 100 but only 2 bytes"},
		{"not json", build("{x}", 0), "invalid JSON"},
		{"array", build("[]", 0), "not a JSON object"},
		{"string", build(`"ab"`, 0), "not a JSON object"},
		{"trailing data", build(`{}{}`, 0), "data after"},
		{"unclosed", build(`{"a":1`, 0), "invalid JSON"},
		{"tensor not object", build(`{"a":[1]}`, 0), `tensor "a": entry is not a JSON object`},
		{"missing dtype", build(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, 4), `tensor "a": missing dtype`},
		{"unknown dtype", build(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, 16), `tensor "a": unknown dtype "F128"`},
		{"dtype not string", build(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, 4), `tensor "a"`},
		{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, 4), `tensor "a": missing shape`},
		{"negative dim", build(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), `tensor "a": shape[0] = -1`},
		{"fractional dim", build(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), `tensor "a": shape[0] = 1.5`},
		{"exponent dim", build(`{"a":{"dtype":"F32","shape":[1e2],"data_offsets":[0,400]}}`, 400), `shape[0] = 1e2`},
		{"string dim", build(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, 4), `tensor "a"`},
		{"dim too big", build(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, 4), `tensor "a": shape[0]`},
		{"shape overflow", build(`{"a":{"dtype":"F32","shape":[65536,65536,65536,65536,16],"data_offsets":[0,0]}}`, 0), `tensor "a": shape [65536 65536 65536 65536 16] is too large`},
		{"size overflow", build(`{"a":{"dtype":"F64","shape":[1073741824,1073741824,4],"data_offsets":[0,0]}}`, 0), `is too large`},
		{"missing offsets", build(`{"a":{"dtype":"F32","shape":[1]}}`, 4), `tensor "a": data_offsets must be two integers, got 0`},
		{"three offsets", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8), "got 3 values"},
		{"negative offset", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4), `data_offsets[0] = -4`},
		{"begin after end", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, 8), "begin after end"},
		{"size mismatch", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8), `tensor "a": data_offsets [0, 4] hold 4 bytes but F32 [2] needs 8`},
		{"truncated data", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, 10),
			`truncated: header says tensor "b" ends at byte 16 but the data is 10 bytes`},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), `tensor "b" (bytes 4..8) overlaps tensor "a" (bytes 0..8)`},
		{"same range", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1), "overlaps"},
		{"duplicate key", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), `duplicate key "a"`},
		{"metadata not object", build(`{"__metadata__":"pt"}`, 0), "__metadata__: not a JSON object"},
		{"metadata number", build(`{"__metadata__":{"n":1}}`, 0), `__metadata__: value of "n" is not a string`},
		{"metadata null value", build(`{"__metadata__":{"n":null}}`, 0), `value of "n" is not a string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("no error; names %v", f.Names())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			// Open reports the same problem and names the file.
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Open(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open err = %v, want it to contain %q and the path", err, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty object", build("{}", 0)},
		{"padded with spaces", build(`{}      `, 0)},
		{"padded with NULs", build("{}\x00\x00\x00\x00\x00\x00", 0)},
		{"whitespace inside", build(` { "a" : { "dtype" : "U8" , "shape" : [ 2 ] , "data_offsets" : [ 0 , 2 ] } } `, 2)},
		{"null metadata", build(`{"__metadata__":null}`, 0)},
		{"unknown fields ignored", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":true}}`, 1)},
		{"gap and trailing bytes", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}`, 9)},
		{"empty tensors share offsets", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 4)},
		{"scalar", build(`{"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, 8)},
		{"fp8", build(`{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}`, 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.data); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAccessErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.safetensors")
	if err := WriteFile(path, []Tensor{{Name: "x", DType: U8, Shape: []int{1}, Data: []byte{5}}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Bytes("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), path) {
		t.Errorf("missing tensor err = %v", err)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error("Info of a missing tensor ok")
	}
	info, _ := f.Info("x")
	info.Shape[0] = 7
	if again, _ := f.Info("x"); again.Shape[0] != 1 {
		t.Error("Info shares its shape slice")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.Bytes("x"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Bytes after Close: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Open of a missing file: no error")
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open of a directory: no error")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Open of an empty file: %v", err)
	}
}

func BenchmarkOpen(b *testing.B) {
	for b.Loop() {
		f, err := Open(modelPath)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func BenchmarkFloat32(b *testing.B) {
	f, err := Open(modelPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const name = "text_model.embeddings.token_embedding.weight"
	info, _ := f.Info(name)
	b.SetBytes(info.End - info.Begin)
	for b.Loop() {
		if _, err := f.Float32(name); err != nil {
			b.Fatal(err)
		}
	}
}
