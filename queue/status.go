package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Worker is a worker's entry in the queue's worker bucket.
type Worker struct {
	// ID identifies the worker (see NewWorkerID).
	ID   string `json:"id"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Store names what the worker writes to (a directory or a URL).
	Store   string    `json:"store"`
	Started time.Time `json:"started"`
	// Seen is the time of the worker's last beat. Workers returns the
	// time the server stored it, by the server's clock: a worker's own
	// clock plays no part.
	Seen time.Time `json:"seen"`
	// Done counts the jobs the worker acknowledged; Failed those it handed
	// back or failed, and those of each index run that failed (a batch
	// retried in hand while the store is down counts on each try).
	Done   int64 `json:"done"`
	Failed int64 `json:"failed"`
	// InHand is the size of the batch the worker holds.
	InHand int `json:"in_hand"`
	// Rate is the worker's recent rate in jobs per second (over its last
	// minute).
	Rate float64 `json:"rate"`
}

var keyUnsafe = regexp.MustCompile(`[^A-Za-z0-9_=-]`)

// NewWorkerID returns a worker id made of host, pid and a start time: it
// is unique across machines and restarts and a valid bucket key.
func NewWorkerID(host string, pid int) string {
	return fmt.Sprintf("%s-%d-%x", keyUnsafe.ReplaceAllString(host, "_"), pid, time.Now().UnixNano()&0xffffff)
}

// Beat records w in the worker bucket (Seen is set to now). An entry not
// refreshed within WorkerTTL expires, and the worker no longer counts as
// live.
func (q *Queue) Beat(ctx context.Context, w Worker) error {
	if w.ID == "" || keyUnsafe.MatchString(w.ID) {
		return q.errorf("beat: bad worker id %q (see NewWorkerID)", w.ID)
	}
	w.Seen = time.Now().UTC()
	b, _ := json.Marshal(w)
	if _, err := q.workers.Put(ctx, w.ID, b); err != nil {
		return q.errorf("beat %s: %w", w.ID, err)
	}
	return nil
}

// Leave removes a worker's entry (a worker that stops cleanly).
func (q *Queue) Leave(ctx context.Context, id string) error {
	if err := q.workers.Purge(ctx, id); err != nil {
		return q.errorf("leave %s: %w", id, err)
	}
	return nil
}

// Workers returns the live workers, by id.
func (q *Queue) Workers(ctx context.Context) ([]Worker, error) {
	var out []Worker
	err := q.eachEntry(ctx, q.workers, "worker", func(e jetstream.KeyValueEntry) error {
		var w Worker
		if err := json.Unmarshal(e.Value(), &w); err != nil {
			return fmt.Errorf("worker %s: %w", e.Key(), err)
		}
		// The bucket's TTL removes the entry of a worker that stopped
		// beating; no clock here is compared with another.
		w.Seen = e.Created().UTC()
		out = append(out, w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Status is a snapshot of the queue.
type Status struct {
	URL    string `json:"url"`
	Stream string `json:"stream"`
	// Queued counts jobs waiting for a worker.
	Queued uint64 `json:"queued"`
	// InFlight counts jobs handed to a worker and not yet acknowledged,
	// including jobs handed back (Retry, Fail) until they are delivered
	// again.
	InFlight int `json:"in_flight"`
	// Redelivered counts the in-flight jobs that were delivered more than
	// once.
	Redelivered int `json:"redelivered"`
	// Done counts the jobs workers acknowledged since the queue was
	// created (jobs purged by hand included, and once more each job handed
	// back at its last delivery, which is enqueued again: see
	// Delivery.Retry).
	Done uint64 `json:"done"`
	// Dead counts the jobs given up on (see DeadLetters).
	Dead int `json:"dead"`
	// Stuck counts jobs still stored that the consumer will not deliver
	// again: their workers died on each of their MaxDeliver deliveries,
	// leaving no dead-letter note.
	Stuck uint64 `json:"stuck"`
	// Capacity is the most jobs the queue holds (MaxJobs).
	Capacity int64 `json:"capacity"`
	// Replicas is how many servers keep a copy of the queue (Replicas).
	Replicas int `json:"replicas"`
	// Workers are the live workers.
	Workers []Worker `json:"workers"`
}

// Drained reports whether no job is queued or in flight.
func (s Status) Drained() bool { return s.Queued == 0 && s.InFlight == 0 }

// Drained reports whether the queue holds no job, neither waiting nor in
// a worker's hands: Status().Drained() for two requests instead of
// Status's five or more, for polling.
func (q *Queue) Drained(ctx context.Context) (bool, error) {
	queued, ci, _, err := q.counts(ctx)
	if err != nil {
		return false, err
	}
	return queued == 0 && ci.NumAckPending == 0, nil
}

// counts reads the consumer's and the stream's state. The consumer's count
// of jobs waiting lags the stream: the server counts new messages for its
// consumers asynchronously, after it has confirmed them to the publisher.
// So a job enqueued a moment ago is counted as waiting from the stream's
// last sequence, which every message stored after the consumer's last
// delivery raised (a work queue removes a message only once delivered, or
// by a purge, which moves the consumer past it). The consumer is read
// first, so that a job confirmed before the call is never missed.
func (q *Queue) counts(ctx context.Context) (queued uint64, ci *jetstream.ConsumerInfo, si *jetstream.StreamInfo, err error) {
	if ci, err = q.cons.Info(ctx); err != nil {
		return 0, nil, nil, q.errorf("consumer info: %w", err)
	}
	if si, err = q.stream.Info(ctx); err != nil {
		return 0, nil, nil, q.errorf("stream info: %w", err)
	}
	last := si.State.LastSeq
	undelivered := last - min(last, ci.Delivered.Stream)
	stored := si.State.Msgs - min(si.State.Msgs, uint64(ci.NumAckPending))
	return max(ci.NumPending, min(undelivered, stored)), ci, si, nil
}

// Rate returns the sum of the live workers' rates, in jobs per second.
func (s Status) Rate() float64 {
	var r float64
	for _, w := range s.Workers {
		r += w.Rate
	}
	return r
}

// Status returns the queue's counts and live workers.
func (q *Queue) Status(ctx context.Context) (Status, error) {
	st := Status{URL: q.url, Stream: q.opts.Stream}
	queued, ci, si, err := q.counts(ctx)
	if err != nil {
		return st, err
	}
	dead, err := q.dead.Status(ctx)
	if err != nil {
		return st, q.errorf("dead-letter bucket: %w", err)
	}
	st.Capacity, st.Replicas = si.Config.MaxMsgs, si.Config.Replicas
	st.Queued, st.InFlight = queued, ci.NumAckPending
	st.Redelivered = ci.NumRedelivered
	st.Dead = int(dead.Values())
	// The stream's sequence counts every job ever accepted; those no
	// longer stored were acknowledged or given up on.
	removed := si.State.LastSeq - min(si.State.Msgs, si.State.LastSeq)
	st.Done = removed - min(removed, uint64(st.Dead))
	if held := queued + uint64(ci.NumAckPending); si.State.Msgs > held {
		st.Stuck = si.State.Msgs - held
	}
	if st.Workers, err = q.Workers(ctx); err != nil {
		return st, err
	}
	return st, nil
}
