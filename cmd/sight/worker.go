package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sightsearch/sight/library"
	"github.com/sightsearch/sight/queue"
)

// queueFlags are the flags of the commands that use an ingest queue.
type queueFlags struct {
	url      string
	stream   string
	ackWait  time.Duration
	maxJobs  int64
	replicas int
	wait     bool          // index only
	fs       *flag.FlagSet // to tell the settings given from the defaults
}

// register adds --queue and --stream; with forIndex, --queue's usage says
// it replaces indexing here, and --wait is added.
func (f *queueFlags) register(fs *flag.FlagSet, forIndex bool) {
	f.fs = fs
	usage := "NATS JetStream server(s) of the ingest queue: nats://HOST:PORT[,nats://…]"
	if forIndex {
		usage = "enqueue the files on this NATS JetStream (nats://HOST:PORT) for sight worker processes instead of indexing them here (library and indexing flags then belong to sight worker)"
		fs.BoolVar(&f.wait, "wait", false, "with --queue: follow the workers' progress until the queue drains")
	}
	fs.StringVar(&f.url, "queue", "", usage)
	fs.StringVar(&f.stream, "stream", queue.DefaultStream, "the queue's JetStream stream")
	fs.DurationVar(&f.ackWait, "ack-wait", queue.DefaultAckWait, "when the queue is created: how long a job may stay unacknowledged before another worker gets it")
	fs.Int64Var(&f.maxJobs, "max-jobs", queue.DefaultMaxJobs, "when the queue is created: the most jobs it holds (enqueueing waits while it is full)")
	fs.IntVar(&f.replicas, "replicas", 1, "when the queue is created: copies kept of it on the servers of a NATS cluster (3 keeps it working through the loss of a server)")
}

// queueSettings returns the flags that choose the queue (--stream) and the
// settings of a new one.
func queueSettings() []string { return []string{"stream", "ack-wait", "max-jobs", "replicas"} }

// options returns the queue options of the flags. The queue's settings
// are passed only when given: a queue that exists keeps its own, and
// refuses different ones (queue.ErrSettings).
func (f *queueFlags) options(e *env, name string) queue.Options {
	o := queue.Options{Stream: f.stream, Name: name, Logger: e.log}
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "ack-wait":
			o.AckWait = f.ackWait
		case "max-jobs":
			o.MaxJobs = f.maxJobs
		case "replicas":
			o.Replicas = f.replicas
		}
	})
	return o
}

func (f *queueFlags) open(ctx context.Context, e *env, name string) (*queue.Queue, error) {
	if f.url == "" {
		return nil, usageError{"--queue nats://HOST:PORT is required"}
	}
	if f.ackWait <= 0 || f.maxJobs <= 0 || f.replicas <= 0 {
		return nil, usageError{"--ack-wait, --max-jobs and --replicas must be positive"}
	}
	return queue.Open(ctx, f.url, f.options(e, name))
}

// enqueueChunk is how many jobs `sight index --queue` sends at a time.
const enqueueChunk = 1000

// enqueueIndex is `sight index --queue`: it walks sources as `sight index`
// does (library.Files) and enqueues every regular file for the workers.
func enqueueIndex(ctx context.Context, e *env, qf queueFlags, sources []string, asJSON bool) error {
	q, err := qf.open(ctx, e, "sight index")
	if err != nil {
		return err
	}
	defer q.Close()
	start := time.Now()
	paths, bad, err := library.Files(ctx, sources, e.stdin)
	if err != nil {
		return err
	}
	var skipped []string
	for p, why := range bad {
		skipped = append(skipped, p+": "+why)
	}
	slices.Sort(skipped)
	for _, s := range skipped {
		fmt.Fprintf(e.stderr, "sight index: skipped %s\n", s)
	}
	files, problems := len(paths), len(bad)
	var total queue.Enqueued
	var chunk []queue.Job
	flush := func() error {
		res, err := q.Enqueue(ctx, chunk)
		total.Added += res.Added
		total.Duplicates += res.Duplicates
		total.Waited += res.Waited
		chunk = chunk[:0]
		return err
	}
	for _, p := range paths {
		chunk = append(chunk, queue.Job{Path: p})
		if len(chunk) == enqueueChunk {
			if err = flush(); err != nil {
				break
			}
		}
	}
	if err == nil && len(chunk) > 0 {
		err = flush()
	}
	if asJSON {
		json.NewEncoder(e.stdout).Encode(map[string]any{
			"queue": q.URL(), "stream": q.Stream(), "files": files, "enqueued": total.Added,
			"already_queued": total.Duplicates, "unreadable": problems,
			"waited_seconds": total.Waited.Seconds(), "elapsed_seconds": time.Since(start).Seconds()})
	} else {
		fmt.Fprintf(e.stdout, "%d files: %d enqueued, %d already queued", files, total.Added, total.Duplicates)
		if problems > 0 {
			fmt.Fprintf(e.stdout, ", %d unreadable", problems)
		}
		fmt.Fprintf(e.stdout, " on %s (stream %s) in %.1fs\n", q.URL(), q.Stream(), time.Since(start).Seconds())
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(e.stderr, "sight index: interrupted; what was enqueued stays queued")
			return exitError{130}
		}
		return err
	}
	if !qf.wait {
		return nil
	}
	return followQueue(ctx, e, q)
}

// followQueue prints the queue's progress every few seconds until it
// drains.
func followQueue(ctx context.Context, e *env, q *queue.Queue) error {
	every := 5 * time.Second
	if isTerminal(e.stderr) {
		every = time.Second
	}
	var last time.Time
	for {
		// A cheap check every tick; the full status to print.
		drained, err := q.Drained(ctx)
		if err == nil && (drained || time.Since(last) >= every) {
			var st queue.Status
			if st, err = q.Status(ctx); err == nil {
				if st.Drained() {
					fmt.Fprintf(e.stdout, "queue drained: %d done, %d dead, %d stuck\n", st.Done, st.Dead, st.Stuck)
					return nil
				}
				last = time.Now()
				fmt.Fprintf(e.stderr, "queued %d, in flight %d, done %d, %d workers at %.1f images/s\n",
					st.Queued, st.InFlight, st.Done, len(st.Workers), st.Rate())
			}
		}
		if ctx.Err() != nil {
			fmt.Fprintln(e.stderr, "sight index: stopped waiting; the workers go on")
			return exitError{130}
		}
		if err != nil {
			// The server may be restarting; the workers go on: keep following.
			e.log.Warn("index --wait: queue status", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// workerState is what a worker reports in its beats.
type workerState struct {
	mu      sync.Mutex
	w       queue.Worker
	samples []rateSample // batches of the last minute
	first   time.Time    // start of the first batch
}

type rateSample struct {
	at time.Time
	n  int
}

// finished records n jobs done at now.
func (s *workerState) finished(n int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Done += int64(n)
	s.samples = append(s.samples, rateSample{now, n})
}

// snapshot returns the worker's entry, with its rate over the last minute
// (or since its first batch began, when that is more recent): an idle
// worker's rate falls to 0 within a minute.
func (s *workerState) snapshot() queue.Worker {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	cut := 0
	for cut < len(s.samples) && now.Sub(s.samples[cut].at) > time.Minute {
		cut++
	}
	s.samples = s.samples[cut:]
	sum := 0
	for _, x := range s.samples {
		sum += x.n
	}
	s.w.Rate = 0
	if window := min(time.Minute, now.Sub(s.first)); sum > 0 && window > 0 {
		s.w.Rate = float64(sum) / window.Seconds()
	}
	return s.w
}

func (s *workerState) update(fn func(w *queue.Worker)) {
	s.mu.Lock()
	fn(&s.w)
	s.mu.Unlock()
}

// runWorker is `sight worker`: it indexes jobs from the queue into the
// library until SIGINT or SIGTERM (or, with --drain, until the queue is
// drained). Every worker must see the files at the paths they were
// enqueued with (a shared mount): a file missing here is a skip, done.
func runWorker(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "worker", "--queue nats://HOST:PORT [library flags] [flags]")
	var lf libFlags
	lf.register(fs)
	var qf queueFlags
	qf.register(fs, false)
	batch := fs.Int("batch", 32, "jobs fetched and indexed at a time (each batch is one library index run)")
	modelBatch := fs.Int("model-batch", 8, "images per model batch, which is also the store's commit unit (raise it for a store with a high latency per write)")
	workers := fs.Int("workers", 0, "decoding workers (default: number of CPUs)")
	grace := fs.Duration("grace", 20*time.Second, "on SIGINT/SIGTERM, time to finish the batch in hand before handing it back")
	drain := fs.Bool("drain", false, "exit once the queue is drained (nothing queued or in flight) instead of waiting for more: start such workers after enqueueing")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q: workers take their files from the queue", pos[0])}
	}
	if *batch <= 0 || *modelBatch <= 0 {
		return usageError{"--batch and --model-batch must be positive"}
	}
	host, _ := os.Hostname()
	id := queue.NewWorkerID(host, os.Getpid())
	q, err := qf.open(ctx, e, "sight worker "+id)
	if err != nil {
		return err
	}
	defer q.Close()
	lib, err := lf.open(ctx, e)
	if err != nil {
		return err
	}
	defer lib.Close()

	w := &worker{e: e, q: q, lib: lib, batch: *batch, modelBatch: *modelBatch, workers: *workers, grace: *grace,
		state: &workerState{w: queue.Worker{ID: id, Host: host, PID: os.Getpid(), Store: workerStore(fs, lib), Started: time.Now().UTC()}}}
	e.log.Info("worker started", "id", id, "queue", q.URL(), "stream", q.Stream(), "store", w.state.w.Store, "ack_wait", q.AckWait())
	stopBeats := w.beat(ctx)
	err = w.loop(ctx, *drain)
	stopBeats()
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if lerr := q.Leave(lctx, id); lerr != nil {
		e.log.Warn("worker: leave", "err", lerr)
	}
	s := w.state.snapshot()
	fmt.Fprintf(e.stdout, "worker %s: %d jobs done (%d added, %d duplicates, %d unchanged, %d skipped), %d handed back, in %.1fs\n",
		id, s.Done, w.sum.added, w.sum.duplicates, w.sum.unchanged, w.sum.skipped, s.Failed, time.Since(s.Started).Seconds())
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil // stopped by a signal, cleanly
}

// workerStore names the store a worker writes, for its beats: the
// library's directory, else the --store address.
func workerStore(fs *flag.FlagSet, lib *library.Library) string {
	if d := lib.Dir(); d != "" {
		return d
	}
	if f := fs.Lookup("store"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	return "store"
}

// worker runs the fetch-index-ack loop.
type worker struct {
	e          *env
	q          *queue.Queue
	lib        *library.Library
	batch      int // jobs per fetch
	modelBatch int // IndexOptions.BatchSize
	workers    int
	grace      time.Duration
	state      *workerState
	sum        struct{ added, duplicates, unchanged, skipped int } // over the worker's life
	// pause is how long to wait before retrying a failed index run, and
	// before the next fetch after a batch failed for good: while the store
	// is down, the worker neither hammers it nor cycles the queue through
	// failed deliveries (each counts toward MaxDeliver).
	pause time.Duration
}

// maxPause bounds the worker's pause after failed batches.
const maxPause = time.Minute

// beat refreshes the worker's entry every third of the worker TTL until
// stop is called.
func (w *worker) beat(ctx context.Context) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.q.WorkerTTL() / 3)
		defer t.Stop()
		for {
			if err := w.q.Beat(ctx, w.state.snapshot()); err != nil && ctx.Err() == nil {
				w.e.log.Warn("worker: beat", "err", err)
			}
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); <-done }
}

// fetchWait is how long one fetch waits for a job.
const fetchWait = 2 * time.Second

func (w *worker) loop(ctx context.Context, drain bool) error {
	for ctx.Err() == nil {
		if w.pause > 0 {
			w.e.log.Info("worker: the last batch failed; pausing", "pause", w.pause)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(w.pause):
			}
		}
		ds, err := w.q.Fetch(ctx, w.batch, fetchWait)
		if ctx.Err() != nil {
			for _, d := range ds {
				d.Retry(0)
			}
			return ctx.Err()
		}
		if err != nil {
			// The server may be restarting: keep trying.
			w.e.log.Warn("worker: fetch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if len(ds) == 0 {
			if drain {
				if done, err := w.q.Drained(ctx); err == nil && done {
					return nil
				}
			}
			continue
		}
		w.run(ctx, ds)
		// Beat now too, so the counts that status shows follow each batch.
		if err := w.q.Beat(ctx, w.state.snapshot()); err != nil && ctx.Err() == nil {
			w.e.log.Warn("worker: beat", "err", err)
		}
	}
	return ctx.Err()
}

// run indexes a batch and settles its jobs. Jobs delivered before (their
// worker died or failed on them) are indexed one at a time, so that a file
// that kills its worker takes only itself down.
func (w *worker) run(ctx context.Context, ds []*queue.Delivery) {
	w.state.update(func(s *queue.Worker) { s.InHand = len(ds) })
	defer w.state.update(func(s *queue.Worker) { s.InHand = 0 })
	w.state.mu.Lock()
	if w.state.first.IsZero() {
		w.state.first = time.Now()
	}
	w.state.mu.Unlock()
	stop := w.q.KeepAlive(ds)
	defer stop()

	// The batch in hand gets up to grace to finish after a signal.
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-finished:
		case <-ctx.Done():
			select {
			case <-finished:
			case <-time.After(w.grace):
				cancel()
			}
		}
	}()

	var fresh []*queue.Delivery
	for _, d := range ds {
		if d.Attempt > 1 {
			w.index(ctx, ictx, []*queue.Delivery{d})
		} else {
			fresh = append(fresh, d)
		}
	}
	if len(fresh) > 0 {
		w.index(ctx, ictx, fresh)
	}
}

// storeRetryFor is how long a worker keeps retrying a batch whose index
// run failed (the store is down or refuses writes) before it fails the
// jobs, which uses up their deliveries.
const storeRetryFor = 10 * time.Minute

// index runs the library's ingest over ds's files and settles them: acked
// when the store confirmed the run (a file that is not an image is done
// too: a skip), handed back when the worker is stopping. A run that fails
// (the store, not the files: those are skips) is retried with the batch
// kept in hand, pausing between tries, for up to storeRetryFor: a store
// outage is no fault of the jobs, and failing them would use up their
// deliveries and bury healthy jobs during an outage of a few minutes.
// Past that, the jobs fail (retried later, or dead at the last delivery).
func (w *worker) index(ctx, ictx context.Context, ds []*queue.Delivery) {
	paths := make([]string, len(ds))
	for i, d := range ds {
		paths[i] = d.Job.Path
	}
	var sum library.Summary
	var err error
	var failing time.Time // since when the runs fail
	for {
		if ictx.Err() != nil { // stopping, grace over
			w.handBack(ds)
			return
		}
		sum, err = w.lib.Index(ictx, paths, library.IndexOptions{BatchSize: w.modelBatch, Workers: w.workers,
			Stdin: strings.NewReader(""), NoAloneTiming: true})
		if err == nil || ictx.Err() != nil {
			break
		}
		if failing.IsZero() {
			failing = time.Now()
		}
		w.state.update(func(s *queue.Worker) { s.Failed += int64(len(ds)) })
		if time.Since(failing) >= storeRetryFor {
			break
		}
		w.pause = min(max(2*w.pause, queue.RetryDelay(1)), maxPause)
		w.e.log.Warn("worker: index failed; retrying the batch in hand", "files", len(paths), "first", paths[0], "pause", w.pause, "err", err)
		select {
		case <-ictx.Done():
		case <-time.After(w.pause):
		}
	}
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch {
	case err == nil:
		done := 0
		for _, d := range ds {
			if aerr := d.Ack(settle); aerr != nil {
				// Redelivered later, and found unchanged then.
				w.e.log.Warn("worker: ack", "err", aerr)
				continue
			}
			done++
		}
		w.state.finished(done, time.Now())
		w.pause = 0
		w.sum.added += sum.Added
		w.sum.duplicates += sum.Duplicates
		w.sum.unchanged += sum.Unchanged
		for _, n := range sum.Skipped {
			w.sum.skipped += n
		}
	case ictx.Err() != nil:
		w.handBack(ds)
	default:
		w.e.log.Error("worker: index", "files", len(paths), "first", paths[0], "failing for", time.Since(failing), "err", err)
		for _, d := range ds {
			dead, ferr := d.Fail(settle, fmt.Errorf("index %s: %w", d.Job.Path, err))
			if ferr != nil {
				w.e.log.Warn("worker: fail", "err", ferr)
			}
			if dead {
				w.e.log.Error("worker: job given up", "path", d.Job.Path, "attempts", d.Attempt)
			}
		}
	}
}

// handBack returns jobs to the queue at once, for another worker.
func (w *worker) handBack(ds []*queue.Delivery) {
	for _, d := range ds {
		if err := d.Retry(0); err != nil {
			w.e.log.Warn("worker: hand back", "err", err)
		}
	}
	w.state.update(func(s *queue.Worker) { s.Failed += int64(len(ds)) })
}
