// Package queue is Sight's distributed ingest: a work queue of image files to
// index, kept in NATS JetStream, that any number of `sight worker`
// processes drain into one store.
//
// # Model
//
// A job names one file by its absolute path. Jobs live in a JetStream stream
// with work-queue retention (a job is removed once a worker acknowledges
// it) and are handed out by one durable pull consumer that all workers
// share, so each job goes to one worker at a time.
//
// Delivery is at least once: a worker acknowledges a job ([Delivery.Ack])
// only after the store confirmed its write. A job not acknowledged within
// the consumer's AckWait (a worker killed, a machine gone) is delivered
// again to another worker; a worker working long on a batch keeps it with
// [Queue.KeepAlive]. A job that fails is retried after a growing delay
// ([Delivery.Fail]) up to MaxDeliver deliveries, then set aside with a
// dead-letter note ([Queue.DeadLetters]). Stores apply writes idempotently
// (see package store), so a redelivered job changes nothing that was
// already written.
//
// # Deduplication and backpressure
//
// Each job is published with its identity, the SHA-256 of its path, as
// Nats-Msg-Id: enqueueing the same path again within the stream's
// duplicate window (Options.DedupeWindow) adds nothing. The stream is
// bounded (Options.MaxJobs, Options.MaxBytes) and discards new messages when
// full: [Queue.Enqueue] then waits, retrying with a growing pause, until
// workers have made room or its context ends. It neither fails nor lets the
// stream grow without bound.
//
// # Workers and status
//
// Workers announce themselves in a key-value bucket ([Queue.Beat]): one
// entry per worker with its counts and rate, which expires when the worker
// stops beating (Options.WorkerTTL). [Queue.Status] reports the queue's
// counts and the live workers.
package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of [Options].
const (
	DefaultStream       = "SIGHT_INGEST"
	DefaultConsumer     = "sight-workers"
	DefaultAckWait      = 30 * time.Second
	DefaultMaxDeliver   = 8
	DefaultMaxJobs      = 100_000
	DefaultMaxBytes     = 64 << 20
	DefaultDedupeWindow = 10 * time.Minute
	DefaultWorkerTTL    = 15 * time.Second
)

// Options configures [Open]. The stream and consumer settings (AckWait,
// MaxDeliver, MaxJobs, MaxBytes, DedupeWindow, WorkerTTL, Replicas) apply
// when Open creates them; zero means the default. A queue that exists
// keeps the settings it was created with: Open refuses one that differs
// (ErrSettings), except WorkerTTL, which workers simply follow.
type Options struct {
	// Stream is the JetStream stream's name (default DefaultStream); it
	// also names the subject (sight.ingest.STREAM) and the key-value
	// buckets (STREAM_workers, STREAM_dead). Letters, digits, - and _.
	Stream string
	// Consumer is the durable consumer all workers share (default
	// DefaultConsumer).
	Consumer string
	// AckWait is how long a delivered job may stay unacknowledged (and
	// without an InProgress) before it is delivered again (default
	// DefaultAckWait).
	AckWait time.Duration
	// MaxDeliver is how many times a job is delivered before it is set
	// aside as dead (default DefaultMaxDeliver).
	MaxDeliver int
	// MaxJobs and MaxBytes bound the stream (defaults DefaultMaxJobs and
	// DefaultMaxBytes); Enqueue waits while it is full.
	MaxJobs  int64
	MaxBytes int64
	// DedupeWindow is how long a path enqueued once is ignored when
	// enqueued again (default DefaultDedupeWindow).
	DedupeWindow time.Duration
	// WorkerTTL is how long a worker's entry outlives its last beat
	// (default DefaultWorkerTTL); workers beat every third of it.
	WorkerTTL time.Duration
	// Replicas is the number of copies JetStream keeps of the stream and
	// buckets (default 1; 3 on a NATS cluster).
	Replicas int
	// Name names the connection on the server (for its monitoring).
	Name string
	// Logger receives diagnostics (a full queue, a lost connection); nil
	// discards them.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Consumer == "" {
		o.Consumer = DefaultConsumer
	}
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = DefaultMaxDeliver
	}
	if o.MaxJobs <= 0 {
		o.MaxJobs = DefaultMaxJobs
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.WorkerTTL <= 0 {
		o.WorkerTTL = DefaultWorkerTTL
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// validName matches the stream and consumer names this package accepts.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Job is one file to index. Its message holds the path's bytes as they
// are (a file name need not be UTF-8).
type Job struct {
	// Path is the file's absolute path, as the workers see it.
	Path string `json:"path"`
}

// check reports a job that cannot be enqueued.
func (j Job) check() error {
	switch {
	case j.Path == "":
		return errors.New("no path")
	case !filepath.IsAbs(j.Path):
		return fmt.Errorf("path %q is not absolute", j.Path)
	}
	return nil
}

// ID returns the job's identity, the hex SHA-256 of its path: its
// Nats-Msg-Id (a path may hold bytes a header cannot) and the start of its
// keys in the dead-letter bucket.
func (j Job) ID() string {
	h := sha256.Sum256([]byte(j.Path))
	return hex.EncodeToString(h[:])
}

// Queue is an open connection to an ingest queue. Its methods are safe for
// concurrent use.
type Queue struct {
	url        string
	opts       Options
	subject    string
	nc         *nats.Conn
	js         jetstream.JetStream
	stream     jetstream.Stream
	cons       jetstream.Consumer
	workers    jetstream.KeyValue
	dead       jetstream.KeyValue
	ackWait    time.Duration // the consumer's, which may predate opts
	maxDeliver int
	workerTTL  time.Duration // the worker bucket's
	log        *slog.Logger
}

// Open connects to the NATS servers at url (nats://host:port, several
// separated by commas) and opens the ingest queue there, creating its
// stream, consumer and buckets when missing.
func Open(ctx context.Context, url string, opts Options) (*Queue, error) {
	asked := opts // the settings asked for, before defaults
	opts.setDefaults()
	if !validName.MatchString(opts.Stream) {
		return nil, fmt.Errorf("queue %s: bad stream name %q: use letters, digits, - and _", url, opts.Stream)
	}
	if !validName.MatchString(opts.Consumer) {
		return nil, fmt.Errorf("queue %s: bad consumer name %q: use letters, digits, - and _", url, opts.Consumer)
	}
	if strings.TrimSpace(url) == "" {
		return nil, errors.New("queue: no NATS url (want nats://host:port)")
	}
	q := &Queue{url: url, opts: opts, subject: "sight.ingest." + opts.Stream, log: opts.Logger}
	name := opts.Name
	if name == "" {
		name = "sight"
	}
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				q.log.Warn("queue: disconnected", "url", url, "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { q.log.Info("queue: reconnected", "url", c.ConnectedUrl()) }))
	if err != nil {
		return nil, fmt.Errorf("queue: connect to %s: %w", url, err)
	}
	q.nc = nc
	if err := q.setup(ctx, asked); err != nil {
		nc.Close()
		return nil, err
	}
	return q, nil
}

// ErrSettings reports that Options ask for settings other than those the
// existing queue was created with.
var ErrSettings = errors.New("settings differ from the existing queue's")

// streamSettings and consumerSettings compare the settings asked for
// (zero: unset) with those of the queue's stream and consumer, which are
// fixed when Open creates them: a different one is refused rather than
// silently ignored. The stream is checked before anything else is
// created.
func (q *Queue) streamSettings(asked Options) error {
	sc := q.stream.CachedInfo().Config
	var diffs []string
	differ("max jobs", asked.MaxJobs > 0, sc.MaxMsgs, asked.MaxJobs, &diffs)
	differ("max bytes", asked.MaxBytes > 0, sc.MaxBytes, asked.MaxBytes, &diffs)
	differ("dedupe window", asked.DedupeWindow > 0, sc.Duplicates, asked.DedupeWindow, &diffs)
	differ("replicas", asked.Replicas > 0, max(sc.Replicas, 1), asked.Replicas, &diffs)
	return q.settingsError(diffs)
}

func (q *Queue) consumerSettings(asked Options) error {
	cc := q.cons.CachedInfo().Config
	var diffs []string
	differ("ack wait", asked.AckWait > 0, cc.AckWait, asked.AckWait, &diffs)
	differ("max deliver", asked.MaxDeliver > 0, cc.MaxDeliver, asked.MaxDeliver, &diffs)
	return q.settingsError(diffs)
}

// differ notes in diffs a setting asked for (set) whose value want is
// not the queue's, have.
func differ[T comparable](name string, set bool, have, want T, diffs *[]string) {
	if set && have != want {
		*diffs = append(*diffs, fmt.Sprintf("%s %v, not %v", name, have, want))
	}
}

func (q *Queue) settingsError(diffs []string) error {
	if len(diffs) > 0 {
		return q.errorf("exists with %s: %w (they are chosen when the queue is created; leave them unset to use it as it is)",
			strings.Join(diffs, ", "), ErrSettings)
	}
	return nil
}

// setup creates or opens the stream, the consumer and the buckets, and
// checks the settings asked for against those of the ones that exist.
func (q *Queue) setup(ctx context.Context, asked Options) error {
	// A publish whose ack never comes (a connection lost) fails after
	// publishTimeout rather than holding Enqueue forever.
	js, err := jetstream.New(q.nc, jetstream.WithPublishAsyncTimeout(publishTimeout))
	if err != nil {
		return q.errorf("jetstream: %w", err)
	}
	q.js = js
	o := q.opts
	cfg := jetstream.StreamConfig{
		Name:        o.Stream,
		Description: "Sight ingest jobs (package queue)",
		Subjects:    []string{q.subject},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     o.MaxJobs,
		MaxBytes:    o.MaxBytes,
		Duplicates:  o.DedupeWindow,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
	}
	q.stream, err = js.Stream(ctx, o.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		q.stream, err = js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // created meanwhile
			q.stream, err = js.Stream(ctx, o.Stream)
		}
	}
	if err != nil {
		return q.errorf("open stream: %w", err)
	}
	if got := q.stream.CachedInfo().Config.Retention; got != jetstream.WorkQueuePolicy {
		return q.errorf("stream exists with %v retention, not a work queue", got)
	}
	if err := q.streamSettings(asked); err != nil {
		return err
	}
	// The consumer and the buckets are kept on as many servers as the
	// stream (a work queue's consumer must be), whatever this Open asked.
	q.opts.Replicas = max(q.stream.CachedInfo().Config.Replicas, 1)
	o = q.opts
	ccfg := jetstream.ConsumerConfig{
		Durable:       o.Consumer,
		Description:   "Sight workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    o.MaxDeliver,
		MaxAckPending: 10_000,
		Replicas:      o.Replicas,
	}
	q.cons, err = q.stream.Consumer(ctx, o.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		q.cons, err = q.stream.CreateConsumer(ctx, ccfg)
		if errors.Is(err, jetstream.ErrConsumerExists) {
			q.cons, err = q.stream.Consumer(ctx, o.Consumer)
		}
	}
	if err != nil {
		return q.errorf("open consumer %s: %w", o.Consumer, err)
	}
	if err := q.consumerSettings(asked); err != nil {
		return err
	}
	info := q.cons.CachedInfo()
	q.ackWait, q.maxDeliver = info.Config.AckWait, info.Config.MaxDeliver
	if q.maxDeliver <= 0 {
		q.maxDeliver = int(^uint(0) >> 1)
	}
	if q.workers, err = q.bucket(ctx, o.Stream+"_workers", o.WorkerTTL); err != nil {
		return err
	}
	// The bucket may predate opts: beat by its own TTL.
	ws, err := q.workers.Status(ctx)
	if err != nil {
		return q.errorf("worker bucket: %w", err)
	}
	if q.workerTTL = ws.TTL(); q.workerTTL <= 0 {
		q.workerTTL = o.WorkerTTL
	}
	if q.dead, err = q.bucket(ctx, o.Stream+"_dead", 0); err != nil {
		return err
	}
	return nil
}

// bucket opens or creates a key-value bucket whose entries expire after
// ttl (0: never).
func (q *Queue) bucket(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := q.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = q.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: ttl, History: 1, Replicas: q.opts.Replicas})
		if err != nil { // created meanwhile by another process?
			if kv2, err2 := q.js.KeyValue(ctx, name); err2 == nil {
				kv, err = kv2, nil
			}
		}
	}
	if err != nil {
		return nil, q.errorf("open bucket %s: %w", name, err)
	}
	return kv, nil
}

// errorf returns an error naming the queue's url and stream.
func (q *Queue) errorf(format string, args ...any) error {
	return fmt.Errorf("queue %s stream %s: "+format, append([]any{q.url, q.opts.Stream}, args...)...)
}

// URL returns the url the queue was opened with.
func (q *Queue) URL() string { return q.url }

// Stream returns the stream's name.
func (q *Queue) Stream() string { return q.opts.Stream }

// AckWait returns the consumer's AckWait: how long a delivered job may go
// without Ack or InProgress before it is delivered again.
func (q *Queue) AckWait() time.Duration { return q.ackWait }

// MaxDeliver returns how many deliveries a job gets before it is dead.
func (q *Queue) MaxDeliver() int { return q.maxDeliver }

// WorkerTTL returns how long a worker's entry outlives its last beat.
func (q *Queue) WorkerTTL() time.Duration { return q.workerTTL }

// Close closes the connection, after sending what is buffered (acks,
// naks) and waiting up to 5 s for the server to have it.
func (q *Queue) Close() error {
	var err error
	if q.nc.IsConnected() {
		if ferr := q.nc.FlushTimeout(5 * time.Second); ferr != nil {
			err = q.errorf("close: flush: %w", ferr)
		}
	}
	q.nc.Close()
	return err
}

// Enqueued reports what [Queue.Enqueue] did.
type Enqueued struct {
	// Added counts jobs added to the queue.
	Added int `json:"added"`
	// Duplicates counts jobs ignored because their path was enqueued
	// within the dedupe window.
	Duplicates int `json:"duplicates"`
	// Waited is how long Enqueue paused for room in a full queue, or
	// before sending again jobs the queue did not confirm.
	Waited time.Duration `json:"waited_ns"`
}

// enqueueWindow is how many publishes Enqueue has in flight at once.
const enqueueWindow = 256

// publishTimeout bounds the wait for one publish's ack; a publish not
// confirmed in time is sent again (see Enqueue).
const publishTimeout = 10 * time.Second

// unavailableFor is how long Enqueue keeps sending jobs that the queue
// does not confirm (its servers unreachable, or electing a leader) before
// it gives up.
const unavailableFor = 2 * time.Minute

// errFull is the cause of a publish the full stream rejected.
var errFull = errors.New("queue full")

// Enqueue adds jobs to the queue. A job whose path was enqueued within the
// dedupe window is not added again (Enqueued.Duplicates). While the queue
// is full, Enqueue waits for workers to make room, retrying with pauses
// growing from 50 ms to 2 s, until ctx ends; it returns what it added so
// far with the error. A job whose publish the queue does not confirm (a
// server lost, a leader being elected) is sent again, for up to 2 minutes;
// sending again is safe, as the queue ignores a path it already holds
// (such a job may then count as a duplicate rather than as added).
func (q *Queue) Enqueue(ctx context.Context, jobs []Job) (Enqueued, error) {
	var res Enqueued
	for i, j := range jobs { // before anything is sent, so a bad job adds nothing
		if err := j.check(); err != nil {
			return res, q.errorf("enqueue job %d: %w", i, err)
		}
	}
	pause := 50 * time.Millisecond
	pending := jobs
	var unavailableSince time.Time
	for len(pending) > 0 {
		var again []Job
		var cause error
		before := res.Added + res.Duplicates
		for start := 0; start < len(pending); start += enqueueWindow {
			chunk := pending[start:min(start+enqueueWindow, len(pending))]
			var err error
			again, cause, err = q.publish(ctx, chunk, &res)
			if err != nil {
				return res, err
			}
			if len(again) > 0 {
				// The jobs not sent yet wait with those to send again,
				// rather than being sent to a full or failing queue.
				again = append(again, pending[start+len(chunk):]...)
				break
			}
		}
		if len(again) == 0 {
			break
		}
		if res.Added+res.Duplicates > before {
			unavailableSince = time.Time{} // the queue answers
		}
		if errors.Is(cause, errFull) {
			unavailableSince = time.Time{}
			q.log.Info("queue full: waiting for workers", "url", q.url, "stream", q.opts.Stream, "waiting_jobs", len(again), "pause", pause)
		} else {
			if unavailableSince.IsZero() {
				unavailableSince = time.Now()
			} else if time.Since(unavailableSince) > unavailableFor {
				return res, q.errorf("enqueue: %d jobs not confirmed for %v: %w", len(again), unavailableFor, cause)
			}
			q.log.Warn("queue did not confirm jobs: sending them again", "url", q.url, "stream", q.opts.Stream, "jobs", len(again), "err", cause)
		}
		t0 := time.Now()
		select {
		case <-ctx.Done():
			res.Waited += time.Since(t0)
			return res, q.errorf("enqueue: %d jobs not added yet: %w", len(again), ctx.Err())
		case <-time.After(pause):
		}
		res.Waited += time.Since(t0)
		pause = min(2*pause, 2*time.Second)
		pending = again
	}
	return res, nil
}

// publish sends jobs asynchronously and waits for their acks. It returns
// the jobs to send again, with the cause: errFull for jobs the full stream
// rejected, else the error of a publish that was not confirmed in time.
func (q *Queue) publish(ctx context.Context, jobs []Job, res *Enqueued) (again []Job, cause, err error) {
	futures := make([]jetstream.PubAckFuture, 0, len(jobs))
	for _, j := range jobs {
		msg := nats.NewMsg(q.subject)
		msg.Data = []byte(j.Path)
		msg.Header.Set(jetstream.MsgIDHeader, j.ID())
		f, err := q.js.PublishMsgAsync(msg, jetstream.WithExpectStream(q.opts.Stream))
		if err != nil {
			if !unconfirmed(err) {
				return nil, nil, q.errorf("enqueue %s: %w", j.Path, err)
			}
			// Not sent (the connection lost): this job and the rest go
			// again, after the acks of those sent.
			again, cause = append(again, jobs[len(futures):]...), err
			break
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				res.Duplicates++
			} else {
				res.Added++
			}
		case err := <-f.Err():
			switch {
			case isFull(err):
				again = append(again, jobs[i])
				if cause == nil {
					cause = errFull
				}
			case unconfirmed(err):
				again = append(again, jobs[i])
				if cause == nil || errors.Is(cause, errFull) {
					cause = err
				}
			default:
				return nil, nil, q.errorf("enqueue %s: %w", jobs[i].Path, err)
			}
		case <-ctx.Done():
			return nil, nil, q.errorf("enqueue: %w", ctx.Err())
		}
	}
	return again, cause, nil
}

// unconfirmed reports whether a publish failed for want of an answer that
// another try may get: no ack in time, no stream to answer (a leader being
// elected), the connection lost (the client reconnects to another server),
// or JetStream unavailable for the moment.
func unconfirmed(err error) bool {
	if errors.Is(err, jetstream.ErrAsyncPublishTimeout) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrReconnectBufExceeded) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.Code == 503
}

// isFull reports whether a publish failed because the stream is at its
// MaxJobs or MaxBytes limit.
func isFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	d := apiErr.Description
	return strings.Contains(d, "maximum messages exceeded") || strings.Contains(d, "maximum bytes exceeded")
}

// Delivery is a job handed to this worker. It must be settled with Ack,
// Fail or Retry (or be delivered again after AckWait).
type Delivery struct {
	Job Job
	// Attempt is the delivery's number: 1 the first time, more when the
	// job is delivered again.
	Attempt int
	msg     jetstream.Msg
	q       *Queue
}

// Fetch returns up to n jobs: it waits until one is there, or until ctx's
// deadline (at most maxWait, 5 s when 0), then takes up to n-1 more among
// those waiting, without waiting for more. It returns no jobs and no error
// when none came in time. A message that is not a valid job is set aside as
// dead and not returned. Jobs enqueued a moment before may be left for the
// next Fetch even when n allows them: the server counts new jobs for the
// workers asynchronously.
func (q *Queue) Fetch(ctx context.Context, n int, maxWait time.Duration) ([]*Delivery, error) {
	if n <= 0 {
		n = 1
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	fctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	first, err := q.cons.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		return nil, q.errorf("fetch: %w", err)
	}
	ds, err := q.deliveries(ctx, first)
	if len(ds) == 0 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if n > 1 {
		more, err := q.cons.FetchNoWait(n - 1)
		if err != nil {
			return ds, nil // the job in hand stays valid
		}
		rest, _ := q.deliveries(ctx, more)
		ds = append(ds, rest...)
	}
	return ds, nil
}

// deliveries collects a fetched batch. Its error is reported only when it
// is not the end of the wait.
func (q *Queue) deliveries(ctx context.Context, batch jetstream.MessageBatch) ([]*Delivery, error) {
	var ds []*Delivery
	for m := range batch.Messages() {
		d := &Delivery{msg: m, q: q, Attempt: 1}
		if md, err := m.Metadata(); err == nil {
			d.Attempt = int(md.NumDelivered)
		}
		job := Job{Path: string(m.Data())}
		if err := job.check(); err != nil {
			q.bury(ctx, d, "not a job: "+err.Error())
			continue
		}
		d.Job = job
		ds = append(ds, d)
	}
	err := batch.Error()
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) {
		return ds, nil
	}
	return ds, q.errorf("fetch: %w", err)
}

// Ack reports the job done, waiting for the server to confirm it: the job
// is removed from the queue. Ack only after the store confirmed the job's
// write.
func (d *Delivery) Ack(ctx context.Context) error {
	if err := d.msg.DoubleAck(ctx); err != nil {
		return d.q.errorf("ack %s: %w", d.Job.Path, err)
	}
	return nil
}

// Retry hands the job back to be delivered again after delay (a worker
// stopping, for example). The hand-back uses up the delivery: the server
// delivers a message at most MaxDeliver times, so a job handed back at
// its last delivery is enqueued again as a new message (at once, without
// the delay), and the old one is removed; were that to fail, it gets a
// dead-letter note rather than stay in the stream undelivered.
func (d *Delivery) Retry(delay time.Duration) error {
	if d.Attempt >= d.q.maxDeliver {
		// Hand-backs happen as workers stop, their contexts done.
		ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
		defer cancel()
		return d.q.requeue(ctx, d)
	}
	var err error
	if delay > 0 {
		err = d.msg.NakWithDelay(delay)
	} else {
		err = d.msg.Nak()
	}
	if err != nil {
		return d.q.errorf("nak %s: %w", d.Job.Path, err)
	}
	return nil
}

// InProgress tells the server the job is being worked on, restarting its
// AckWait.
func (d *Delivery) InProgress() error {
	if err := d.msg.InProgress(); err != nil {
		return d.q.errorf("in progress %s: %w", d.Job.Path, err)
	}
	return nil
}

// RetryDelay is the pause before a failed job's next delivery: 2 s after
// the first attempt, doubling up to 2 minutes.
func RetryDelay(attempt int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempt && d < 2*time.Minute; i++ {
		d *= 2
	}
	return min(d, 2*time.Minute)
}

// Fail reports that the job failed with cause. Before its last delivery,
// the job is handed back to be retried after RetryDelay(Attempt); at its
// last, it is removed from the queue with a dead-letter note (dead is
// true).
func (d *Delivery) Fail(ctx context.Context, cause error) (dead bool, err error) {
	if d.Attempt >= d.q.maxDeliver {
		return true, d.q.bury(ctx, d, cause.Error())
	}
	return false, d.Retry(RetryDelay(d.Attempt))
}

// seq returns the stream sequence of d's message (0 if unknown): the
// message's identity, where the job's is its path.
func (d *Delivery) seq() uint64 {
	if meta, err := d.msg.Metadata(); err == nil {
		return meta.Sequence.Stream
	}
	return 0
}

// requeue publishes d's job again as a new message, with a message id of
// its own (the job's id is still in the duplicate window), and removes d.
func (q *Queue) requeue(ctx context.Context, d *Delivery) error {
	msg := nats.NewMsg(q.subject)
	msg.Data = d.msg.Data()
	msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-requeued-%d", d.Job.ID(), d.seq()))
	if _, err := q.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(q.opts.Stream)); err != nil {
		return q.bury(ctx, d, fmt.Sprintf("handed back at its last delivery and not enqueued again: %v", err))
	}
	if err := d.msg.Term(); err != nil {
		return q.errorf("terminate %s: %w", d.Job.Path, err)
	}
	return nil
}

// DeadLetter is the note left for a job given up on.
type DeadLetter struct {
	Path     string    `json:"path"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	Time     time.Time `json:"time"`
}

// bury writes a dead-letter note for d and terminates its message.
func (q *Queue) bury(ctx context.Context, d *Delivery, why string) error {
	path := d.Job.Path
	if path == "" {
		path = fmt.Sprintf("(message %q)", truncate(string(d.msg.Data()), 200))
	}
	note, _ := json.Marshal(DeadLetter{Path: path, Error: why, Attempts: d.Attempt, Time: time.Now().UTC()})
	// One note per message, not per path: a path enqueued again after the
	// duplicate window and given up on again is a second death, and
	// Status derives Done from the number of notes.
	key := fmt.Sprintf("%s-%d", Job{Path: path}.ID(), d.seq())
	q.log.Warn("queue: job given up", "url", q.url, "stream", q.opts.Stream, "path", path, "attempts", d.Attempt, "err", why)
	if _, err := q.dead.Put(ctx, key, note); err != nil {
		// Keep the job rather than lose it without a note.
		d.msg.Nak()
		return q.errorf("dead-letter note for %s: %w", path, err)
	}
	// Term without a reason: servers before 2.10 ignore a +TERM that has
	// one; the note keeps the reason.
	if err := d.msg.Term(); err != nil {
		return q.errorf("terminate %s: %w", path, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// DeadLetters returns the notes of the jobs given up on.
func (q *Queue) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.eachEntry(ctx, q.dead, "dead letter", func(e jetstream.KeyValueEntry) error {
		var dl DeadLetter
		if err := json.Unmarshal(e.Value(), &dl); err != nil {
			return fmt.Errorf("dead letter %s: %w", e.Key(), err)
		}
		out = append(out, dl)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listWait bounds how long eachEntry waits for a bucket's listing to end.
const listWait = 10 * time.Second

// eachEntry calls fn with every entry of kv, read through one watcher
// rather than a request per key. The listing ends with a marker that the
// client derives from the messages it receives, and an entry that expires
// just as the watcher starts can keep the marker from ever coming: the
// wait is bounded by listWait.
func (q *Queue) eachEntry(ctx context.Context, kv jetstream.KeyValue, what string, fn func(jetstream.KeyValueEntry) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, listWait)
	defer cancel()
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return q.errorf("list %ss: %w", what, err)
	}
	defer func() {
		w.Stop()
		if err != nil {
			// The watcher may be blocked on a full channel: drain it
			// until it closes on Stop.
			go func() {
				for range w.Updates() {
				}
			}()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return q.errorf("list %ss: %w", what, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return q.errorf("list %ss: the watcher stopped", what)
			}
			if e == nil {
				return nil // every value so far was delivered
			}
			if err := fn(e); err != nil {
				return q.errorf("%w", err)
			}
		}
	}
}

// KeepAlive sends InProgress for ds every third of AckWait until the
// returned stop is called, so that a batch taking longer than AckWait is not
// delivered again meanwhile. stop waits for the keeper to end.
func (q *Queue) KeepAlive(ds []*Delivery) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	every := max(q.ackWait/3, 100*time.Millisecond)
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				for _, d := range ds {
					// Jobs of the batch acked (or handed back) already
					// answer ErrMsgAlreadyAckd: nothing to keep alive.
					if err := d.InProgress(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
						q.log.Warn("queue: keep-alive", "err", err)
					}
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}
