// Package indexbench measures vector indexes on TEXMEX data sets (base
// vectors, queries and exact ground truth): build time, on-disk size,
// reopen time, and a sweep of recall against single- and multi-threaded
// throughput and latency. It is the engine behind `sight bench index`.
//
// Run prints JSON lines. The first describes the build:
//
//	{"build_seconds":…,"threads":…,"index_bytes":…,"bytes_per_vector":…,"open_seconds":…}
//
// then one line per ef value of the sweep:
//
//	{"ef":…,"recall@10":…,"recall@1":…,"qps_1thread":…,"qps_all":…,"p50_us":…,"p99_us":…}
//
// qps_1thread runs one query at a time on one goroutine locked to its OS
// thread; p50_us and p99_us are the latencies of that run. qps_all runs
// GOMAXPROCS goroutines that share the query set. recall@k is the mean over
// queries of |returned top-k ∩ true top-k| / k; recall@1 is therefore the
// fraction of queries whose first result is the true nearest neighbour.
//
// Before the sweep, one untimed pass over the queries at the first ef warms
// the freshly opened index. With Config.Reuse an index left in Config.Dir
// by an earlier run is opened instead of built (build_seconds is then 0),
// so several sweeps can be measured on one build. The exact index (Config.Index "flat") has no ef: it prints a single sweep
// line with "ef":0.
package indexbench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightsearch/sight/index/flat"
	"github.com/sightsearch/sight/index/hnsw"
	"github.com/sightsearch/sight/index/texmex"
)

// DefaultEfs returns the default ef sweep.
func DefaultEfs() []int { return []int{10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768} }

// recallDepth is the k of recall@10, and the number of results requested.
const recallDepth = 10

// ErrConfig reports an invalid Config or inconsistent input files.
var ErrConfig = errors.New("indexbench: invalid configuration")

// Config describes one benchmark run.
type Config struct {
	Base        string // base vectors (.fvecs); row i gets id i
	Query       string // query vectors (.fvecs)
	GroundTruth string // exact neighbour ids per query (.ivecs), at least 10 per row

	Index          string // "hnsw" (default) or "flat"
	M              int    // HNSW M (default 16)
	EfConstruction int    // HNSW efConstruction (default 200)
	Quant          string // "none" (default) or "int8"; HNSW only
	Efs            []int  // ef sweep (default DefaultEfs()); ignored by "flat"

	// Dir is where the index is built; it must not exist or be empty. An
	// empty Dir builds in a temporary directory that is removed afterwards.
	Dir string

	// Reuse opens the HNSW index a previous run left in Dir instead of
	// building one (the base vectors are then not read, build_seconds is
	// 0 and M, EfConstruction and Quant must match the stored index), so
	// several sweeps can be measured on one build.
	Reuse bool
}

// RegisterFlags defines the command-line flags of `sight bench index` on fs,
// storing their values in c.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Base, "base", "", "base vectors (.fvecs)")
	fs.StringVar(&c.Query, "query", "", "query vectors (.fvecs)")
	fs.StringVar(&c.GroundTruth, "gt", "", "ground truth neighbour ids (.ivecs)")
	fs.StringVar(&c.Index, "index", "hnsw", "index to measure: hnsw or flat")
	fs.IntVar(&c.M, "m", 16, "HNSW M")
	fs.IntVar(&c.EfConstruction, "ef-construction", 200, "HNSW efConstruction")
	fs.StringVar(&c.Quant, "quant", "none", "HNSW traversal representation: none or int8")
	fs.StringVar(&c.Dir, "dir", "", "directory to build the index in (default: a temporary directory)")
	fs.BoolVar(&c.Reuse, "reuse", false, "open the HNSW index left in --dir by an earlier run instead of building one")
	fs.Func("ef", "comma-separated ef sweep (default "+joinInts(DefaultEfs())+")", func(s string) error {
		efs, err := ParseEfs(s)
		c.Efs = efs
		return err
	})
}

// ParseEfs parses a comma-separated list of positive ef values.
func ParseEfs(s string) ([]int, error) {
	var efs []int
	for _, f := range strings.Split(s, ",") {
		ef, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || ef <= 0 {
			return nil, fmt.Errorf("ef %q: want a positive integer: %w", f, ErrConfig)
		}
		efs = append(efs, ef)
	}
	return efs, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Index == "" {
		c.Index = "hnsw"
	}
	if c.M == 0 {
		c.M = 16
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = 200
	}
	if c.Quant == "" {
		c.Quant = "none"
	}
	if len(c.Efs) == 0 {
		c.Efs = DefaultEfs()
	}
	switch {
	case (c.Base == "" && !c.Reuse) || c.Query == "" || c.GroundTruth == "":
		return c, fmt.Errorf("base (unless reusing a built index), query and ground-truth files are all required: %w", ErrConfig)
	case c.Index != "hnsw" && c.Index != "flat":
		return c, fmt.Errorf("index %q: want hnsw or flat: %w", c.Index, ErrConfig)
	case c.Quant != "none" && c.Quant != "int8":
		return c, fmt.Errorf("quant %q: want none or int8: %w", c.Quant, ErrConfig)
	case c.Index == "flat" && c.Quant != "none":
		return c, fmt.Errorf("quant %s: the flat index stores float32 only: %w", c.Quant, ErrConfig)
	case c.M < 2 || c.EfConstruction < 1:
		return c, fmt.Errorf("m %d, ef-construction %d: %w", c.M, c.EfConstruction, ErrConfig)
	case c.Reuse && (c.Dir == "" || c.Index != "hnsw"):
		return c, fmt.Errorf("reuse needs an hnsw index and its directory: %w", ErrConfig)
	}
	for _, ef := range c.Efs {
		if ef <= 0 {
			return c, fmt.Errorf("ef %d: must be positive: %w", ef, ErrConfig)
		}
	}
	return c, nil
}

// BuildReport is the first JSON line.
type BuildReport struct {
	BuildSeconds   float64 `json:"build_seconds"`
	Threads        int     `json:"threads"`
	IndexBytes     int64   `json:"index_bytes"`
	BytesPerVector float64 `json:"bytes_per_vector"`
	OpenSeconds    float64 `json:"open_seconds"`
}

// SweepRow is one JSON line of the ef sweep.
type SweepRow struct {
	Ef         int     `json:"ef"`
	Recall10   float64 `json:"recall@10"`
	Recall1    float64 `json:"recall@1"`
	QPS1Thread float64 `json:"qps_1thread"`
	QPSAll     float64 `json:"qps_all"`
	P50Us      float64 `json:"p50_us"`
	P99Us      float64 `json:"p99_us"`
}

// searcher is the index under test: search returns the ids of the top k.
type searcher interface {
	search(q []float32, k, ef int) ([]uint64, error)
	close() error
}

// Run builds the configured index from cfg.Base, persists and reopens it,
// then runs the ef sweep over cfg.Query, writing JSON lines to out.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	query, err := texmex.ReadFvecs(ctx, cfg.Query)
	if err != nil {
		return fmt.Errorf("read queries: %w", err)
	}
	gt, err := texmex.ReadIvecs(ctx, cfg.GroundTruth)
	if err != nil {
		return fmt.Errorf("read ground truth: %w", err)
	}
	if cfg.Reuse {
		g, open, err := reopenHNSW(cfg, query, gt)
		if err != nil {
			return err
		}
		idx := hnswIndex{g}
		defer idx.close()
		size, err := dirSize(cfg.Dir)
		if err != nil {
			return err
		}
		return report(ctx, cfg, idx, g.Len(), size, 0, open, query, gt, out)
	}
	base, err := texmex.ReadFvecs(ctx, cfg.Base)
	if err != nil {
		return fmt.Errorf("read base vectors: %w", err)
	}
	if err := checkInputs(cfg, base, query, gt); err != nil {
		return err
	}

	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "indexbench-*"); err != nil {
			return fmt.Errorf("indexbench: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := checkEmptyDir(dir); err != nil {
		return err
	}

	rows := base.Rows
	var (
		build, open time.Duration
		idx         searcher
	)
	switch cfg.Index {
	case "flat":
		idx, build, open, err = buildFlat(ctx, base, dir)
	default:
		idx, build, open, err = buildHNSW(ctx, cfg, base, dir)
	}
	base = nil // the index holds its own copy; let the GC reclaim it
	if err != nil {
		return err
	}
	defer idx.close()
	size, err := dirSize(dir)
	if err != nil {
		return err
	}
	return report(ctx, cfg, idx, rows, size, build, open, query, gt, out)
}

// report writes the build line and runs the sweep on idx, closing it.
func report(ctx context.Context, cfg Config, idx searcher, rows int, size int64, build, open time.Duration,
	query *texmex.Matrix[float32], gt *texmex.Matrix[int32], out io.Writer) error {
	enc := json.NewEncoder(out)
	err := enc.Encode(BuildReport{
		BuildSeconds:   Round(build.Seconds(), 3),
		Threads:        runtime.GOMAXPROCS(0),
		IndexBytes:     size,
		BytesPerVector: Round(float64(size)/float64(max(rows, 1)), 1),
		OpenSeconds:    Round(open.Seconds(), 6),
	})
	if err != nil {
		return fmt.Errorf("indexbench: write report: %w", err)
	}

	efs := cfg.Efs
	if cfg.Index == "flat" {
		efs = []int{0}
	}
	// Warm-up: one untimed pass over the queries pages in the freshly
	// opened (memory-mapped) index so the first sweep row is not cold.
	if _, err := sweep(ctx, idx, query, gt, efs[0]); err != nil {
		return err
	}
	for _, ef := range efs {
		row, err := sweep(ctx, idx, query, gt, ef)
		if err != nil {
			return err
		}
		if err := enc.Encode(row); err != nil {
			return fmt.Errorf("indexbench: write report: %w", err)
		}
	}
	if err := idx.close(); err != nil {
		return fmt.Errorf("indexbench: close index: %w", err)
	}
	return nil
}

// reopenHNSW opens the index in cfg.Dir for a Reuse run and checks it
// against the queries and ground truth.
func reopenHNSW(cfg Config, query *texmex.Matrix[float32], gt *texmex.Matrix[int32]) (*hnsw.Graph, time.Duration, error) {
	if entries, err := os.ReadDir(cfg.Dir); err != nil || len(entries) == 0 {
		return nil, 0, fmt.Errorf("reuse: %s holds no index (%v): %w", cfg.Dir, err, ErrConfig)
	}
	opts := hnsw.Options{Dim: query.Dim, M: cfg.M, EfConstruction: cfg.EfConstruction}
	if cfg.Quant == "int8" {
		opts.Quantization = hnsw.QuantInt8
	}
	start := time.Now()
	g, err := hnsw.Open(cfg.Dir, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("indexbench: reuse %s: %w", cfg.Dir, err)
	}
	open := time.Since(start)
	n := g.Len()
	switch {
	case query.Rows == 0:
		err = fmt.Errorf("%s: no queries: %w", cfg.Query, ErrConfig)
	case gt.Rows != query.Rows:
		err = fmt.Errorf("%s has %d rows but %s has %d queries: %w", cfg.GroundTruth, gt.Rows, cfg.Query, query.Rows, ErrConfig)
	case gt.Dim < recallDepth:
		err = fmt.Errorf("%s holds %d neighbours per query, recall@%d needs at least %d: %w", cfg.GroundTruth, gt.Dim, recallDepth, recallDepth, ErrConfig)
	case n == 0:
		err = fmt.Errorf("reuse: %s holds an empty index: %w", cfg.Dir, ErrConfig)
	}
	for i, id := range gt.Data {
		if err == nil && (id < 0 || int(id) >= n) {
			err = fmt.Errorf("%s: row %d: neighbour id %d outside the %d indexed vectors: %w", cfg.GroundTruth, i/gt.Dim, id, n, ErrConfig)
		}
	}
	if err != nil {
		g.Close()
		return nil, 0, err
	}
	return g, open, nil
}

// checkInputs verifies that the three files describe one data set.
func checkInputs(cfg Config, base, query *texmex.Matrix[float32], gt *texmex.Matrix[int32]) error {
	switch {
	case base.Rows == 0:
		return fmt.Errorf("%s: no base vectors: %w", cfg.Base, ErrConfig)
	case query.Rows == 0:
		return fmt.Errorf("%s: no queries: %w", cfg.Query, ErrConfig)
	case query.Dim != base.Dim:
		return fmt.Errorf("%s has dimension %d but %s has %d: %w", cfg.Query, query.Dim, cfg.Base, base.Dim, ErrConfig)
	case gt.Rows != query.Rows:
		return fmt.Errorf("%s has %d rows but %s has %d queries: %w", cfg.GroundTruth, gt.Rows, cfg.Query, query.Rows, ErrConfig)
	case gt.Dim < recallDepth:
		return fmt.Errorf("%s holds %d neighbours per query, recall@%d needs at least %d: %w", cfg.GroundTruth, gt.Dim, recallDepth, recallDepth, ErrConfig)
	}
	for i, id := range gt.Data {
		if id < 0 || int(id) >= base.Rows {
			return fmt.Errorf("%s: row %d: neighbour id %d outside the %d base vectors: %w", cfg.GroundTruth, i/gt.Dim, id, base.Rows, ErrConfig)
		}
	}
	return nil
}

func checkEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("indexbench: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("index directory %s is not empty: %w", dir, ErrConfig)
	}
	return nil
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("indexbench: size of %s: %w", dir, err)
	}
	return n, nil
}

// rowsOf returns ids 0..n-1 and the rows of m as subslices.
func rowsOf(m *texmex.Matrix[float32]) ([]uint64, [][]float32) {
	ids := make([]uint64, m.Rows)
	vs := make([][]float32, m.Rows)
	for i := range ids {
		ids[i] = uint64(i)
		vs[i] = m.Row(i)
	}
	return ids, vs
}

type hnswIndex struct{ g *hnsw.Graph }

func (h hnswIndex) search(q []float32, k, ef int) ([]uint64, error) {
	res, err := h.g.Search(q, k, &hnsw.SearchOptions{Ef: ef})
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids, nil
}

func (h hnswIndex) close() error {
	if err := h.g.Close(); err != nil && !errors.Is(err, hnsw.ErrClosed) {
		return err
	}
	return nil
}

// buildHNSW builds a persistent graph in dir (build time includes the final
// snapshot written by Close), then times reopening it.
func buildHNSW(ctx context.Context, cfg Config, base *texmex.Matrix[float32], dir string) (searcher, time.Duration, time.Duration, error) {
	opts := hnsw.Options{Dim: base.Dim, M: cfg.M, EfConstruction: cfg.EfConstruction}
	if cfg.Quant == "int8" {
		opts.Quantization = hnsw.QuantInt8
	}
	ids, vs := rowsOf(base)
	start := time.Now()
	g, err := hnsw.Open(dir, opts)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("indexbench: create index: %w", err)
	}
	if err := g.AddBatch(ctx, ids, vs); err != nil {
		g.Close()
		return nil, 0, 0, fmt.Errorf("indexbench: build index: %w", err)
	}
	inserted := time.Since(start)
	if err := g.Close(); err != nil {
		return nil, 0, 0, fmt.Errorf("indexbench: persist index: %w", err)
	}
	build := time.Since(start)
	slog.Info("indexbench: built", "insert_seconds", Round(inserted.Seconds(), 3),
		"snapshot_seconds", Round((build-inserted).Seconds(), 3))
	start = time.Now()
	g, err = hnsw.Open(dir, opts)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("indexbench: reopen index: %w", err)
	}
	open := time.Since(start)
	if n := g.Len(); n != base.Rows {
		g.Close()
		return nil, 0, 0, fmt.Errorf("indexbench: reopened index holds %d vectors, built %d", n, base.Rows)
	}
	return hnswIndex{g}, build, open, nil
}

type flatIndex struct{ x *flat.Index }

func (f flatIndex) search(q []float32, k, _ int) ([]uint64, error) {
	res, err := f.x.SearchSerial(q, k, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids, nil
}

func (flatIndex) close() error { return nil }

// buildFlat fills an exact index, saves it to dir and times loading it.
func buildFlat(ctx context.Context, base *texmex.Matrix[float32], dir string) (searcher, time.Duration, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, 0, fmt.Errorf("indexbench: %w", err)
	}
	path := filepath.Join(dir, "index.flat")
	start := time.Now()
	x := flat.New(base.Dim)
	for i := range base.Rows {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, 0, 0, ctx.Err()
		}
		if err := x.Add(uint64(i), base.Row(i)); err != nil {
			return nil, 0, 0, fmt.Errorf("indexbench: base row %d: %w", i, err)
		}
	}
	if err := x.Save(path); err != nil {
		return nil, 0, 0, fmt.Errorf("indexbench: %w", err)
	}
	build := time.Since(start)
	start = time.Now()
	y, err := flat.Load(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("indexbench: %w", err)
	}
	return flatIndex{y}, build, time.Since(start), nil
}

// sweep measures one ef value: a single-thread pass (recall and latency)
// and an all-threads pass (throughput).
func sweep(ctx context.Context, idx searcher, query *texmex.Matrix[float32], gt *texmex.Matrix[int32], ef int) (SweepRow, error) {
	nq := query.Rows
	lat := make([]time.Duration, nq)
	results := make([][]uint64, nq)
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	var single time.Duration
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := time.Now()
		for i := range nq {
			if i%64 == 0 && ctx.Err() != nil {
				serr = ctx.Err()
				return
			}
			t := time.Now()
			ids, err := idx.search(query.Row(i), recallDepth, ef)
			lat[i] = time.Since(t)
			if err != nil {
				serr = fmt.Errorf("indexbench: ef %d query %d: %w", ef, i, err)
				return
			}
			results[i] = ids
		}
		single = time.Since(start)
	}()
	wg.Wait()
	if serr != nil {
		return SweepRow{}, serr
	}

	threads := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	errs := make([]error, threads)
	start := time.Now()
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= nq {
					return
				}
				if i%64 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				if _, err := idx.search(query.Row(i), recallDepth, ef); err != nil {
					errs[w] = fmt.Errorf("indexbench: ef %d query %d: %w", ef, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return SweepRow{}, err
	}

	var r10, r1 float64
	for i, ids := range results {
		r10 += Recall(ids, gt.Row(i), recallDepth)
		r1 += Recall(ids, gt.Row(i), 1)
	}
	slices.Sort(lat)
	return SweepRow{
		Ef:         ef,
		Recall10:   Round(r10/float64(nq), 4),
		Recall1:    Round(r1/float64(nq), 4),
		QPS1Thread: Round(float64(nq)/single.Seconds(), 1),
		QPSAll:     Round(float64(nq)/all.Seconds(), 1),
		P50Us:      Round(micros(Percentile(lat, 0.50)), 1),
		P99Us:      Round(micros(Percentile(lat, 0.99)), 1),
	}, nil
}

// Recall is |got[:k] ∩ want[:k]| / k: the recall@k of one query's results
// got against its true neighbours want.
func Recall(got []uint64, want []int32, k int) float64 {
	hit := 0
	for _, id := range got[:min(k, len(got))] {
		for _, w := range want[:k] {
			if uint64(w) == id {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(k)
}

// Percentile returns the nearest-rank p-quantile of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// Round rounds x to digits decimals, for figures in reports.
func Round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
