package hnsw

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// readVecs reads an fvecs (or, with ints, ivecs) file.
func readVecs(path string, ints bool) ([][]float32, [][]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var fs [][]float32
	var is [][]uint64
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return nil, nil, fmt.Errorf("%s: truncated at %d", path, off)
		}
		d := int(binary.LittleEndian.Uint32(b[off:]))
		off += 4
		if d <= 0 || len(b)-off < 4*d {
			return nil, nil, fmt.Errorf("%s: bad row at %d", path, off)
		}
		if ints {
			row := make([]uint64, d)
			for i := range row {
				row[i] = uint64(binary.LittleEndian.Uint32(b[off+4*i:]))
			}
			is = append(is, row)
		} else {
			row := make([]float32, d)
			for i := range row {
				row[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
			}
			fs = append(fs, row)
		}
		off += 4 * d
	}
	return fs, is, nil
}

type benchData struct {
	base, queries [][]float32
	gt            [][]uint64
}

var benchSets sync.Map // dir -> *benchData

// loadBench loads a vecgen directory named by HNSW_DATA (skips if unset).
func loadBench(b *testing.B) *benchData {
	dir := os.Getenv("HNSW_DATA")
	if dir == "" {
		b.Skip("set HNSW_DATA to a vecgen output directory (base.fvecs, query.fvecs, groundtruth.ivecs)")
	}
	if d, ok := benchSets.Load(dir); ok {
		return d.(*benchData)
	}
	base, _, err := readVecs(filepath.Join(dir, "base.fvecs"), false)
	if err != nil {
		b.Fatal(err)
	}
	queries, _, err := readVecs(filepath.Join(dir, "query.fvecs"), false)
	if err != nil {
		b.Fatal(err)
	}
	_, gt, err := readVecs(filepath.Join(dir, "groundtruth.ivecs"), true)
	if err != nil {
		b.Fatal(err)
	}
	for i := range gt {
		gt[i] = gt[i][:min(10, len(gt[i]))]
	}
	d := &benchData{base, queries, gt}
	benchSets.Store(dir, d)
	return d
}

var benchGraphs sync.Map // key -> *Graph

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// benchGraph builds (once per configuration) the graph for d.
func benchGraph(b *testing.B, d *benchData, m int, q Quant) *Graph {
	efc := envInt("HNSW_EFC", 200)
	key := fmt.Sprintf("%p/%d/%d/%d", d, m, efc, q)
	if g, ok := benchGraphs.Load(key); ok {
		return g.(*Graph)
	}
	o := Options{Dim: len(d.base[0]), M: m, EfConstruction: efc, Quantization: q}
	var g *Graph
	var err error
	cache := os.Getenv("HNSW_CACHE") // reuse graphs across runs via Open
	if cache != "" {
		dir := filepath.Join(cache, fmt.Sprintf("n%d-d%d-M%d-efc%d-%s", len(d.base), o.Dim, m, efc, q))
		start := time.Now()
		g, err = Open(dir, o)
		if err == nil && g.Len() == len(d.base) {
			st := g.Stats()
			b.Logf("opened %s in %v; bytes/vector graph %.1f (links %.1f) codes %.0f floats in RAM %.0f mapped %.0f",
				dir, time.Since(start), st.GraphBytesPerVector, st.LinkBytesPerVector, st.CodeBytesPerVector, st.FloatBytesPerVector, st.MappedFloatBytesPerVector)
			benchGraphs.Store(key, g)
			return g
		}
		if err == nil {
			g.Close()
			os.RemoveAll(dir)
			g, err = Open(dir, o)
		}
	} else {
		g, err = New(o)
	}
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := g.AddBatch(context.Background(), ids(len(d.base)), d.base); err != nil {
		b.Fatal(err)
	}
	st := g.Stats()
	b.Logf("build n=%d M=%d efC=%d %s: %v on %d threads; bytes/vector graph %.1f (links %.1f) codes %.0f floats %.0f",
		len(d.base), m, efc, q, time.Since(start).Round(time.Millisecond), runtime.GOMAXPROCS(0),
		st.GraphBytesPerVector, st.LinkBytesPerVector, st.CodeBytesPerVector, st.FloatBytesPerVector)
	if cache != "" {
		if err := g.Snapshot(); err != nil {
			b.Fatal(err)
		}
	}
	benchGraphs.Store(key, g)
	return g
}

// BenchmarkSearch reports single-thread QPS and recall@10 on a vecgen data
// set: HNSW_DATA=/tmp/clip100k go test -run X -bench Search -benchtime 1x.
// HNSW_M (default 16) and HNSW_EFC (default 200) set the build.
func BenchmarkSearch(b *testing.B) {
	d := loadBench(b)
	m := envInt("HNSW_M", 16)
	for _, q := range []Quant{QuantNone, QuantInt8} {
		for _, ef := range []int{16, 32, 64, 128, 256} {
			b.Run(fmt.Sprintf("%s/M=%d/ef=%d", q, m, ef), func(b *testing.B) {
				g := benchGraph(b, d, m, q)
				opt := &SearchOptions{Ef: ef}
				b.ResetTimer()
				// The machine is shared: report the best pass over the
				// query set (b.N passes), which is least disturbed.
				var sum float64
				n := 0
				best := 0.0
				for range b.N {
					start := time.Now()
					for i, qv := range d.queries {
						res, err := g.Search(qv, 10, opt)
						if err != nil {
							b.Fatal(err)
						}
						sum += recallOf(res, d.gt[i])
						n++
					}
					best = max(best, float64(len(d.queries))/time.Since(start).Seconds())
				}
				b.ReportMetric(sum/float64(n), "recall@10")
				b.ReportMetric(best, "QPS")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkFilteredSearch reports recall@10 and QPS at 1% and 10%
// selectivity (predicate on id%mod).
func BenchmarkFilteredSearch(b *testing.B) {
	d := loadBench(b)
	m := envInt("HNSW_M", 16)
	g := benchGraph(b, d, m, QuantNone)
	for _, tc := range []struct {
		mod   int
		exact float64 // SearchOptions.ExactBelow; negative forces a traversal
	}{{100, 0}, {100, -1}, {10, 0}} {
		mod := tc.mod
		name := fmt.Sprintf("sel=%d%%", 100/mod)
		if tc.exact < 0 {
			name += "/traverse"
		}
		b.Run(name, func(b *testing.B) {
			allow := func(i int) bool { return i%mod == 0 }
			gt := groundTruth(d.base, d.queries[:100], 10, allow)
			opt := &SearchOptions{Ef: 64, ExactBelow: tc.exact, Filter: func(id uint64) bool { return allow(int(id)) }}
			b.ResetTimer()
			var sum float64
			n := 0
			start := time.Now()
			for range b.N {
				for i, qv := range d.queries[:100] {
					res, err := g.Search(qv, 10, opt)
					if err != nil {
						b.Fatal(err)
					}
					sum += recallOf(res, gt[i])
					n++
				}
			}
			b.ReportMetric(sum/float64(n), "recall@10")
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "QPS")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkAdd measures insertion throughput on synthetic data.
func BenchmarkAdd(b *testing.B) {
	base := clipLike(b.N, 128, 256, 9)
	g, _ := New(Options{Dim: 128, M: 16, EfConstruction: 100})
	b.ResetTimer()
	if err := g.AddBatch(context.Background(), ids(b.N), base); err != nil {
		b.Fatal(err)
	}
}
