//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/internal/weaviatetest"
	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/storetest"
)

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// images returns n images numbered from first, one path each.
func images(r *rand.Rand, prefix string, first, n, dim int) []catalog.Image {
	var ims []catalog.Image
	for i := first; i < first+n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s %d", prefix, i)))
		ims = append(ims, catalog.Image{
			Hash: h[:], Size: int64(i + 1), Format: "jpeg", Width: 64, Height: 48, Model: "m",
			Vector: storetest.UnitVector(r, dim), Paths: []string{fmt.Sprintf("/%s/%04d.jpg", prefix, i)},
			MTime: time.Unix(1_700_000_000, int64(i)),
		})
	}
	return ims
}

// holds reports whether node name holds object uuid of class, asking the
// node at host.
func holds(ctx context.Context, host, class, uuid, name string) (bool, error) {
	u := fmt.Sprintf("http://%s/v1/objects/%s/%s?node_name=%s", host, class, uuid, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("GET %s: %s", u, resp.Status)
}

func hostOf(c *weaviatetest.Cluster, i int) string {
	return strings.TrimPrefix(c.NodeURL(i), "weaviate://")
}

func ids(fs []store.Found) []int64 {
	var out []int64
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

// testFailover writes with replication factor 2, kills the first node of
// the address, checks that searches answer the same and writes go on,
// restarts the node and waits until it holds what it missed.
func testFailover(t *testing.T, c *weaviatetest.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const dim, before, during, queries = 32, 200, 50, 20
	opts := Options{Collection: "Failover", Replication: 2, Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	s, err := Open(ctx, c.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(42, 1))
	vecs := map[int64][]float32{}
	write := func(first, n int) []int64 {
		t.Helper()
		ims := images(r, "fo", first, n, dim)
		res, err := s.Apply(ctx, catalog.Batch{Images: ims})
		if err == nil {
			err = s.Sync(ctx)
		}
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		for i, id := range res.IDs {
			vecs[id] = ims[i].Vector
		}
		return res.IDs
	}
	all := write(0, before)
	var qs [][]float32
	var top [][]int64
	for range queries {
		q := storetest.UnitVector(r, dim)
		got, err := s.Search(ctx, q, 10, catalog.Filter{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 {
			t.Fatalf("search: %d results", len(got))
		}
		qs, top = append(qs, q), append(top, ids(got))
	}

	start := time.Now()
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		got, err := s.Search(ctx, q, 10, catalog.Filter{}, nil)
		if err != nil {
			t.Fatalf("search %d with node 1 down: %v", i, err)
		}
		if !slices.Equal(ids(got), top[i]) {
			t.Fatalf("search %d with node 1 down: %v, want %v", i, ids(got), top[i])
		}
	}
	t.Logf("%d searches answered the same with node 1 down in %v", queries, time.Since(start))
	wstart := time.Now()
	added := write(before, during)
	t.Logf("%d images written with node 1 down in %v", during, time.Since(wstart))
	all = append(all, added...)
	// The new objects whose second replica is node 1: those that only one
	// of the live nodes holds.
	var missed []string
	for _, id := range added {
		u := imageUUID(id)
		n := 0
		for i := 1; i < 3; i++ {
			ok, err := holds(ctx, hostOf(c, 1), s.images, u, c.NodeName(i))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				n++
			}
		}
		switch n {
		case 0:
			t.Fatalf("image %d written with node 1 down is on no live node", id)
		case 1:
			missed = append(missed, u)
		}
	}
	t.Logf("%d of %d objects written with node 1 down belong on node 1", len(missed), during)
	if len(missed) == 0 {
		t.Fatal("no object written with node 1 down belongs on node 1: the test proves nothing")
	}

	rstart := time.Now()
	if err := c.Restart(0); err != nil {
		t.Fatal(err)
	}
	t.Logf("node 1 restarted in %v", time.Since(rstart))
	restarted := time.Now()
	// Through node 1 alone, until it holds what it missed and its searches
	// answer as brute force over everything written.
	s1, err := Open(ctx, c.NodeURL(0), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]int64, len(qs))
	for i, q := range qs {
		want[i] = bruteTop(q, 10, vecs)
	}
	for {
		var still []string
		for _, u := range missed {
			ok, err := holds(ctx, hostOf(c, 0), s.images, u, c.NodeName(0))
			if err != nil || !ok {
				still = append(still, u)
			}
		}
		missed = still
		wrong := 0
		var last string
		for i, q := range qs {
			got, err := s1.Search(ctx, q, 10, catalog.Filter{}, nil)
			if err != nil || !slices.Equal(ids(got), want[i]) {
				wrong++
				last = fmt.Sprintf("search %d: %v %v, want %v", i, ids(got), err, want[i])
			}
		}
		st, err := s1.Stats(ctx)
		if err != nil || st.Images != int64(len(all)) || st.Paths != int64(len(all)) {
			wrong++
			last = fmt.Sprintf("stats %+v %v, want %d images and paths", st, err, len(all))
		}
		if len(missed) == 0 && wrong == 0 {
			break
		}
		if time.Since(restarted) > 60*time.Second {
			pre := map[int64]bool{}
			for _, id := range all[:before] {
				pre[id] = true
			}
			for i, q := range qs {
				got, _ := s1.Search(ctx, q, 10, catalog.Filter{}, nil)
				for _, id := range want[i] {
					if !slices.Contains(ids(got), id) {
						var on []string
						for n := range 3 {
							ok, err := holds(ctx, hostOf(c, 1), s.images, imageUUID(id), c.NodeName(n))
							on = append(on, fmt.Sprint(ok, err))
						}
						gc, _ := s.Search(ctx, q, 10, catalog.Filter{}, nil)
						t.Logf("search %d misses %d (written before the kill: %v) held by nodes: %v; via cluster found: %v", i, id, pre[id], on, slices.Contains(ids(gc), id))
					}
				}
			}
			t.Fatalf("60 s after its restart node 1 lacks %d objects and has %d wrong answers (%s)", len(missed), wrong, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("node 1 caught up %v after its restart", time.Since(restarted))

	seen := map[int64]int{}
	err = s1.EachVector(ctx, func(id int64, v []float32) error {
		seen[id]++
		if !slices.Equal(v, vecs[id]) {
			return fmt.Errorf("image %d: wrong vector", id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range all {
		if seen[id] != 1 {
			t.Fatalf("image %d listed %d times through node 1", id, seen[id])
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("%d images listed through node 1, want %d", len(seen), len(all))
	}
	paths := 0
	err = s1.EachPath(ctx, func(e catalog.PathEntry) error {
		if _, ok := vecs[e.ImageID]; !ok {
			return fmt.Errorf("path %q names unknown image %d", e.Path, e.ImageID)
		}
		paths++
		return nil
	})
	if err != nil || paths != len(all) {
		t.Fatalf("EachPath through node 1: %d paths, %v; want %d", paths, err, len(all))
	}
	// Every object on exactly two nodes.
	for _, id := range all {
		n := 0
		for i := range 3 {
			ok, err := holds(ctx, hostOf(c, 0), s.images, imageUUID(id), c.NodeName(i))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("image %d is on %d nodes, want 2", id, n)
		}
	}
}

// bruteTop returns the ids of the k vectors most similar to q.
func bruteTop(q []float32, k int, vecs map[int64][]float32) []int64 {
	return ids(storetest.BruteForce(q, k, vecs, nil))
}
