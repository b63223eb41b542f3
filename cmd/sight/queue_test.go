package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightsearch/sight/internal/natstest"
	"github.com/sightsearch/sight/internal/testimg"
	"github.com/sightsearch/sight/library"
	"github.com/sightsearch/sight/queue"
)

// TestSightProcess is the sight command run as a child process by the tests
// below: the test binary re-executed runs the command line in
// $SIGHT_CHILD_ARGS (a JSON array) as main does, signals included, and
// exits with its status.
func TestSightProcess(t *testing.T) {
	spec := os.Getenv("SIGHT_CHILD_ARGS")
	if spec == "" {
		t.Skip("child process of the queue tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		fmt.Fprintln(os.Stderr, "SIGHT_CHILD_ARGS:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// process is a sight command running as a child process.
type process struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
}

// startSight starts `sight args...` as a child process, killed when the
// test ends.
func startSight(t *testing.T, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(args)
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(exe, "-test.run=^TestSightProcess$")
	p.cmd.Env = append(os.Environ(), "SIGHT_CHILD_ARGS="+string(spec))
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		t.Fatalf("process did not exit within %v; stderr:\n%s", limit, p.stderr.String())
		return -1
	}
}

// photoSet writes n distinct JPEGs (among them names with spaces, unicode
// and bytes that are not UTF-8) and one text file into a new folder; it
// returns the folder and the images' paths.
func photoSet(t *testing.T, n int) (string, []string) {
	t.Helper()
	return photoSetSeed(t, n, 7000)
}

// photoSetSeed is photoSet with images made from seeds seed, seed+1...
func photoSetSeed(t *testing.T, n int, seed int64) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("img %03d.jpg", i)
		switch i {
		case 1:
			name = "ünïcödé 猫.jpg"
		case 2:
			name = "bad\xff\xfename.jpg"
		}
		sub := filepath.Join(dir, fmt.Sprintf("roll%d", i%3))
		os.MkdirAll(sub, 0o755)
		p := filepath.Join(sub, name)
		if err := os.WriteFile(p, testimg.TexturedJPEG(320, 240, seed+int64(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, paths
}

func queueStatus(t *testing.T, q *queue.Queue) queue.Status {
	t.Helper()
	st, err := q.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitStatus polls the queue until cond holds.
func waitStatus(t *testing.T, q *queue.Queue, limit time.Duration, what string, cond func(queue.Status) bool) queue.Status {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st := queueStatus(t, q)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; status %+v", what, limit, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkLibrary checks that the library in db holds each of paths exactly
// once, each as its own image, and nothing else.
func checkLibrary(t *testing.T, db string, paths []string) {
	t.Helper()
	ctx := context.Background()
	lib, err := library.Open(ctx, db, library.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	st, err := lib.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(paths))
	if st.Images != n || st.Vectors != n || st.Paths != n || st.Indexed != len(paths) || st.Skipped != 1 {
		t.Fatalf("library holds %d images, %d vectors, %d paths, %d indexed, %d skipped; want %d each and 1 skipped",
			st.Images, st.Vectors, st.Paths, st.Indexed, st.Skipped, n)
	}
	ids := map[int64]string{}
	for _, p := range paths {
		id, err := lib.Resolve(ctx, p)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		if other, ok := ids[id]; ok {
			t.Fatalf("%q and %q share image %d", p, other, id)
		}
		ids[id] = p
	}
}

// TestQueueIndexKilledWorker indexes a folder through the queue into the
// embedded library: a worker is SIGKILLed mid-run, after acknowledging some
// jobs; a second worker, started on the same library, gets the rest and the
// killed worker's unacknowledged jobs (after AckWait) and stops cleanly on
// SIGTERM. Every image ends up in the library exactly once.
func TestQueueIndexKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a nats-server and worker processes")
	}
	srv := natstest.Start(t)
	ctx := context.Background()
	const images = 60
	photos, paths := photoSet(t, images)
	// The first command creates the queue: a short AckWait, so that the
	// killed worker's jobs come back quickly.
	code, out, stderr := sight(t, "", "index", "--queue", srv.URL(), "--ack-wait", "2s", photos)
	if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("%d files: %d enqueued, 0 already queued on %s", images+1, images+1, srv.URL())) {
		t.Fatalf("index --queue: %d %q %s", code, out, stderr)
	}
	code, out, _ = sight(t, "", "index", "--queue", srv.URL(), "--json", photos)
	var again map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &again) != nil || again["enqueued"] != 0.0 || again["already_queued"] != float64(images+1) {
		t.Fatalf("index --queue again: %d %s", code, out)
	}
	q, err := queue.Open(ctx, srv.URL(), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if st := queueStatus(t, q); st.Queued != images+1 || q.AckWait() != 2*time.Second {
		t.Fatalf("queued %d, want %d; ack wait %v, want 2s", st.Queued, images+1, q.AckWait())
	}

	db := t.TempDir()
	workerArgs := []string{"worker", "--queue", srv.URL(), "--db", db, "--model", tinyModel, "--batch", "4", "--workers", "1"}
	a := startSight(t, workerArgs...)
	st := waitStatus(t, q, 60*time.Second, "worker a acks some jobs", func(s queue.Status) bool { return s.Done >= 8 })
	a.cmd.Process.Kill()
	a.wait(t, 10*time.Second)
	st = queueStatus(t, q)
	if st.Done >= images+1 || st.Done < 8 {
		t.Fatalf("killed worker a after %d of %d jobs: want it killed mid-run", st.Done, images+1)
	}
	killedAt := st.Done
	t.Logf("worker a killed after %d jobs done, %d in flight", st.Done, st.InFlight)

	b := startSight(t, workerArgs...)
	waitStatus(t, q, 90*time.Second, "worker b drains the queue", func(s queue.Status) bool {
		return s.Drained() && s.Done == images+1
	})
	// sight status sees the live worker b (a's entry stays until its TTL).
	code, out, stderr = sight(t, "", "status", "--queue", srv.URL(), "--json")
	var js struct {
		queue.Status
		Rate float64 `json:"rate"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &js) != nil || js.Done != images+1 || js.Queued != 0 || js.InFlight != 0 || len(js.Workers) == 0 {
		t.Fatalf("status --json: %d %s %s", code, out, stderr)
	}
	var bDone int64
	for _, w := range js.Workers {
		if w.PID == b.cmd.Process.Pid {
			bDone = w.Done
		}
	}
	if bDone < images+1-int64(killedAt) {
		t.Fatalf("worker b reports %d done, want at least the %d left when a died: %+v", bDone, images+1-int64(killedAt), js.Workers)
	}
	code, out, _ = sight(t, "", "status", "--queue", srv.URL())
	if code != 0 || !strings.Contains(out, fmt.Sprintf("queued 0, in flight 0 (0 redelivered), done %d, dead 0", images+1)) || !strings.Contains(out, "WORKER") {
		t.Fatalf("status: %d %s", code, out)
	}

	b.cmd.Process.Signal(syscall.SIGTERM)
	if code := b.wait(t, 30*time.Second); code != 0 || !strings.Contains(b.stdout.String(), "jobs done") {
		t.Fatalf("worker b on SIGTERM: exit %d\n%s\n%s", code, b.stdout.String(), b.stderr.String())
	}
	// A clean stop removes the worker's entry at once.
	for _, w := range queueStatus(t, q).Workers {
		if w.PID == b.cmd.Process.Pid {
			t.Fatalf("worker b still listed after its clean stop: %+v", w)
		}
	}
	t.Logf("worker b:\n%s%s", b.stdout.String(), b.stderr.String())
	checkLibrary(t, db, paths)
}

// TestQueueIndexWait: `index --queue --wait` follows the queue until a
// worker started with --drain has indexed everything; the worker then exits
// by itself. Files that are not images are done too (skips, not failures),
// and so are files already in the library (as after a worker that wrote a
// batch and died before acknowledging it).
func TestQueueIndexWait(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a nats-server and a worker process")
	}
	srv := natstest.Start(t)
	photos, paths := photoSet(t, 12)
	db := t.TempDir()
	// A third of the images are in the library already.
	if code, out, stderr := sight(t, "", "index", "--db", db, "--model", tinyModel, filepath.Join(photos, "roll0")); code != 0 || !strings.Contains(out, "4 added") {
		t.Fatalf("index roll0: %d %s %s", code, out, stderr)
	}
	q, err := queue.Open(context.Background(), srv.URL(), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	type result struct {
		code        int
		out, stderr string
	}
	indexed := make(chan result, 1)
	go func() {
		var r result
		r.code, r.out, r.stderr = sight(t, "", "index", "--queue", srv.URL(), "--wait", photos, filepath.Join(photos, "missing.jpg"))
		indexed <- r
	}()
	// A worker with --drain stops when the queue is empty: start it once
	// the jobs are there.
	waitStatus(t, q, 30*time.Second, "jobs enqueued", func(s queue.Status) bool { return s.Queued == 13 })
	w := startSight(t, "worker", "--queue", srv.URL(), "--db", db, "--drain", "--batch", "5")
	var r result
	select {
	case r = <-indexed:
	case <-time.After(60 * time.Second):
		t.Fatal("index --wait did not return")
	}
	code, out, stderr := r.code, r.out, r.stderr
	if code != 0 || !strings.Contains(out, "13 files: 13 enqueued, 0 already queued") || !strings.Contains(out, "queue drained: 13 done, 0 dead, 0 stuck") {
		t.Fatalf("index --queue --wait: %d %q %s", code, out, stderr)
	}
	if !strings.Contains(stderr, "skipped "+filepath.Join(photos, "missing.jpg")) {
		t.Fatalf("a missing source is not reported: %s", stderr)
	}
	if code := w.wait(t, 30*time.Second); code != 0 || !strings.Contains(w.stdout.String(), "13 jobs done (8 added, 0 duplicates, 4 unchanged, 1 skipped)") {
		t.Fatalf("worker --drain: exit %d\n%s\n%s", code, w.stdout.String(), w.stderr.String())
	}
	checkLibrary(t, db, paths)
}

// TestQueueUsage: the queue commands' mistakes are usage errors.
// TestQueueIndexWalksLikeIndex: `index --queue` finds the files `index`
// finds: it follows a symbolic link to a folder, reads paths from stdin
// with "-", and enqueues a file reached twice once.
func TestQueueIndexWalksLikeIndex(t *testing.T) {
	srv := natstest.Start(t)
	dir, other := t.TempDir(), t.TempDir()
	for _, p := range []string{filepath.Join(dir, "a.jpg"), filepath.Join(other, "b.jpg"), filepath.Join(other, "c.jpg")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(other, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	listed := t.TempDir()
	extra := filepath.Join(listed, "d.jpg")
	if err := os.WriteFile(extra, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := extra + "\n" + filepath.Join(dir, "a.jpg") + "\n"
	code, stdout, stderr := sight(t, stdin, "index", "--queue", srv.URL(), dir, "-")
	if code != 0 || !strings.HasPrefix(stdout, "4 files: 4 enqueued") {
		t.Fatalf("index --queue: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestQueueUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"worker", "--db", "x"}, "--queue nats://HOST:PORT is required"},
		{[]string{"worker", "--queue", "nats://127.0.0.1:1", "extra"}, `unexpected argument "extra"`},
		{[]string{"worker", "--queue", "nats://127.0.0.1:1", "--batch", "0"}, "--batch and --model-batch must be positive"},
		{[]string{"status"}, "--queue nats://HOST:PORT is required"},
		{[]string{"status", "--queue", "nats://127.0.0.1:1", "--ack-wait", "0s"}, "--ack-wait, --max-jobs and --replicas must be positive"},
		// Flags that only indexing here uses are refused with --queue
		// rather than ignored, and --wait needs a queue to follow.
		{[]string{"index", "--queue", "nats://127.0.0.1:1", "--prune", "--batch", "4", "."}, "--batch, --prune: not used with --queue"},
		{[]string{"index", "--queue", "nats://127.0.0.1:1", "--db", "x", "."}, "--db: not used with --queue"},
		{[]string{"index", "--wait", "."}, "--wait follows a queue: it needs --queue"},
		{[]string{"index", "--replicas", "3", "--ack-wait", "1m", "."}, "--ack-wait, --replicas: settings of a queue: they need --queue"},
	} {
		code, _, stderr := sight(t, "", c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %s; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	// An unreachable queue is an error that names it.
	code, _, stderr := sight(t, "", "status", "--queue", "nats://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "connect to nats://127.0.0.1:1") {
		t.Errorf("unreachable queue: exit %d, %s", code, stderr)
	}
}

// TestWorkerStopsCleanly: on SIGTERM a worker finishes the batch in hand
// within --grace and acknowledges it, or hands it back when the grace is
// over; either way no job waits for AckWait to be delivered again.
func TestWorkerStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a nats-server and worker processes")
	}
	photos, _ := photoSet(t, 30)
	for _, c := range []struct {
		grace    string
		finished bool // the batch in hand is done, not handed back
	}{{"30s", true}, {"1ns", false}} {
		t.Run("grace="+c.grace, func(t *testing.T) {
			srv := natstest.Start(t)
			q, err := queue.Open(context.Background(), srv.URL(), queue.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			if code, _, stderr := sight(t, "", "index", "--queue", srv.URL(), photos); code != 0 {
				t.Fatal(stderr)
			}
			w := startSight(t, "worker", "--queue", srv.URL(), "--db", t.TempDir(), "--model", tinyModel,
				"--batch", "20", "--workers", "1", "--grace", c.grace)
			waitStatus(t, q, 30*time.Second, "a batch in hand", func(s queue.Status) bool { return s.InFlight > 0 })
			w.cmd.Process.Signal(syscall.SIGTERM)
			if code := w.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("exit %d on SIGTERM\n%s", code, w.stderr.String())
			}
			st := queueStatus(t, q)
			if c.finished && (st.InFlight != 0 || st.Done == 0) || !c.finished && st.Done != 0 {
				t.Fatalf("grace %s: after the stop: %+v\n%s", c.grace, st, w.stdout.String())
			}
			if st.Done+st.Queued+uint64(st.InFlight) != 31 || len(st.Workers) != 0 {
				t.Fatalf("after the stop: %+v", st)
			}
			// What is left is there for the next worker at once, not after
			// AckWait (30 s).
			// (One Fetch may return fewer than it could: see queue.Fetch.)
			t0 := time.Now()
			var ds []*queue.Delivery
			for want := 31 - int(st.Done); err == nil && len(ds) < want && time.Since(t0) < 3*time.Second; {
				var got []*queue.Delivery
				got, err = q.Fetch(context.Background(), want-len(ds), time.Second)
				ds = append(ds, got...)
			}
			if err != nil || len(ds) != 31-int(st.Done) || time.Since(t0) > 3*time.Second {
				t.Fatalf("left %d jobs after %v, %v; want %d at once", len(ds), time.Since(t0), err, 31-st.Done)
			}
		})
	}
}

// TestQueueThroughput measures ingest through the queue (set
// SIGHT_QUEUE_BENCH=N for N images; 0 skips; SIGHT_QUEUE_BENCH_BATCH and
// SIGHT_QUEUE_BENCH_MODEL_BATCH set the workers' --batch and --model-batch): `sight index` alone, then one worker, into the
// embedded library. It reports images/s.
func TestQueueThroughput(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("SIGHT_QUEUE_BENCH"), &n)
	if n <= 0 {
		t.Skip("set SIGHT_QUEUE_BENCH=N to measure ingest of N images")
	}
	photos, _ := photoSet(t, n)
	t0 := time.Now()
	if code, _, stderr := sight(t, "", "index", "--db", t.TempDir(), "--model", tinyModel, photos); code != 0 {
		t.Fatal(stderr)
	}
	t.Logf("sight index, no queue: %d images in %.2fs: %.1f images/s", n, time.Since(t0).Seconds(), float64(n)/time.Since(t0).Seconds())
	rate := measureWorkers(t, photos, n, [][]string{{"--db", t.TempDir()}})
	t.Logf("1 worker, embedded library: %.1f images/s", rate)
}

// measureWorkers enqueues photos (n images and a text file), runs one
// worker per store argument list with --drain until the queue is drained,
// and returns images/s from the workers' start to the drain.
func measureWorkers(t *testing.T, photos string, n int, stores [][]string) float64 {
	t.Helper()
	srv := natstest.Start(t)
	q, err := queue.Open(context.Background(), srv.URL(), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if code, _, stderr := sight(t, "", "index", "--queue", srv.URL(), photos); code != 0 {
		t.Fatal(stderr)
	}
	t0 := time.Now()
	var ws []*process
	for _, st := range stores {
		args := append([]string{"worker", "--queue", srv.URL(), "--model", tinyModel, "--drain"}, st...)
		if b := os.Getenv("SIGHT_QUEUE_BENCH_BATCH"); b != "" {
			args = append(args, "--batch", b)
		}
		if b := os.Getenv("SIGHT_QUEUE_BENCH_MODEL_BATCH"); b != "" {
			args = append(args, "--model-batch", b)
		}
		ws = append(ws, startSight(t, args...))
	}
	waitStatus(t, q, 10*time.Minute, "drained", func(s queue.Status) bool { return s.Drained() && s.Done == uint64(n+1) })
	elapsed := time.Since(t0)
	for _, w := range ws {
		if code := w.wait(t, time.Minute); code != 0 {
			t.Fatalf("worker: exit %d\n%s", code, w.stderr.String())
		}
		t.Logf("%s", strings.TrimSpace(w.stdout.String()))
		if warns := strings.Count(w.stderr.String(), "level=WARN"); warns > 0 {
			t.Logf("worker logged %d warnings; the first: %s", warns, firstLine(w.stderr.String(), "level=WARN"))
		}
	}
	return float64(n) / elapsed.Seconds()
}

// firstLine returns the first line of s that contains sub.
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestWorkerRate(t *testing.T) {
	t0 := time.Now()
	s := &workerState{first: t0.Add(-10 * time.Second)}
	s.finished(20, t0.Add(-5*time.Second))
	s.finished(30, t0)
	if w := s.snapshot(); w.Done != 50 || w.Rate < 4.9 || w.Rate > 5.1 {
		t.Fatalf("50 jobs in 10 s: %+v", w)
	}
	// Samples older than a minute no longer count; the window is a minute.
	s = &workerState{first: t0.Add(-5 * time.Minute)}
	s.finished(600, t0.Add(-2*time.Minute))
	s.finished(60, t0.Add(-30*time.Second))
	if w := s.snapshot(); w.Done != 660 || w.Rate < 0.99 || w.Rate > 1.01 || len(s.samples) != 1 {
		t.Fatalf("60 jobs in the last minute: %+v", w)
	}
	s = &workerState{first: t0.Add(-5 * time.Minute)}
	s.finished(10, t0.Add(-2*time.Minute))
	if w := s.snapshot(); w.Rate != 0 {
		t.Fatalf("idle for 2 minutes: rate %v", w.Rate)
	}
}

func TestPrintStatus(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b bytes.Buffer
	printStatus(&b, queue.Status{URL: "nats://h:4222", Stream: "S", Queued: 5, InFlight: 3, Redelivered: 1, Done: 7, Dead: 1, Stuck: 2, Capacity: 100,
		Workers: []queue.Worker{{ID: "w1", Done: 7, Rate: 2.25, InHand: 3, Seen: now.Add(-2 * time.Second), Store: "/db"}}}, now)
	want := `queue nats://h:4222, stream S (capacity 100)
queued 5, in flight 3 (1 redelivered), done 7, dead 1, stuck 2
1 worker, 2.2 images/s
  WORKER  DONE  IMAGES/S  IN HAND  HANDED BACK  SEEN    STORE
  w1      7     2.2       3        0            2s ago  /db
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestQueueReplicas: --replicas keeps the queue on several servers of a
// NATS cluster; a lone server refuses it with JetStream's reason.
func TestQueueReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	photos, _ := photoSet(t, 2)
	lone := natstest.Start(t)
	code, _, stderr := sight(t, "", "index", "--queue", lone.URL(), "--replicas", "3", photos)
	if code != 1 || !strings.Contains(stderr, "open stream") || !strings.Contains(stderr, "clustered") {
		t.Fatalf("--replicas 3 on a lone server: exit %d, %s", code, stderr)
	}
	c := natstest.StartCluster(t, 3)
	code, out, stderr := sight(t, "", "index", "--queue", c.URL(), "--replicas", "3", photos)
	if code != 0 || !strings.Contains(out, "3 files: 3 enqueued") {
		t.Fatalf("index --queue --replicas 3: exit %d, %s %s", code, out, stderr)
	}
	code, out, stderr = sight(t, "", "status", "--queue", c.URL())
	if code != 0 || !strings.Contains(out, "(capacity 100000, 3 copies)") || !strings.Contains(out, "queued 3,") {
		t.Fatalf("status: exit %d, %s %s", code, out, stderr)
	}
	// The queue's settings are its own: a different one is refused.
	code, _, stderr = sight(t, "", "status", "--queue", c.URL(), "--replicas", "1", "--max-jobs", "100000")
	if code != 1 || !strings.Contains(stderr, "exists with replicas 3, not 1: ") {
		t.Fatalf("status --replicas 1 on a queue of 3 copies: exit %d, %s", code, stderr)
	}
}

// TestQueueWorkerNATSFailover: a worker indexes from a queue kept on three
// NATS servers (--replicas 3) while the server leading the queue's stream
// is SIGKILLed: the worker reconnects and goes on, and every image ends up
// in the library exactly once.
func TestQueueWorkerNATSFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-server NATS cluster and a worker process")
	}
	c := natstest.StartCluster(t, 3)
	ctx := context.Background()
	const images = 40
	photos, paths := photoSet(t, images)
	if code, out, stderr := sight(t, "", "index", "--queue", c.URL(), "--replicas", "3", "--ack-wait", "3s", photos); code != 0 {
		t.Fatalf("index --queue: exit %d, %s %s", code, out, stderr)
	}
	q, err := queue.Open(ctx, c.URL(), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	db := t.TempDir()
	w := startSight(t, "worker", "--queue", c.URL(), "--db", db, "--model", tinyModel, "--batch", "4", "--workers", "1")
	leader, err := c.StreamLeader(queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, q, 60*time.Second, "the worker acks some jobs", func(s queue.Status) bool { return s.Done >= 8 })
	leader.Kill()
	if st.Done >= images+1 {
		t.Fatalf("killed the leader after the end (%d done): want it killed mid-run", st.Done)
	}
	t.Logf("killed the stream's leader, %s, with %d of %d jobs done", leader.URL(), st.Done, images+1)
	// Status may fail while the servers elect a new leader.
	deadline := time.Now().Add(120 * time.Second)
	for {
		st, err := q.Status(ctx)
		if err == nil && st.Drained() && st.Done == images+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained within 120 s after the kill: %+v, %v\n%s", st, err, w.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	if code := w.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("worker on SIGTERM: exit %d\n%s\n%s", code, w.stdout.String(), w.stderr.String())
	}
	checkLibrary(t, db, paths)
}
