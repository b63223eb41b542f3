package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sightsearch/sight/internal/natstest"
)

// open opens a queue on url that the test closes.
func open(t *testing.T, url string, opts Options) *Queue {
	t.Helper()
	q, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func jobs(prefix string, n int) []Job {
	js := make([]Job, n)
	for i := range js {
		js[i] = Job{Path: fmt.Sprintf("/%s/%03d.jpg", prefix, i)}
	}
	return js
}

func status(t *testing.T, q *Queue) Status {
	t.Helper()
	st, err := q.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func paths(ds []*Delivery) []string {
	var ps []string
	for _, d := range ds {
		ps = append(ps, d.Job.Path)
	}
	sort.Strings(ps)
	return ps
}

// fetchN fetches until it holds n jobs or wait has passed. A single Fetch
// may return fewer than it could: the server counts jobs enqueued a moment
// ago asynchronously, and Fetch does not wait for those beyond the first.
func fetchN(t *testing.T, q *Queue, n int, wait time.Duration) ([]*Delivery, error) {
	t.Helper()
	var ds []*Delivery
	deadline := time.Now().Add(wait)
	for len(ds) < n {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		got, err := q.Fetch(context.Background(), n-len(ds), left)
		ds = append(ds, got...)
		if err != nil {
			return ds, err
		}
	}
	return ds, nil
}

func ackAll(t *testing.T, ds []*Delivery) {
	t.Helper()
	for _, d := range ds {
		if err := d.Ack(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnqueueFetchAck(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{})
	if q.AckWait() != DefaultAckWait || q.MaxDeliver() != DefaultMaxDeliver || q.Stream() != DefaultStream {
		t.Fatalf("defaults: ack wait %v, max deliver %d, stream %s", q.AckWait(), q.MaxDeliver(), q.Stream())
	}
	res, err := q.Enqueue(ctx, jobs("a", 5))
	if err != nil || res.Added != 5 || res.Duplicates != 0 {
		t.Fatalf("enqueue: %+v, %v", res, err)
	}
	if st := status(t, q); st.Queued != 5 || st.InFlight != 0 || st.Done != 0 || st.Drained() {
		t.Fatalf("after enqueue: %+v", st)
	}
	if d, err := q.Drained(ctx); err != nil || d {
		t.Fatalf("Drained with 5 queued = %v, %v", d, err)
	}
	ds, err := fetchN(t, q, 5, 5*time.Second)
	if err != nil || len(ds) != 5 {
		t.Fatalf("fetch: %d jobs, %v", len(ds), err)
	}
	for i, d := range ds {
		if d.Attempt != 1 || d.Job.Path != jobs("a", 5)[i].Path {
			t.Fatalf("delivery %d: %+v", i, d)
		}
	}
	ackAll(t, ds[:3])
	if st := status(t, q); st.Queued != 0 || st.InFlight != 2 || st.Done != 3 {
		t.Fatalf("after 3 acks: %+v", st)
	}
	// Handed back, the two come again as second attempts.
	for _, d := range ds[3:] {
		if err := d.Retry(0); err != nil {
			t.Fatal(err)
		}
	}
	again, err := fetchN(t, q, 2, 5*time.Second)
	if err != nil || len(again) != 2 || again[0].Attempt != 2 || again[1].Attempt != 2 {
		t.Fatalf("refetch: %v %v", again, err)
	}
	if st := status(t, q); st.Redelivered != 2 {
		t.Fatalf("redelivered %d, want 2", st.Redelivered)
	}
	ackAll(t, again)
	if st := status(t, q); !st.Drained() || st.Done != 5 || st.Dead != 0 || st.Stuck != 0 {
		t.Fatalf("drained: %+v", st)
	}
	if d, err := q.Drained(ctx); err != nil || !d {
		t.Fatalf("Drained after every ack = %v, %v", d, err)
	}
	// An empty queue: Fetch waits maxWait, then returns nothing.
	t0 := time.Now()
	none, err := q.Fetch(ctx, 4, 300*time.Millisecond)
	if err != nil || len(none) != 0 {
		t.Fatalf("empty fetch: %v %v", none, err)
	}
	if d := time.Since(t0); d < 200*time.Millisecond || d > 3*time.Second {
		t.Fatalf("empty fetch returned after %v", d)
	}
	// A cancelled context ends the wait with its error.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := q.Fetch(cctx, 1, 10*time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "DEDUPE"})
	steps := []struct {
		name       string
		jobs       []Job
		added, dup int
		ack        bool
	}{
		{"first", jobs("d", 4), 4, 0, false},
		{"same again", jobs("d", 4), 0, 4, false},
		{"overlapping", jobs("d", 6), 2, 4, true},
		{"after the acks, within the window", jobs("d", 6), 0, 6, false},
		{"a path twice in one call", []Job{{"/x.png"}, {"/x.png"}}, 1, 1, false},
		{"names that are not UTF-8", []Job{{"/bad\xff\xfe.jpg"}, {"/bad\xff\xfd.jpg"}}, 2, 0, false},
	}
	for _, s := range steps {
		res, err := q.Enqueue(ctx, s.jobs)
		if err != nil || res.Added != s.added || res.Duplicates != s.dup {
			t.Fatalf("%s: %+v, %v; want %d added, %d duplicates", s.name, res, err, s.added, s.dup)
		}
		if s.ack {
			ds, err := fetchN(t, q, 6, 5*time.Second)
			if err != nil || len(ds) != 6 {
				t.Fatalf("%s: fetched %d, %v", s.name, len(ds), err)
			}
			ackAll(t, ds)
		}
	}
	if st := status(t, q); st.Queued != 3 || st.Done != 6 {
		t.Fatalf("status: %+v", st)
	}
	// Paths come back byte for byte.
	ds, err := fetchN(t, q, 3, 5*time.Second)
	if p := paths(ds); err != nil || len(p) != 3 || p[0] != "/bad\xff\xfd.jpg" || p[1] != "/bad\xff\xfe.jpg" || p[2] != "/x.png" {
		t.Fatalf("fetched %q, %v", p, err)
	}
	for _, bad := range []struct{ path, want string }{{"", "no path"}, {"rel/a.jpg", "not absolute"}} {
		if _, err := q.Enqueue(ctx, []Job{{Path: bad.path}}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("path %q: %v", bad.path, err)
		}
	}
	// A bad job in a batch adds nothing of the batch.
	res, err := q.Enqueue(ctx, []Job{{Path: "/good-1.jpg"}, {Path: "rel.jpg"}})
	if err == nil || res.Added != 0 {
		t.Fatalf("batch with a bad job: %+v, %v", res, err)
	}
	if ds, _ := q.Fetch(ctx, 1, 300*time.Millisecond); len(ds) != 0 {
		t.Fatalf("a job of the refused batch was queued: %q", paths(ds))
	}
}

// TestRedeliveryAfterAckWait: a worker that stops acknowledging (killed,
// hung) loses its jobs to the others after AckWait.
func TestRedeliveryAfterAckWait(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	opts := Options{Stream: "REDELIVER", AckWait: time.Second}
	a := open(t, srv.URL(), opts)
	b := open(t, srv.URL(), Options{Stream: "REDELIVER"}) // unset: the queue's own
	if b.AckWait() != time.Second {
		t.Fatalf("second Open sees AckWait %v, want the consumer's 1s", b.AckWait())
	}
	if _, err := a.Enqueue(ctx, jobs("r", 2)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	held, err := fetchN(t, a, 2, 5*time.Second)
	if err != nil || len(held) != 2 {
		t.Fatalf("a fetch: %v %v", held, err)
	}
	a.nc.Close() // a dies without acking
	got, err := fetchN(t, b, 2, 4*time.Second)
	if err != nil || len(got) == 0 {
		t.Fatalf("b got nothing after AckWait: %v", err)
	}
	if d := time.Since(t0); d < 900*time.Millisecond {
		t.Fatalf("redelivered after %v, before AckWait", d)
	}
	if p := paths(got); len(p) != 2 || p[0] != "/r/000.jpg" || p[1] != "/r/001.jpg" {
		t.Fatalf("b got %v, want a's two unacked jobs", p)
	}
	for _, d := range got {
		if d.Attempt != 2 {
			t.Fatalf("%s: attempt %d, want 2", d.Job.Path, d.Attempt)
		}
	}
	ackAll(t, got)
	if st := status(t, b); !st.Drained() || st.Done != 2 {
		t.Fatalf("status: %+v", st)
	}
}

// TestKeepAlive: jobs kept alive are not delivered again past AckWait.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	var logs syncBuffer
	opts := Options{Stream: "KEEP", AckWait: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	a, b := open(t, srv.URL(), opts), open(t, srv.URL(), opts)
	if _, err := a.Enqueue(ctx, jobs("k", 4)); err != nil {
		t.Fatal(err)
	}
	ds, err := fetchN(t, a, 4, 5*time.Second)
	if err != nil || len(ds) != 4 {
		t.Fatalf("fetch: %v %v", ds, err)
	}
	stop := a.KeepAlive(ds)
	// A job of the batch done early is simply no longer kept alive.
	ackAll(t, ds[:1])
	if got, err := b.Fetch(ctx, 3, 5*time.Second); err != nil || len(got) != 0 {
		t.Fatalf("kept jobs delivered again: %v %v", paths(got), err)
	}
	stop()
	if strings.Contains(logs.String(), "keep-alive") {
		t.Fatalf("keep-alive warned about an acknowledged job:\n%s", logs.String())
	}
	ackAll(t, ds[1:])
	if st := status(t, a); !st.Drained() || st.Done != 4 || st.Redelivered != 0 {
		t.Fatalf("status: %+v", st)
	}
}

// TestBackpressureManyWindows: Enqueue of more jobs than it sends at once
// (enqueueWindow) into a queue that fills on the first window: the later
// windows wait for room with the rejected jobs, and everything is added in
// the end, once.
func TestBackpressureManyWindows(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "WINDOWS", MaxJobs: 100})
	const n = 3*enqueueWindow + 17
	type result struct {
		res Enqueued
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := q.Enqueue(ctx, jobs("w", n))
		done <- result{r, err}
	}()
	seen := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		if st := status(t, q); st.Queued+uint64(st.InFlight) > 100 {
			t.Fatalf("queue over its bound: %+v", st)
		}
		ds, err := q.Fetch(ctx, 64, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if seen[d.Job.Path] {
				t.Fatalf("%s delivered twice", d.Job.Path)
			}
			seen[d.Job.Path] = true
		}
		ackAll(t, ds)
	}
	r := <-done
	if r.err != nil || r.res.Added != n || r.res.Duplicates != 0 || r.res.Waited <= 0 || len(seen) != n {
		t.Fatalf("enqueue of %d jobs into a queue of 100: %+v, %v; %d delivered", n, r.res, r.err, len(seen))
	}
}

// TestBackpressure: a full queue makes Enqueue wait until workers make room,
// and adds everything in the end; it never holds more than MaxJobs.
func TestBackpressure(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "BOUNDED", MaxJobs: 10})
	type result struct {
		res Enqueued
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := q.Enqueue(ctx, jobs("b", 35))
		done <- result{r, err}
	}()
	// Drain slowly, checking the bound.
	var acked int
	deadline := time.Now().Add(30 * time.Second)
	for acked < 35 && time.Now().Before(deadline) {
		st := status(t, q)
		if st.Queued+uint64(st.InFlight) > 10 || st.Capacity != 10 {
			t.Fatalf("queue over its bound: %+v", st)
		}
		ds, err := q.Fetch(ctx, 4, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		ackAll(t, ds)
		acked += len(ds)
	}
	r := <-done
	if r.err != nil || r.res.Added != 35 || r.res.Duplicates != 0 || r.res.Waited <= 0 {
		t.Fatalf("enqueue into a full queue: %+v, %v", r.res, r.err)
	}
	if acked != 35 {
		t.Fatalf("acked %d, want 35", acked)
	}
	// Full, with no worker: Enqueue waits until its context ends.
	if _, err := q.Enqueue(ctx, jobs("c", 10)); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	defer cancel()
	res, err := q.Enqueue(cctx, jobs("e", 2))
	if !errors.Is(err, context.DeadlineExceeded) || res.Added != 0 || !strings.Contains(err.Error(), srv.URL()) {
		t.Fatalf("enqueue into a full queue without workers: %+v, %v", res, err)
	}
}

// TestRetryAtLastDelivery: a job handed back at its last delivery (the
// server would never deliver that message again) is enqueued again as a
// new message and delivered, instead of staying in the stream stuck.
func TestRetryAtLastDelivery(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "LAST", MaxDeliver: 1})
	if _, err := q.Enqueue(ctx, jobs("l", 1)); err != nil {
		t.Fatal(err)
	}
	ds, err := q.Fetch(ctx, 1, time.Second)
	if err != nil || len(ds) != 1 {
		t.Fatalf("fetch: %v %v", paths(ds), err)
	}
	if err := ds[0].Retry(0); err != nil {
		t.Fatal(err)
	}
	again, err := q.Fetch(ctx, 1, 2*time.Second)
	if err != nil || len(again) != 1 || again[0].Job != ds[0].Job || again[0].Attempt != 1 {
		t.Fatalf("refetch after a hand-back at the last delivery: %v %v", paths(again), err)
	}
	ackAll(t, again)
	if st := status(t, q); !st.Drained() || st.Dead != 0 || st.Stuck != 0 {
		t.Fatalf("status: %+v", st)
	}
}

// TestFailAndDeadLetters: a job failing on each delivery is retried after a
// delay, then given up on with a note; a message that is no job is given up
// on at once.
func TestFailAndDeadLetters(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "FAIL", MaxDeliver: 2})
	if _, err := q.Enqueue(ctx, []Job{{"/f/bad.jpg"}}); err != nil {
		t.Fatal(err)
	}
	// Two identical messages that are no job: two deaths, two notes (one
	// note per path counted one death too few, and one job too many as
	// done).
	for range 2 {
		if err := q.nc.Publish("sight.ingest.FAIL", []byte("garbage")); err != nil {
			t.Fatal(err)
		}
	}
	q.nc.Flush()
	ds, err := fetchN(t, q, 1, 5*time.Second)
	if err != nil || len(ds) != 1 {
		t.Fatalf("fetch: %v %v", paths(ds), err)
	}
	t0 := time.Now()
	if dead, err := ds[0].Fail(ctx, errors.New("store down")); dead || err != nil {
		t.Fatalf("first failure: dead %v, %v", dead, err)
	}
	ds, err = fetchN(t, q, 1, 6*time.Second)
	if err != nil || len(ds) != 1 || ds[0].Attempt != 2 {
		t.Fatalf("retry: %v %v", ds, err)
	}
	if d := time.Since(t0); d < RetryDelay(1)-100*time.Millisecond {
		t.Fatalf("retried after %v, want RetryDelay(1) = %v", d, RetryDelay(1))
	}
	if dead, err := ds[0].Fail(ctx, errors.New("store still down")); !dead || err != nil {
		t.Fatalf("last failure: dead %v, %v", dead, err)
	}
	letters, err := q.DeadLetters(ctx)
	if err != nil || len(letters) != 3 {
		t.Fatalf("dead letters: %+v, %v", letters, err)
	}
	sort.Slice(letters, func(i, j int) bool { return letters[i].Path < letters[j].Path })
	for _, l := range letters[:2] {
		if l.Path != "(message \"garbage\")" || !strings.Contains(l.Error, "not a job: path \"garbage\" is not absolute") {
			t.Fatalf("garbage note: %+v", l)
		}
	}
	if l := letters[2]; l.Path != "/f/bad.jpg" || l.Error != "store still down" || l.Attempts != 2 {
		t.Fatalf("job note: %+v", l)
	}
	if st := status(t, q); !st.Drained() || st.Dead != 3 || st.Done != 0 {
		t.Fatalf("status: %+v", st)
	}
}

func TestRetryDelay(t *testing.T) {
	for _, c := range []struct {
		attempt int
		want    time.Duration
	}{{0, 2 * time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {3, 8 * time.Second}, {6, 64 * time.Second}, {7, 2 * time.Minute}, {8, 2 * time.Minute}, {100, 2 * time.Minute}} {
		if got := RetryDelay(c.attempt); got != c.want {
			t.Errorf("RetryDelay(%d) = %v, want %v", c.attempt, got, c.want)
		}
	}
}

// TestStuck: a job whose every delivery went unacknowledged is neither
// queued nor in flight, and Status counts it as stuck.
func TestStuck(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "STUCK", MaxDeliver: 1, AckWait: 500 * time.Millisecond})
	if _, err := q.Enqueue(ctx, jobs("s", 1)); err != nil {
		t.Fatal(err)
	}
	if ds, err := q.Fetch(ctx, 1, time.Second); err != nil || len(ds) != 1 {
		t.Fatalf("fetch: %v %v", ds, err)
	}
	time.Sleep(700 * time.Millisecond)
	if ds, err := q.Fetch(ctx, 1, time.Second); err != nil || len(ds) != 0 {
		t.Fatalf("delivered past MaxDeliver: %v %v", paths(ds), err)
	}
	if st := status(t, q); st.Stuck != 1 || !st.Drained() {
		t.Fatalf("status: %+v", st)
	}
}

func TestWorkers(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "WORKERS", WorkerTTL: time.Second})
	if again := open(t, srv.URL(), Options{Stream: "WORKERS"}); again.WorkerTTL() != time.Second {
		t.Fatalf("a second Open beats by %v, not the bucket's TTL of 1s", again.WorkerTTL())
	}
	a := Worker{ID: NewWorkerID("host.a", 1), Host: "host.a", PID: 1, Done: 10, Rate: 2.5}
	b := Worker{ID: NewWorkerID("host b", 2), Host: "host b", PID: 2, Done: 4, Rate: 1}
	for _, w := range []Worker{a, b} {
		if err := q.Beat(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Beat(ctx, Worker{ID: "bad id"}); err == nil {
		t.Fatal("beat with a bad id")
	}
	st := status(t, q)
	if len(st.Workers) != 2 || st.Rate() != 3.5 || time.Since(st.Workers[0].Seen) > 5*time.Second {
		t.Fatalf("workers: %+v", st.Workers)
	}
	if err := q.Leave(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	ws, err := q.Workers(ctx)
	if err != nil || len(ws) != 1 || ws[0].ID != b.ID || ws[0].Done != 4 {
		t.Fatalf("after a left: %+v, %v", ws, err)
	}
	// A worker whose clock runs an hour behind still counts as live: its
	// beat is timed by the server.
	skewed := Worker{ID: NewWorkerID("host.c", 3), Host: "host.c", PID: 3, Seen: time.Now().Add(-time.Hour)}
	raw, _ := json.Marshal(skewed)
	if _, err := q.workers.Put(ctx, skewed.ID, raw); err != nil {
		t.Fatal(err)
	}
	ws, err = q.Workers(ctx)
	if err != nil || len(ws) != 2 || ws[1].ID != skewed.ID || time.Since(ws[1].Seen) > 5*time.Second {
		t.Fatalf("with a worker whose clock is behind: %+v, %v", ws, err)
	}
	if err := q.Leave(ctx, skewed.ID); err != nil {
		t.Fatal(err)
	}
	// b stops beating: gone after its TTL.
	time.Sleep(2200 * time.Millisecond)
	if ws, err := q.Workers(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("after the TTL: %+v, %v", ws, err)
	}
}

// TestSettings: a queue that exists keeps the settings it was created
// with; Open refuses different ones, naming each, and takes the queue's
// for those left unset.
func TestSettings(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	made := Options{Stream: "SETTINGS", AckWait: 2 * time.Second, MaxDeliver: 3, MaxJobs: 50, MaxBytes: 1 << 20, DedupeWindow: time.Minute}
	open(t, srv.URL(), made)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Stream: "SETTINGS", AckWait: time.Hour}, "ack wait 2s, not 1h0m0s"},
		{Options{Stream: "SETTINGS", AckWait: time.Hour, MaxDeliver: 8}, "ack wait 2s, not 1h0m0s, max deliver 3, not 8"},
		// The stream is checked first, before anything else is opened.
		{Options{Stream: "SETTINGS", MaxDeliver: 8, MaxJobs: 100}, "max jobs 50, not 100"},
		{Options{Stream: "SETTINGS", MaxBytes: 2 << 20, DedupeWindow: time.Hour}, "max bytes 1048576, not 2097152, dedupe window 1m0s, not 1h0m0s"},
		{Options{Stream: "SETTINGS", Replicas: 3}, "replicas 1, not 3"},
	} {
		q, err := Open(ctx, srv.URL(), c.opts)
		if err == nil {
			q.Close()
		}
		if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "exists with "+c.want+": ") {
			t.Errorf("Open(%+v) = %v, want ErrSettings with %q", c.opts, err, c.want)
		}
	}
	for _, opts := range []Options{{Stream: "SETTINGS"}, made, {Stream: "SETTINGS", Replicas: 1, AckWait: 2 * time.Second}} {
		q := open(t, srv.URL(), opts)
		if q.AckWait() != 2*time.Second || q.MaxDeliver() != 3 {
			t.Errorf("Open(%+v): ack wait %v, max deliver %d; want the queue's 2s, 3", opts, q.AckWait(), q.MaxDeliver())
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	// A port nobody listens on: the server's, once killed.
	dead := natstest.Start(t)
	dead.Kill()
	for _, c := range []struct {
		name, url string
		opts      Options
		want      string
	}{
		{"no server", dead.URL(), Options{}, "connect to " + dead.URL()},
		{"not a url", "", Options{}, "no NATS url"},
		{"bad stream", srv.URL(), Options{Stream: "a.b"}, `bad stream name "a.b"`},
		{"bad consumer", srv.URL(), Options{Consumer: "x y"}, `bad consumer name "x y"`},
	} {
		if q, err := Open(ctx, c.url, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			if q != nil {
				q.Close()
			}
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A stream of that name that is not a work queue.
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := nc.JetStream()
	if _, err := js.AddStream(&nats.StreamConfig{Name: "PLAIN", Subjects: []string{"plain"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, srv.URL(), Options{Stream: "PLAIN"}); err == nil || !strings.Contains(err.Error(), "not a work queue") || !strings.Contains(err.Error(), "stream PLAIN") {
		t.Errorf("plain stream: %v", err)
	}
}

// FuzzJob: any message body is either a valid job (an absolute path, kept
// byte for byte) or refused with an error, never a panic.
func FuzzJob(f *testing.F) {
	for _, s := range []string{"", "/a.jpg", "rel.jpg", "/bad\xff.jpg", "garbage", "/"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j := Job{Path: string(data)}
		err := j.check()
		if ok := len(data) > 0 && filepath.IsAbs(string(data)); ok != (err == nil) {
			t.Fatalf("check(%q) = %v", data, err)
		}
		if id := j.ID(); len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("ID(%q) = %q", data, id)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCountsRightAfterEnqueue: a job is queued as soon as Enqueue returns,
// although the server counts it for the consumer a moment later.
func TestCountsRightAfterEnqueue(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	q := open(t, srv.URL(), Options{Stream: "COUNTS"})
	const rounds = 100
	for i := range rounds {
		if _, err := q.Enqueue(ctx, []Job{{Path: fmt.Sprintf("/c/%d.jpg", i)}}); err != nil {
			t.Fatal(err)
		}
		if d, err := q.Drained(ctx); err != nil || d {
			t.Fatalf("round %d: Drained right after Enqueue = %v, %v", i, d, err)
		}
		// Every other round, a job is taken and done.
		if i%2 == 1 {
			ds, err := fetchN(t, q, 1, 5*time.Second)
			if err != nil || len(ds) != 1 {
				t.Fatalf("round %d: fetch %v, %v", i, paths(ds), err)
			}
			ackAll(t, ds)
		}
		if _, err := q.Enqueue(ctx, []Job{{Path: fmt.Sprintf("/c/%d-b.jpg", i)}}); err != nil {
			t.Fatal(err)
		}
		st := status(t, q)
		if want := uint64(2*(i+1) - (i+1)/2); st.Queued != want || st.Stuck != 0 || st.InFlight != 0 {
			t.Fatalf("round %d: %+v, want %d queued", i, st, want)
		}
	}
}

// TestReplicated: a queue kept on three servers of a NATS cluster goes on
// when the server leading its stream dies: the jobs enqueued before are
// all delivered, and more can be enqueued.
func TestReplicated(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	t.Parallel()
	c := natstest.StartCluster(t, 3)
	ctx := context.Background()
	var logs syncBuffer
	q := open(t, c.URL(), Options{Stream: "REPL", Replicas: 3, AckWait: 3 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	si, err := q.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.Config.Replicas != 3 || si.Cluster == nil || len(si.Cluster.Replicas) != 2 {
		t.Fatalf("stream kept on %d servers (%+v), want 3", si.Config.Replicas, si.Cluster)
	}
	if _, err := q.Enqueue(ctx, jobs("before", 20)); err != nil {
		t.Fatal(err)
	}
	// work fetches and acknowledges until every job enqueued so far is
	// done; an Ack that fails (a leader election under way) leaves its job
	// to be delivered again after AckWait.
	seen := map[string]int{}
	ackFailed := 0
	work := func(total uint64, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			st, err := q.Status(ctx)
			if err == nil && st.Drained() && st.Done == total && st.Stuck == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not drained after %v: %+v, %v", limit, st, err)
			}
			ds, err := q.Fetch(ctx, 10, 500*time.Millisecond)
			if err != nil {
				continue
			}
			for _, d := range ds {
				seen[d.Job.Path]++
				if err := d.Ack(ctx); err != nil {
					ackFailed++
				}
			}
		}
	}
	first, err := fetchN(t, q, 5, 10*time.Second)
	if err != nil || len(first) != 5 {
		t.Fatalf("fetch: %v %v", paths(first), err)
	}
	for _, d := range first {
		seen[d.Job.Path]++
	}
	ackAll(t, first)

	// A stream that another process created with 3 copies, opened
	// without Replicas: the consumer and the buckets get 3 copies too (a
	// work queue's consumer must have as many as its stream).
	other := open(t, c.URL(), Options{Stream: "REPL"})
	if _, err := other.js.CreateStream(ctx, jetstream.StreamConfig{Name: "REPL2", Subjects: []string{"sight.ingest.REPL2"},
		Retention: jetstream.WorkQueuePolicy, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	q2 := open(t, c.URL(), Options{Stream: "REPL2"})
	for _, name := range []string{"REPL2", "KV_REPL2_workers", "KV_REPL2_dead"} {
		st, err := q2.js.Stream(ctx, name)
		if err != nil || st.CachedInfo().Config.Replicas != 3 {
			t.Fatalf("%s: %v copies, %v; want 3", name, st, err)
		}
	}
	if ci := q2.cons.CachedInfo(); ci.Config.Replicas != 3 && ci.Config.Replicas != 0 {
		t.Fatalf("consumer with %d copies, want the stream's 3", ci.Config.Replicas)
	}

	leader, err := c.StreamLeader("REPL")
	if err != nil {
		t.Fatal(err)
	}
	leader.Kill()
	t.Logf("killed the stream's leader, %s", leader.URL())

	// Enqueue sends again what the queue does not confirm while it elects
	// a new leader.
	if res, err := q.Enqueue(ctx, jobs("after", 10)); err != nil || res.Added+res.Duplicates != 10 {
		t.Fatalf("enqueue after losing a server: %+v, %v", res, err)
	}
	t.Logf("Enqueue sent the jobs again %d times", strings.Count(logs.String(), "sending them again"))
	work(30, 60*time.Second)
	if len(seen) != 30 {
		t.Fatalf("%d distinct jobs delivered, want 30", len(seen))
	}
	for p, n := range seen {
		if n != 1 && ackFailed == 0 {
			t.Errorf("%s delivered %d times, and no Ack failed", p, n)
		}
	}
}
