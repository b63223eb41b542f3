//go:build !386 && !arm && !mips && !mipsle

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/internal/natstest"
	"github.com/sightsearch/sight/internal/weaviatetest"
	"github.com/sightsearch/sight/queue"
	"github.com/sightsearch/sight/store/weaviate"
)

// checkStore checks that the Weaviate store at url holds each of paths
// exactly once, each as its own image, and nothing else.
func checkStore(t *testing.T, url string, paths []string) {
	t.Helper()
	ctx := context.Background()
	st, err := weaviate.Open(ctx, url, weaviate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[string]int{}
	images := map[int64]string{}
	err = st.EachPath(ctx, func(e catalog.PathEntry) error {
		seen[e.Path]++
		if other, ok := images[e.ImageID]; ok {
			return fmt.Errorf("%q and %q share image %d", e.Path, other, e.ImageID)
		}
		images[e.ImageID] = e.Path
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if seen[p] != 1 {
			t.Errorf("%q is in the store %d times", p, seen[p])
		}
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(paths))
	if len(seen) != len(paths) || stats.Images != n || stats.Vectors != n || stats.Paths != n {
		t.Fatalf("store holds %d distinct paths, %+v; want %d each", len(seen), stats, n)
	}
}

// TestQueueTwoWorkersWeaviate indexes a folder through the queue with two
// worker processes writing one Weaviate cluster at once; one is SIGKILLed
// after acknowledging some jobs. Every image ends up in the store exactly
// once.
func TestQueueTwoWorkersWeaviate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Weaviate cluster, a nats-server and worker processes")
	}
	cluster := weaviatetest.Start(t, 3)
	srv := natstest.Start(t)
	ctx := context.Background()
	q, err := queue.Open(ctx, srv.URL(), queue.Options{AckWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const images = 60
	photos, paths := photoSet(t, images)
	if code, _, stderr := sight(t, "", "index", "--queue", srv.URL(), photos); code != 0 {
		t.Fatal(stderr)
	}
	args := []string{"worker", "--queue", srv.URL(), "--store", cluster.URL(), "--model", tinyModel, "--batch", "4", "--workers", "1"}
	a, b := startSight(t, args...), startSight(t, args...)
	aDone := func(s queue.Status) int64 {
		for _, w := range s.Workers {
			if w.PID == a.cmd.Process.Pid {
				return w.Done
			}
		}
		return 0
	}
	st := waitStatus(t, q, 120*time.Second, "worker a acks some jobs", func(s queue.Status) bool { return aDone(s) >= 4 })
	a.cmd.Process.Kill()
	a.wait(t, 10*time.Second)
	st = queueStatus(t, q)
	if st.Done >= images+1 {
		t.Fatalf("killed worker a after the end (%d done): want it killed mid-run", st.Done)
	}
	t.Logf("worker a killed after %d jobs done in all (%d by a), %d in flight", st.Done, aDone(st), st.InFlight)
	waitStatus(t, q, 180*time.Second, "worker b drains the queue", func(s queue.Status) bool {
		return s.Drained() && s.Done == images+1
	})
	b.cmd.Process.Signal(syscall.SIGTERM)
	if code := b.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("worker b on SIGTERM: exit %d\n%s\n%s", code, b.stdout.String(), b.stderr.String())
	}
	t.Logf("worker b: %s", strings.TrimSpace(b.stdout.String()))
	checkStore(t, cluster.URL(), paths)
}

// TestQueueThroughputWeaviate measures ingest through the queue into a
// 3-node Weaviate cluster with one worker, then with two (set
// SIGHT_QUEUE_BENCH=N for N images; 0 skips), each on its own folder.
func TestQueueThroughputWeaviate(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("SIGHT_QUEUE_BENCH"), &n)
	if n <= 0 {
		t.Skip("set SIGHT_QUEUE_BENCH=N to measure ingest of N images")
	}
	cluster := weaviatetest.Start(t, 3)
	store := []string{"--store", cluster.URL()}
	one, _ := photoSetSeed(t, n, 20000)
	two, _ := photoSetSeed(t, n, 40000)
	direct, _ := photoSetSeed(t, n, 80000)
	// Warm up: create the collections and the model setting.
	warm, _ := photoSetSeed(t, 2, 60000)
	measureWorkers(t, warm, 2, [][]string{store})
	t0 := time.Now()
	if code, _, stderr := sight(t, "", "index", "--store", cluster.URL(), "--model", tinyModel, direct); code != 0 {
		t.Fatal(stderr)
	}
	t.Logf("sight index --store, no queue: %.1f images/s", float64(n)/time.Since(t0).Seconds())
	r1 := measureWorkers(t, one, n, [][]string{store})
	t.Logf("1 worker, Weaviate (3 nodes): %.1f images/s", r1)
	r2 := measureWorkers(t, two, n, [][]string{store, store})
	t.Logf("2 workers, Weaviate (3 nodes): %.1f images/s (%.2fx)", r2, r2/r1)
}

// TestQueueWorkerSurvivesStoreOutage: while the store is down, a worker
// keeps the batch in hand and retries it, instead of acknowledging, losing
// or failing its jobs (with one delivery per job, failing would bury them);
// once the store is back, every image ends up in it exactly once and no
// job is dead.
func TestQueueWorkerSurvivesStoreOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Weaviate node, a nats-server and a worker process")
	}
	cluster := weaviatetest.Start(t, 1)
	srv := natstest.Start(t)
	ctx := context.Background()
	// One delivery per job: a worker that failed the jobs of a batch the
	// store refused would bury them at once. It keeps the batch in hand
	// and retries instead.
	q, err := queue.Open(ctx, srv.URL(), queue.Options{MaxDeliver: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const images = 40
	photos, paths := photoSet(t, images)
	if code, _, stderr := sight(t, "", "index", "--queue", srv.URL(), photos); code != 0 {
		t.Fatal(stderr)
	}
	w := startSight(t, "worker", "--queue", srv.URL(), "--store", cluster.URL(), "--model", tinyModel, "--batch", "4", "--workers", "1")
	waitStatus(t, q, 60*time.Second, "some jobs done", func(s queue.Status) bool { return s.Done >= 8 })
	if err := cluster.Kill(0); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, q, 60*time.Second, "the worker hands back a batch", func(s queue.Status) bool {
		return len(s.Workers) == 1 && s.Workers[0].Failed > 0
	})
	if st.Dead != 0 || st.Done >= images+1 {
		t.Fatalf("during the outage: %+v", st)
	}
	if err := cluster.Restart(0); err != nil {
		t.Fatal(err)
	}
	st = waitStatus(t, q, 120*time.Second, "the queue drains once the store is back", func(s queue.Status) bool {
		return s.Drained() && s.Done == images+1
	})
	if st.Dead != 0 {
		t.Fatalf("dead jobs: %+v", st)
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	if code := w.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("worker: exit %d\n%s", code, w.stderr.String())
	}
	t.Logf("worker: %s", strings.TrimSpace(w.stdout.String()))
	checkStore(t, cluster.URL(), paths)
}

// TestStoreAPIKey: a cluster that requires an API key gets it from
// $WEAVIATE_API_KEY; without it sight says which variable to set.
func TestStoreAPIKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Weaviate node")
	}
	const key = "cli-s3cret"
	cluster := weaviatetest.StartOptions(t, 1, weaviatetest.Options{APIKey: key})
	photos, _ := photoSet(t, 3)
	t.Setenv("WEAVIATE_API_KEY", "")
	code, _, stderr := sight(t, "", "index", "--store", cluster.URL(), "--model", tinyModel, photos)
	if code != 1 || !strings.Contains(stderr, "set $WEAVIATE_API_KEY") {
		t.Fatalf("without a key: exit %d, %s", code, stderr)
	}
	t.Setenv("WEAVIATE_API_KEY", key)
	code, out, stderr := sight(t, "", "index", "--store", cluster.URL(), "--model", tinyModel, photos)
	if code != 0 || !strings.Contains(out, "3 added") {
		t.Fatalf("with the key: exit %d, %s %s", code, out, stderr)
	}
	code, out, stderr = sight(t, "", "search", "--store", cluster.URL(), "--model", tinyModel, "--format", "paths", "a photo")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("search: exit %d, %s %s", code, out, stderr)
	}
	// A collection's settings are its own: a different one is refused.
	code, _, stderr = sight(t, "", "stats", "--store", cluster.URL(), "--replication", "2", "--quantizer", "none")
	if code != 1 || !strings.Contains(stderr, "collection SightImage exists with replication factor 1, not 2") {
		t.Fatalf("stats --replication 2 on a collection of factor 1: exit %d, %s", code, stderr)
	}
}
