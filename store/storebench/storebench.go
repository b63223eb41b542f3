// Package storebench measures a store (package store) on a TEXMEX data set
// (base vectors, queries and exact ground truth, as written by vecgen): how
// fast it takes the base vectors, the recall@10 of its searches, and the
// latency of a library search through it (the vector search plus the
// metadata of the hits, which is what Library.SearchVector does). It is the
// engine behind `sight bench store`, which compares the embedded store with a
// Weaviate cluster on the same data.
//
// Run prints JSON lines: one for the import,
//
//	{"phase":"import","vectors":…,"seconds":…,"per_second":…}
//
// and one for the searches,
//
//	{"phase":"search","queries":…,"recall@10":…,"p50_ms":…,"p99_ms":…,"qps":…}
package storebench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/index/indexbench"
	"github.com/sightsearch/sight/index/texmex"
	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/vec"
)

// ErrConfig is returned for a configuration that cannot be run.
var ErrConfig = errors.New("storebench: invalid configuration")

// Config describes a run.
type Config struct {
	Base, Queries *texmex.Matrix[float32]
	// Truth holds the ids (rows of Base) of each query's exact nearest
	// neighbours, nearest first.
	Truth *texmex.Matrix[int32]
	// Skip the import: the store already holds Base from an earlier run
	// (its images are found again by their hashes).
	Reuse bool
	// Batch is how many vectors go to the store per Apply (0: 500).
	Batch int
	// K is the number of results per search (0: 10).
	K int
}

// Hash is the content hash the benchmark gives base row i: it identifies
// the row in the store.
func Hash(i int) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h := sha256.Sum256(append([]byte("sight-bench-row:"), b[:]...))
	return h[:]
}

// Run imports cfg.Base into st (unless cfg.Reuse), then runs every query
// once, one at a time, and writes the two JSON lines to out.
func Run(ctx context.Context, st store.Store, cfg Config, out io.Writer) error {
	if cfg.Base == nil || cfg.Queries == nil || cfg.Truth == nil {
		return fmt.Errorf("%w: base, queries and ground truth are all needed", ErrConfig)
	}
	if cfg.Base.Dim != cfg.Queries.Dim {
		return fmt.Errorf("%w: base dimension %d, queries %d", ErrConfig, cfg.Base.Dim, cfg.Queries.Dim)
	}
	if cfg.Truth.Rows < cfg.Queries.Rows {
		return fmt.Errorf("%w: %d queries but ground truth for %d", ErrConfig, cfg.Queries.Rows, cfg.Truth.Rows)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.K <= 0 {
		cfg.K = 10
	}
	if cfg.Truth.Dim < cfg.K {
		return fmt.Errorf("%w: ground truth has %d neighbours per query, recall@%d needs %d", ErrConfig, cfg.Truth.Dim, cfg.K, cfg.K)
	}
	enc := json.NewEncoder(out)
	row := make(map[int64]int32, cfg.Base.Rows) // store id -> base row
	if cfg.Reuse {
		for i := 0; i < cfg.Base.Rows; i++ {
			id, err := st.LookupHash(ctx, Hash(i))
			if err != nil {
				return fmt.Errorf("reuse: base row %d: %w", i, err)
			}
			row[id] = int32(i)
		}
	} else {
		start := time.Now()
		added := time.Unix(0, 0).UTC()
		for lo := 0; lo < cfg.Base.Rows; lo += cfg.Batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			hi := min(lo+cfg.Batch, cfg.Base.Rows)
			var b catalog.Batch
			for i := lo; i < hi; i++ {
				v := slices.Clone(cfg.Base.Row(i))
				vec.Normalize(v)
				b.Images = append(b.Images, catalog.Image{Hash: Hash(i), Size: 1, Format: "jpeg", Width: 640, Height: 480,
					Vector: v, Paths: []string{fmt.Sprintf("/bench/%08d.jpg", i)}, MTime: added, AddedAt: added, Model: "bench"})
			}
			res, err := st.Apply(ctx, b)
			if err != nil {
				return fmt.Errorf("import rows %d..%d: %w", lo, hi-1, err)
			}
			for j, id := range res.IDs {
				row[id] = int32(lo + j)
			}
		}
		if sy, ok := st.(store.Syncer); ok { // until every vector is searchable
			if err := sy.Sync(ctx); err != nil {
				return fmt.Errorf("import: %w", err)
			}
		}
		secs := time.Since(start).Seconds()
		if err := enc.Encode(map[string]any{"phase": "import", "vectors": cfg.Base.Rows, "seconds": indexbench.Round(secs, 3), "per_second": indexbench.Round(float64(cfg.Base.Rows)/secs, 1)}); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, 0, cfg.Queries.Rows)
	var recallSum float64
	q := make([]float32, cfg.Queries.Dim)
	start := time.Now()
	for i := 0; i < cfg.Queries.Rows; i++ {
		copy(q, cfg.Queries.Row(i))
		vec.Normalize(q)
		t0 := time.Now()
		found, err := st.Search(ctx, q, cfg.K, catalog.Filter{}, nil)
		if err != nil {
			return fmt.Errorf("query %d: %w", i, err)
		}
		for _, f := range found { // what a library search does with the hits
			if f.Image != nil {
				continue
			}
			if _, err := st.Image(ctx, f.ID); err != nil {
				return fmt.Errorf("query %d: hit %d: %w", i, f.ID, err)
			}
		}
		lat = append(lat, time.Since(t0))
		rows := make([]uint64, 0, len(found))
		for _, f := range found {
			if r, ok := row[f.ID]; ok {
				rows = append(rows, uint64(r))
			}
		}
		recallSum += indexbench.Recall(rows, cfg.Truth.Row(i), cfg.K)
	}
	total := time.Since(start).Seconds()
	slices.Sort(lat)
	ms := func(p float64) float64 { return float64(indexbench.Percentile(lat, p).Microseconds()) / 1000 }
	n := float64(cfg.Queries.Rows)
	return enc.Encode(map[string]any{"phase": "search", "queries": cfg.Queries.Rows,
		fmt.Sprintf("recall@%d", cfg.K): indexbench.Round(recallSum/n, 4),
		"p50_ms":                        ms(0.50), "p99_ms": ms(0.99), "qps": indexbench.Round(n/total, 1)})
}
