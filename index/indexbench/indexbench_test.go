package indexbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/sightsearch/sight/index/texmex"
)

// makeDataSet writes a clustered, L2-normalised data set with exact
// ground truth (float64 inner products, ties by smaller id) to dir.
func makeDataSet(t *testing.T, dir string, n, nq, dim, k int) Config {
	t.Helper()
	r := rand.New(rand.NewPCG(42, 7))
	centres := make([][]float64, 20)
	for i := range centres {
		centres[i] = make([]float64, dim)
		for j := range centres[i] {
			centres[i][j] = r.NormFloat64()
		}
	}
	gen := func(rows int) *texmex.Matrix[float32] {
		m := &texmex.Matrix[float32]{Dim: dim, Rows: rows, Data: make([]float32, rows*dim)}
		for i := range rows {
			c := centres[r.IntN(len(centres))]
			v := m.Row(i)
			var norm float64
			for j := range v {
				x := c[j] + 0.6*r.NormFloat64()
				norm += x * x
				v[j] = float32(x)
			}
			for j := range v {
				v[j] = float32(float64(v[j]) / math.Sqrt(norm))
			}
		}
		return m
	}
	base, query := gen(n), gen(nq)
	gt := &texmex.Matrix[int32]{Dim: k, Rows: nq, Data: make([]int32, nq*k)}
	for qi := range nq {
		ids := make([]int32, n)
		score := make([]float64, n)
		for i := range ids {
			ids[i] = int32(i)
			for j, x := range base.Row(i) {
				score[i] += float64(x) * float64(query.Row(qi)[j])
			}
		}
		sort.SliceStable(ids, func(a, b int) bool { return score[ids[a]] > score[ids[b]] })
		copy(gt.Row(qi), ids[:k])
	}
	cfg := Config{
		Base:        filepath.Join(dir, "base.fvecs"),
		Query:       filepath.Join(dir, "query.fvecs"),
		GroundTruth: filepath.Join(dir, "groundtruth.ivecs"),
	}
	for _, err := range []error{
		texmex.WriteFvecs(cfg.Base, base),
		texmex.WriteFvecs(cfg.Query, query),
		texmex.WriteIvecs(cfg.GroundTruth, gt),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

var (
	buildKeys = []string{"build_seconds", "threads", "index_bytes", "bytes_per_vector", "open_seconds"}
	sweepKeys = []string{"ef", "recall@10", "recall@1", "qps_1thread", "qps_all", "p50_us", "p99_us"}
)

// parseLines decodes JSON lines, checking each has exactly the expected keys
// in the expected order.
func parseLines(t *testing.T, out []byte) []map[string]float64 {
	t.Helper()
	var lines []map[string]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Bytes()
		var m map[string]float64
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		want := sweepKeys
		if len(lines) == 0 {
			want = buildKeys
		}
		var keys []string
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.Token()
		for dec.More() {
			tok, _ := dec.Token()
			keys = append(keys, tok.(string))
			var v any
			dec.Decode(&v)
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("line %d keys %v, want %v", len(lines), keys, want)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestRunHNSW(t *testing.T) {
	dir := t.TempDir()
	cfg := makeDataSet(t, dir, 2000, 100, 32, 10)
	cfg.Efs = []int{10, 64, 256}
	cfg.Dir = filepath.Join(dir, "index")
	var out bytes.Buffer
	if err := Run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	lines := parseLines(t, out.Bytes())
	if len(lines) != 1+len(cfg.Efs) {
		t.Fatalf("%d lines, want %d", len(lines), 1+len(cfg.Efs))
	}
	b := lines[0]
	// 2000 float32 vectors of dim 32 are 256 KB: the persisted index holds
	// at least those.
	if b["build_seconds"] <= 0 || b["threads"] < 1 || b["index_bytes"] < 2000*32*4 ||
		math.Abs(b["bytes_per_vector"]-b["index_bytes"]/2000) > 0.05 || b["open_seconds"] <= 0 {
		t.Fatalf("build line %v", b)
	}
	for i, row := range lines[1:] {
		if row["ef"] != float64(cfg.Efs[i]) || row["qps_1thread"] <= 0 || row["qps_all"] <= 0 ||
			row["p50_us"] <= 0 || row["p99_us"] < row["p50_us"] || row["recall@10"] > 1 || row["recall@1"] > 1 {
			t.Fatalf("sweep line %v", row)
		}
	}
	if last := lines[len(lines)-1]; last["recall@10"] < 0.95 || last["recall@1"] < 0.95 {
		t.Fatalf("recall at ef 256 too low: %v", last)
	}
	if lines[1]["recall@10"] > lines[3]["recall@10"] {
		t.Fatalf("recall fell as ef grew: %v then %v", lines[1], lines[3])
	}
	if _, err := os.Stat(cfg.Dir); err != nil {
		t.Fatalf("index directory not kept: %v", err)
	}

	// Reuse: the same index is reopened, not rebuilt (the base file is not
	// even read), and gives the same recall.
	cfg.Reuse = true
	cfg.Base = filepath.Join(dir, "missing.fvecs")
	out.Reset()
	if err := Run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	again := parseLines(t, out.Bytes())
	if len(again) != len(lines) || again[0]["build_seconds"] != 0 || again[0]["index_bytes"] < b["index_bytes"] || again[0]["open_seconds"] <= 0 {
		t.Fatalf("reuse build line %v (first run %v)", again[0], b)
	}
	for i := 1; i < len(lines); i++ {
		if again[i]["recall@10"] != lines[i]["recall@10"] {
			t.Fatalf("reuse ef %v: recall %v, first run %v", lines[i]["ef"], again[i]["recall@10"], lines[i]["recall@10"])
		}
	}
	cfg.M = 8 // the stored index has M 16
	if err := Run(context.Background(), cfg, &out); err == nil {
		t.Fatal("reuse with a different M succeeded")
	}
	cfg.M, cfg.Dir = 16, t.TempDir()
	if err := Run(context.Background(), cfg, &out); !errors.Is(err, ErrConfig) {
		t.Fatalf("reuse of an empty directory: %v", err)
	}
}

func TestRunFlat(t *testing.T) {
	dir := t.TempDir()
	cfg := makeDataSet(t, dir, 2000, 50, 24, 10)
	cfg.Index = "flat"
	var out bytes.Buffer
	if err := Run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	lines := parseLines(t, out.Bytes())
	if len(lines) != 2 || lines[1]["ef"] != 0 {
		t.Fatalf("flat output %v", lines)
	}
	if lines[0]["index_bytes"] < 2000*24*4 {
		t.Fatalf("flat index bytes %v", lines[0])
	}
	// Exact search: only float32-vs-float64 near-ties could differ.
	if lines[1]["recall@10"] < 0.998 || lines[1]["recall@1"] < 0.98 {
		t.Fatalf("flat recall %v", lines[1])
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	good := makeDataSet(t, dir, 300, 5, 8, 10)
	other := makeDataSet(t, t.TempDir(), 300, 5, 6, 10)
	short := makeDataSet(t, t.TempDir(), 300, 5, 8, 5)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), []byte("x"), 0o644)
	tests := []struct {
		name   string
		mutate func(*Config)
		want   error
	}{
		{"missing base", func(c *Config) { c.Base = "" }, ErrConfig},
		{"unknown index", func(c *Config) { c.Index = "ivf" }, ErrConfig},
		{"bad quant", func(c *Config) { c.Quant = "pq" }, ErrConfig},
		{"flat int8", func(c *Config) { c.Index, c.Quant = "flat", "int8" }, ErrConfig},
		{"bad ef", func(c *Config) { c.Efs = []int{10, -1} }, ErrConfig},
		{"dim mismatch", func(c *Config) { c.Query = other.Query }, ErrConfig},
		{"short ground truth", func(c *Config) { c.GroundTruth = short.GroundTruth }, ErrConfig},
		{"non-empty dir", func(c *Config) { c.Dir = full }, ErrConfig},
		{"no such file", func(c *Config) { c.Base = filepath.Join(dir, "nope.fvecs") }, os.ErrNotExist},
		{"truncated base", func(c *Config) {
			p := filepath.Join(dir, "trunc.fvecs")
			data, _ := os.ReadFile(good.Base)
			os.WriteFile(p, data[:len(data)-3], 0o644)
			c.Base = p
		}, texmex.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			var out bytes.Buffer
			if err := Run(context.Background(), cfg, &out); !errors.Is(err, tt.want) {
				t.Fatalf("Run: %v, want %v", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, good, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Run: %v", err)
	}
}

func TestFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("bench index", flag.ContinueOnError)
	c.RegisterFlags(fs)
	err := fs.Parse([]string{"--base", "b.fvecs", "--query", "q.fvecs", "--gt", "g.ivecs", "--m", "32",
		"--ef-construction", "100", "--quant", "int8", "--ef", "10, 20,40"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Base: "b.fvecs", Query: "q.fvecs", GroundTruth: "g.ivecs", Index: "hnsw", M: 32,
		EfConstruction: 100, Quant: "int8", Efs: []int{10, 20, 40}}
	if c.Base != want.Base || c.Query != want.Query || c.GroundTruth != want.GroundTruth || c.Index != want.Index ||
		c.M != want.M || c.EfConstruction != want.EfConstruction || c.Quant != want.Quant || !slices.Equal(c.Efs, want.Efs) {
		t.Fatalf("parsed %+v", c)
	}
	d, err := Config{Base: "b", Query: "q", GroundTruth: "g"}.withDefaults()
	if err != nil || d.Index != "hnsw" || d.M != 16 || d.EfConstruction != 200 || d.Quant != "none" ||
		!slices.Equal(d.Efs, []int{10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768}) {
		t.Fatalf("defaults %+v %v", d, err)
	}
	if _, err := ParseEfs("10,x"); !errors.Is(err, ErrConfig) {
		t.Fatalf("ParseEfs: %v", err)
	}
}
