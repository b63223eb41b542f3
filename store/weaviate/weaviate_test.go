//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/internal/weaviatetest"
	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/storetest"
)

// TestCluster starts one 3-node cluster and runs, in order, the
// conformance suite (a fresh collection per subtest), the exhaustive
// search fallback and the node failure test.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Weaviate cluster")
	}
	c := weaviatetest.Start(t, 3)
	ctx := context.Background()
	n := 0
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, dim int) store.Store {
			n++
			s, err := Open(ctx, c.URL(), Options{Collection: fmt.Sprintf("Conf%d", n)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("SearchScan", func(t *testing.T) { testSearchScan(t, c) })
	t.Run("Quantizers", func(t *testing.T) { testQuantizers(t, c) })
	t.Run("Config", func(t *testing.T) { testConfig(t, c) })
	t.Run("Failover", func(t *testing.T) { testFailover(t, c) })
}

// testSearchScan checks the exhaustive search that takes over when a
// filter passes too few of the candidates the vector index may return.
func testSearchScan(t *testing.T, c *weaviatetest.Cluster) {
	ctx := context.Background()
	var logs strings.Builder
	s, err := Open(ctx, c.URL(), Options{Collection: "Scan", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.maxWindow = 4
	r := rand.New(rand.NewPCG(7, 7))
	ims := images(r, "scan", 0, 30, 8)
	for i := range ims {
		if i%10 == 3 {
			ims[i].Paths = append(ims[i].Paths, fmt.Sprintf("/rare/%d.jpg", i))
		}
	}
	res, err := s.Apply(ctx, catalog.Batch{Images: ims})
	if err == nil {
		err = s.Sync(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	vecs := map[int64][]float32{}
	rare := map[int64][]float32{}
	for i, id := range res.IDs {
		vecs[id] = ims[i].Vector
		if i%10 == 3 {
			rare[id] = ims[i].Vector
		}
	}
	for _, tc := range []struct {
		f    catalog.Filter
		k    int
		pool map[int64][]float32
	}{
		{catalog.Filter{PathGlob: "/rare/*"}, 5, rare},
		{catalog.Filter{PathGlob: "/rare/*"}, 2, rare},
		{catalog.Filter{}, 3, vecs},
		{catalog.Filter{PathGlob: "/none/*"}, 3, nil},
	} {
		for range 3 {
			q := storetest.UnitVector(r, 8)
			got, err := s.Search(ctx, q, tc.k, tc.f, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteTop(q, tc.k, tc.pool)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("Search(%+v, k=%d) = %v, want %v", tc.f, tc.k, got, want)
			}
			for i, f := range got {
				var d float64
				for j, x := range vecs[f.ID] {
					d += float64(x) * float64(q[j])
				}
				if math.Abs(d-float64(f.Score)) > 1e-4 {
					t.Fatalf("result %d: score %v, want %v", i, f.Score, d)
				}
			}
		}
	}
	if !strings.Contains(logs.String(), "scanning the collection") {
		t.Fatal("the exhaustive search never ran")
	}
}

// testQuantizers creates a collection with each quantizer and checks that
// a stored vector finds its own image first.
func testQuantizers(t *testing.T, c *weaviatetest.Cluster) {
	ctx := context.Background()
	for _, qz := range []string{"pq", "sq", "bq", "rq"} {
		t.Run(qz, func(t *testing.T) {
			s, err := Open(ctx, c.URL(), Options{Collection: "Quant" + strings.ToUpper(qz), Quantizer: qz})
			if err != nil {
				t.Fatal(err)
			}
			var cl *models.Class
			err = s.do(ctx, "read class", func(c *wv.Client) (err error) {
				cl, err = c.Schema().ClassGetter().WithClassName(s.images).Do(ctx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := cl.VectorIndexConfig.(map[string]any)
			sub, _ := cfg[qz].(map[string]any)
			if sub["enabled"] != true || cfg["distance"] != "cosine" {
				t.Fatalf("vector index config %v: want %s enabled, cosine", cfg, qz)
			}
			r := rand.New(rand.NewPCG(8, 8))
			ims := images(r, qz, 0, 40, 32)
			res, err := s.Apply(ctx, catalog.Batch{Images: ims})
			if err == nil {
				err = s.Sync(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				got, err := s.Search(ctx, ims[i].Vector, 3, catalog.Filter{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 3 || got[0].ID != res.IDs[i] {
					t.Fatalf("search by image %d's vector: %v, want %d first", i, got, res.IDs[i])
				}
			}
		})
	}
}

// testConfig checks that sharding and replication options reach the
// collections.
func testConfig(t *testing.T, c *weaviatetest.Cluster) {
	ctx := context.Background()
	s, err := Open(ctx, c.URL(), Options{Collection: "Cfg", Shards: 2, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s.read != "ONE" || s.write != "QUORUM" {
		t.Fatalf("consistency %s/%s, want ONE/QUORUM for 3 replicas", s.read, s.write)
	}
	if l := s.metaLevel(); l != "QUORUM" {
		t.Fatalf("meta reads at %s, want QUORUM to overlap QUORUM writes", l)
	}
	for _, name := range []string{s.images, s.paths, s.meta} {
		var cl *models.Class
		err := s.do(ctx, "read class", func(c *wv.Client) (err error) {
			cl, err = c.Schema().ClassGetter().WithClassName(name).Do(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		sh, _ := cl.ShardingConfig.(map[string]any)
		if fmt.Sprint(sh["desiredCount"]) != "2" {
			t.Errorf("%s: sharding %v, want 2 shards", name, sh)
		}
		if rc := cl.ReplicationConfig; rc == nil || rc.Factor != 3 || !rc.AsyncEnabled {
			t.Errorf("%s: replication %+v, want factor 3, async", name, rc)
		}
	}
	// A second Open finds the collections and writes through them.
	s2, err := Open(ctx, c.URL(), Options{Collection: "Cfg", Shards: 2, Replication: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Meta(ctx, "k"); err != nil || !ok || v != "v" {
		t.Fatalf("Meta = %q %v %v", v, ok, err)
	}
	// Opened without settings, the store takes the collection's, and its
	// consistency levels follow them.
	s3, err := Open(ctx, c.URL(), Options{Collection: "Cfg"})
	if err != nil {
		t.Fatal(err)
	}
	if s3.opts.Replication != 3 || s3.opts.Shards != 2 || s3.opts.Quantizer != "none" || s3.write != "QUORUM" || s3.metaLevel() != "QUORUM" {
		t.Fatalf("store on the existing collection: %+v, writes at %s", s3.opts, s3.write)
	}
	// Settings other than the collection's are refused, each named.
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Collection: "Cfg", Replication: 2}, "replication factor 3, not 2"},
		{Options{Collection: "Cfg", Shards: 3}, "2 shards, not 3"},
		{Options{Collection: "Cfg", Quantizer: "bq"}, "quantizer none, not bq"},
		{Options{Collection: "QuantPQ", Quantizer: "none"}, "quantizer pq, not none"},
		{Options{Collection: "QuantPQ", Quantizer: "sq", Replication: 2}, "replication factor 1, not 2, quantizer pq, not sq"},
	} {
		_, err := Open(ctx, c.URL(), tc.opts)
		if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.opts.Collection+" exists") {
			t.Errorf("Open(%+v) = %v, want ErrSettings with %q", tc.opts, err, tc.want)
		}
	}
	for _, opts := range []Options{{Collection: "QuantPQ", Quantizer: "pq", Replication: 1}, {Collection: "Cfg", Quantizer: "none", Shards: 2, Replication: 3}} {
		if _, err := Open(ctx, c.URL(), opts); err != nil {
			t.Errorf("Open(%+v) with the collection's own settings: %v", opts, err)
		}
	}
	// Opens racing to create a collection agree on its settings: the one
	// asking for 3 replicas either made it (and the others take 3) or is
	// refused (one of the others made it with 1).
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := Options{Collection: "Race"}
			if i == 0 {
				opts.Replication = 3
			}
			stores[i], errs[i] = Open(ctx, c.URL(), opts)
		}()
	}
	wg.Wait()
	want := 3
	if errs[0] != nil {
		if !errors.Is(errs[0], ErrSettings) {
			t.Fatalf("racing Open with 3 replicas: %v", errs[0])
		}
		want = 1
	}
	for i, st := range stores[1:] {
		if errs[i+1] != nil || st.opts.Replication != want {
			t.Fatalf("racing Open %d: %v; want the collection's factor %d", i+1, errs[i+1], want)
		}
	}
}
