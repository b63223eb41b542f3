package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"testing"
)

func FuzzParse(f *testing.F) {
	// The fixture's header with the first bytes of its data (truncated) and
	// small corruptions of it.
	model, err := os.ReadFile(modelPath)
	if err != nil {
		f.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(model)
	head := model[:8+n+64]
	f.Add(head)
	for _, pos := range []int{0, 3, 8, 20, 40, int(n) / 2, int(n) + 6} {
		c := bytes.Clone(head)
		c[pos] ^= 0x41
		f.Add(c)
	}
	f.Add(bytes.ReplaceAll(bytes.Clone(head), []byte(`"F32"`), []byte(`"F16"`)))
	f.Add(bytes.ReplaceAll(bytes.Clone(head), []byte(`[1,77]`), []byte(`[1,-7]`)))

	// Small valid files.
	var buf bytes.Buffer
	err = Write(&buf, []Tensor{
		{Name: "a", DType: F32, Shape: []int{2}, Data: EncodeFloat32([]float32{1, 2})},
		{Name: "b", DType: F16, Shape: []int{1, 2}, Data: EncodeFloat16([]float32{1, 2})},
		{Name: "c", DType: I64, Shape: []int{}, Data: EncodeInt64([]int64{5})},
		{Name: "d", DType: U8, Shape: []int{0}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(build(`{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"y":{"dtype":"I8","shape":[2],"data_offsets":[4,6]}}`, 6))
	f.Add(build(`{"__metadata__":{"k":"v"}}`, 0))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		names := file.Names()
		if !slices.IsSorted(names) {
			t.Fatal("names not sorted")
		}
		var tensors []Tensor
		roundTrip := true
		for _, name := range names {
			info, ok := file.Info(name)
			if !ok {
				t.Fatalf("Info(%q) missing", name)
			}
			b, err := file.Bytes(name)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(b)) != info.End-info.Begin || len(b) != info.NumElements()*info.DType.Size() {
				t.Fatalf("%q: %d bytes for %+v", name, len(b), info)
			}
			if v, err := file.Float32(name); err == nil && len(v) != info.NumElements() {
				t.Fatalf("%q: Float32 gave %d values", name, len(v))
			}
			if v, err := file.Int64(name); err == nil && len(v) != info.NumElements() {
				t.Fatalf("%q: Int64 gave %d values", name, len(v))
			}
			if v, err := file.Uint8(name); err == nil && len(v) != info.NumElements() {
				t.Fatalf("%q: Uint8 gave %d values", name, len(v))
			}
			if name == "" {
				roundTrip = false // Write refuses empty names
			}
			tensors = append(tensors, Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: b})
		}
		if !roundTrip {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, tensors, file.Metadata()); err != nil {
			t.Fatalf("re-write of a valid file: %v", err)
		}
		again, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !slices.Equal(again.Names(), names) {
			t.Fatal("names changed in round trip")
		}
		for _, name := range names {
			a, _ := file.Info(name)
			b, _ := again.Info(name)
			ab, _ := file.Bytes(name)
			bb, _ := again.Bytes(name)
			if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(ab, bb) {
				t.Fatalf("%q changed in round trip", name)
			}
		}
		m1, m2 := file.Metadata(), again.Metadata()
		if len(m1) != len(m2) {
			t.Fatal("metadata changed in round trip")
		}
		for k, v := range m1 {
			if m2[k] != v {
				t.Fatalf("metadata %q changed in round trip", k)
			}
		}
	})
}
