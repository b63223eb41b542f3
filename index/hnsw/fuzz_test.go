package hnsw

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeedDir builds a small persistent index and returns its directory.
func fuzzSeedDir(f *testing.F, quant Quant) string {
	dir := f.TempDir()
	g, err := Open(dir, Options{Dim: 4, M: 2, EfConstruction: 8, Quantization: quant, TrainSize: 5})
	if err != nil {
		f.Fatal(err)
	}
	var vs [][]float32
	for i := range 12 {
		vs = append(vs, []float32{float32(i%3 + 1), float32(i%5 - 2), 1, float32(i)})
	}
	if err := g.AddBatch(context.Background(), ids(12), vs); err != nil {
		f.Fatal(err)
	}
	g.Delete(3)
	if err := g.Snapshot(); err != nil {
		f.Fatal(err)
	}
	g.Add(100, []float32{1, 2, 3, 4})
	g.Delete(5)
	g.abandon()
	return dir
}

func FuzzOpen(f *testing.F) {
	for _, q := range []Quant{QuantNone, QuantInt8} {
		b, err := os.ReadFile(filepath.Join(fuzzSeedDir(f, q), snapName))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Decode the bytes as they are, and with valid checksums so the
		// structural checks behind them are exercised too.
		fixed := append([]byte(nil), raw...)
		fixCRCs(fixed)
		for _, data := range [][]byte{raw, fixed} {
			for _, q := range []Quant{QuantNone, QuantInt8} {
				decodeAndUse(t, data, q)
			}
		}
	})
}

// fixCRCs rewrites the section and header checksums of a snapshot image.
func fixCRCs(b []byte) {
	if len(b) < snapHeaderLen {
		return
	}
	le := binary.LittleEndian
	for i := range nSections {
		e := b[secTable+i*secEntry:]
		off, n := le.Uint64(e), le.Uint64(e[8:])
		if off <= uint64(len(b)) && n <= uint64(len(b))-off {
			le.PutUint32(e[16:], crc32.Checksum(b[off:off+n], castagnoli))
		}
	}
	le.PutUint32(b[hdrCRCOff:], crc32.Checksum(b[:hdrCRCOff], castagnoli))
}

func decodeAndUse(t *testing.T, data []byte, q Quant) {
	{
		{
			g, _, err := decodeSnapshot("fuzz", data, Options{Quantization: q}, true)
			if err != nil {
				return
			}
			// A snapshot that decodes must be usable.
			if err := g.check(); err != nil {
				t.Fatalf("decoded snapshot inconsistent: %v", err)
			}
			qv := make([]float32, g.dim)
			qv[0] = 1
			if _, err := g.Search(qv, 3, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := g.Search(qv, 3, &SearchOptions{Filter: func(id uint64) bool { return id%2 == 0 }, ExactBelow: -1}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func FuzzWAL(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fuzzSeedDir(f, QuantNone), walName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-3])
	f.Add(b[:walHeaderSize])
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := decodeWALHeader("fuzz", data)
		if err != nil {
			return
		}
		recs, good, err := parseWAL("fuzz", data, h.dim)
		if err != nil {
			return
		}
		if good < walHeaderSize || good > len(data) {
			t.Fatalf("valid prefix %d outside [%d, %d]", good, walHeaderSize, len(data))
		}
		for _, r := range recs {
			if (r.op == opAdd) != (len(r.vec) == h.dim) {
				t.Fatalf("record %+v inconsistent with dim %d", r, h.dim)
			}
		}
		// Replaying a parsed log must not panic either.
		g, err := New(Options{Dim: h.dim, M: h.m, Quantization: h.quant})
		if err != nil || h.dim > 64 || len(recs) > 200 {
			return
		}
		_ = g.replay("fuzz", recs)
	})
}
