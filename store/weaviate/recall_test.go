//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/index/texmex"
	"github.com/sightsearch/sight/internal/weaviatetest"
)

// TestRecall measures recall@10 of Weaviate's HNSW, plain and with
// quantizers, on a vecgen data set (base.fvecs, query.fvecs,
// groundtruth.ivecs) named by $SIGHT_WEAVIATE_RECALL. It uses the first
// $SIGHT_WEAVIATE_RECALL_N base vectors (default 20000; the ground truth is
// then recomputed) and 200 queries, on a 1-node cluster.
//
//	SIGHT_WEAVIATE_RECALL=/tmp/clip100k go test -run TestRecall -v ./store/weaviate
func TestRecall(t *testing.T) {
	dir := os.Getenv("SIGHT_WEAVIATE_RECALL")
	if dir == "" {
		t.Skip("set SIGHT_WEAVIATE_RECALL to a vecgen data set directory")
	}
	n := 20000
	if v := os.Getenv("SIGHT_WEAVIATE_RECALL_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	base, err := texmex.ReadFvecs(ctx, filepath.Join(dir, "base.fvecs"))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := texmex.ReadFvecs(ctx, filepath.Join(dir, "query.fvecs"))
	if err != nil {
		t.Fatal(err)
	}
	n = min(n, base.Rows)
	const nq, k = 200, 10
	// Exact top-k among the first n base vectors.
	truth := make([][]int, nq)
	for qi := range nq {
		q := qs.Row(qi)
		type hit struct {
			i int
			s float32
		}
		var hs []hit
		for i := range n {
			var d float32
			for j, x := range base.Row(i) {
				d += x * q[j]
			}
			hs = append(hs, hit{i, d})
		}
		slices.SortFunc(hs, func(a, b hit) int {
			if a.s != b.s {
				if a.s > b.s {
					return -1
				}
				return 1
			}
			return a.i - b.i
		})
		for _, h := range hs[:k] {
			truth[qi] = append(truth[qi], h.i)
		}
	}
	c := weaviatetest.Start(t, 1)
	for _, qz := range []string{"", "rq", "bq", "pq", "sq"} {
		t.Run("quantizer="+qz, func(t *testing.T) {
			s, err := Open(ctx, c.URL(), Options{Collection: "Recall" + qz, Quantizer: qz, IndexWait: 10 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			byID := map[int64]int{}
			start := time.Now()
			for first := 0; first < n; first += 1000 {
				var b catalog.Batch
				for i := first; i < min(first+1000, n); i++ {
					var seed [8]byte
					binary.BigEndian.PutUint64(seed[:], uint64(i))
					h := sha256.Sum256(seed[:])
					b.Images = append(b.Images, catalog.Image{Hash: h[:], Format: "jpeg", Model: "m",
						Vector: base.Row(i), Paths: []string{fmt.Sprintf("/b/%d", i)}})
				}
				res, err := s.Apply(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				for j, id := range res.IDs {
					byID[id] = first + j
				}
			}
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			ins := time.Since(start)
			found := 0
			start = time.Now()
			for qi := range nq {
				got, err := s.Search(ctx, qs.Row(qi), k, catalog.Filter{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range got {
					if slices.Contains(truth[qi], byID[f.ID]) {
						found++
					}
				}
			}
			qt := time.Since(start)
			t.Logf("quantizer %q: n=%d insert %v (%.0f/s), recall@10 %.4f over %d queries, %.1f ms/query",
				qz, n, ins.Round(time.Millisecond), float64(n)/ins.Seconds(), float64(found)/float64(nq*k), nq,
				float64(qt.Milliseconds())/nq)
		})
	}
}
