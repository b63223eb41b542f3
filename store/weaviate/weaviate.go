//go:build !386 && !arm && !mips && !mipsle

// Package weaviate is a [store.Store] kept in a Weaviate cluster, for Sight
// libraries that outgrow one machine.
//
// Open takes the cluster's address as weaviate://host:port[,host:port...]
// (HTTP), or weaviate+https://host[:port][,...] (HTTPS, port 443 by
// default; Weaviate Cloud, or nodes behind a TLS proxy): requests go to the
// first node that answers and move on to the next ones when a node is
// down. Options.APIKey authenticates (Weaviate's API-key authentication).
// The store keeps three collections, named after
// Options.Collection (default "SightImage"):
//
//   - <Collection>: one object per image content, with its metadata, its
//     thumbnail and its vector (sent by Sight; Weaviate vectorizes
//     nothing), in an HNSW index with cosine distance;
//   - <Collection>Path: one object per file path, naming its image, with the
//     file's size and modification time;
//   - <Collection>Meta: the library's settings (key, value).
//
// Object UUIDs are pure functions of their keys (the image id, which is a
// function of the content hash; the path; the meta key), so writes are
// upserts: applying a batch again, or from several processes at once,
// leaves one object per content and per path.
//
// Differences from the embedded store: skipped files are not recorded
// (Batch.Skipped is dropped and LookupSkipped always reports none, so a
// skipped file is examined again on the next run), a batch is not one
// transaction (an interrupted Apply leaves part of it; applying it again
// completes it), TakenAt and AddedAt keep whole seconds like the catalog,
// path modification times keep nanoseconds.
//
// # Server settings
//
// Run Weaviate with ASYNC_INDEXING=true. Without it, a node killed (kill
// -9, power loss) may come back without the vectors of its latest batch in
// its HNSW index (seen with Weaviate 1.35.2, even 5 s after the batch: the
// objects are stored, so async replication sees nothing to repair, but
// searches served by that replica miss them for good); the indexing queue
// of async indexing is replayed after a crash instead. With async indexing a
// vector is searchable once indexed: Sync waits for the collection's
// indexing queues to drain (Options.IndexWait). QUEUE_SCHEDULER_INTERVAL
// (default 1 s) and ASYNC_INDEXING_STALE_TIMEOUT (default 100 ms) bound how
// soon a small batch is indexed; 50ms and 20ms make Sync after a batch of 8
// take ~85 ms instead of ~1.2 s on a 3-node cluster on loopback.
//
// With a replication factor of 2, reads and writes use consistency ONE by
// default so that they go on while a replica is down (see Options); async
// replication, enabled on replicated collections, brings a node that was
// down up to date. Reads at ONE right after writes at ONE may see the
// state before the write on the other replica for a moment.
//
// # Running a cluster
//
// Tests start a real local cluster with package internal/weaviatetest,
// which runs weaviate-server (build it with `GOBIN=/tmp/wvbin go install
// github.com/weaviate/weaviate/cmd/weaviate-server@v1.35.2`, or point
// $SIGHT_WEAVIATE_BIN at it); see that package for the environment of each
// node of a multi-node cluster on one host.
package weaviate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/sightsearch/sight/store"
)

// pqTrainingLimit is how many vectors a shard holds when PQ or SQ is
// trained on them.
const pqTrainingLimit = 10_000

// DefaultCollection is the collection used when Options.Collection is empty.
const DefaultCollection = "SightImage"

// Options configure a Store.
type Options struct {
	// Collection names the image collection; the paths and settings live in
	// Collection+"Path" and Collection+"Meta". Default "SightImage". It
	// must start with an upper-case letter (a Weaviate rule).
	Collection string
	// Quantizer compresses the HNSW index's vectors: "pq", "sq", "bq",
	// "rq", or "none" for full float32 vectors. PQ and SQ are trained once
	// a shard holds 10,000 vectors. "" means none for a new collection
	// and, for one that exists, whatever it was created with.
	Quantizer string
	// Shards is the desired number of shards (0: Weaviate's default, one
	// per node, for a new collection; whatever it has for one that
	// exists).
	Shards int
	// Replication is the replication factor (0: 1 for a new collection;
	// whatever it has for one that exists). Above 1, async replication is
	// enabled so that a node that was down catches up.
	//
	// Quantizer, Shards and Replication are chosen when the collection is
	// created: for a collection that exists, a setting other than its own
	// is an error (ErrSettings) rather than silently ignored.
	Replication int
	// ReadConsistency and WriteConsistency are Weaviate consistency levels:
	// "ONE", "QUORUM" or "ALL". The defaults are ONE for reads, and for
	// writes QUORUM when Replication >= 3, else ONE: with a replication
	// factor of 2 a quorum is both replicas, so QUORUM (or ALL) would stop
	// reads or writes while one replica is down; ONE keeps them working, and
	// async replication repairs the replica that missed writes.
	ReadConsistency, WriteConsistency string
	// Timeout bounds one request to one node (default 10s); a request that
	// times out is retried on the next node. While a killed node is not
	// yet declared dead (Weaviate takes about 30 s), a write to one of its
	// shards may hang on the coordinating node until this timeout.
	Timeout time.Duration
	// IndexWait bounds how long Sync waits for the cluster's vector
	// indexing queues of the collection to drain (default 60s; negative:
	// do not wait). With ASYNC_INDEXING (which Sight needs: see the
	// package doc) a vector is searchable only once its queue has indexed
	// it; Sync after Apply gives read-your-writes searches. Past the bound
	// Sync logs a warning and returns: the images are stored and become
	// searchable later.
	IndexWait time.Duration
	// APIKey, if set, is sent with every request (Weaviate's API-key
	// authentication, as on Weaviate Cloud).
	APIKey string
	// HTTPClient, if set, makes the requests (for example with the
	// certificate authority of a private TLS proxy); its Timeout, if zero,
	// becomes Options.Timeout. By default a plain http.Client, which
	// trusts the system's certificate authorities.
	HTTPClient *http.Client
	// Logger receives failovers and schema creation (default: discard).
	Logger *slog.Logger
}

// Store is a Sight store in a Weaviate cluster. It is safe for concurrent
// use.
type Store struct {
	hosts   []string
	scheme  string
	clients []*wv.Client
	cur     atomic.Int32 // index of the node that answered last
	log     *slog.Logger

	images, paths, meta string // collection names
	read, write         string // consistency levels
	opts                Options
	maxWindow           int           // tests: the largest search window (0: maxResults)
	retryPause          time.Duration // pause after a round of failures, times the round
}

var _ store.Store = (*Store)(nil)

var collectionName = regexp.MustCompile(`^[A-Z][_0-9A-Za-z]*$`)

// ErrUnauthorized is in the chain of errors of requests that the cluster
// refused for their credentials (HTTP 401 or 403): Options.APIKey is
// missing or wrong, or its user may not do that.
var ErrUnauthorized = errors.New("the cluster refused the API key (or its absence)")

// Address is a parsed cluster address.
type Address struct {
	Scheme string   // "http" or "https"
	Hosts  []string // host:port of each node given
}

// String formats a as ParseURL reads it.
func (a Address) String() string {
	prefix := "weaviate://"
	if a.Scheme == "https" {
		prefix = "weaviate+https://"
	}
	return prefix + strings.Join(a.Hosts, ",")
}

// ParseURL parses a weaviate://host:port[,host:port...] (HTTP) or
// weaviate+https://host[:port][,host[:port]...] (HTTPS, port 443 unless
// given) address.
func ParseURL(s string) (Address, error) {
	var a Address
	rest, ok := strings.CutPrefix(s, "weaviate://")
	a.Scheme = "http"
	if !ok {
		rest, ok = strings.CutPrefix(s, "weaviate+https://")
		a.Scheme = "https"
	}
	if !ok {
		return Address{}, fmt.Errorf("weaviate: address %q does not start with weaviate:// or weaviate+https://", s)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return Address{}, fmt.Errorf("weaviate: address %q names no host", s)
	}
	for _, h := range strings.Split(rest, ",") {
		hp := h
		if a.Scheme == "https" && !hasPort(h) {
			hp = net.JoinHostPort(strings.Trim(h, "[]"), "443")
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			return Address{}, fmt.Errorf("weaviate: address %q: host %q: want host:port", s, h)
		}
		if host == "" || strings.ContainsAny(host, "/?#@ []") {
			return Address{}, fmt.Errorf("weaviate: address %q: bad host in %q", s, h)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return Address{}, fmt.Errorf("weaviate: address %q: bad port %q in %q", s, port, h)
		}
		a.Hosts = append(a.Hosts, net.JoinHostPort(host, port))
	}
	return a, nil
}

// hasPort reports whether h ends in :port (after an IPv6 literal's "]").
func hasPort(h string) bool {
	i := strings.LastIndexByte(h, ':')
	return i >= 0 && i > strings.LastIndexByte(h, ']') && (strings.Count(h, ":") == 1 || strings.HasPrefix(h, "["))
}

func checkLevel(name, v string) error {
	switch v {
	case "ONE", "QUORUM", "ALL":
		return nil
	}
	return fmt.Errorf("weaviate: %s %q: want ONE, QUORUM or ALL", name, v)
}

// Open connects to the cluster at url (see ParseURL) and creates the
// store's collections if they are missing.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	addr, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	hosts := addr.Hosts
	if opts.Collection == "" {
		opts.Collection = DefaultCollection
	}
	if !collectionName.MatchString(opts.Collection) {
		return nil, fmt.Errorf("weaviate: collection name %q: want an upper-case letter then letters, digits or _", opts.Collection)
	}
	switch opts.Quantizer {
	case "", "none", "pq", "sq", "bq", "rq":
	default:
		return nil, fmt.Errorf("weaviate: quantizer %q: want none, pq, sq, bq or rq", opts.Quantizer)
	}
	if opts.Shards < 0 || opts.Replication < 0 {
		return nil, fmt.Errorf("weaviate: negative shards (%d) or replication (%d)", opts.Shards, opts.Replication)
	}
	for _, l := range []struct{ name, v string }{{"read consistency", opts.ReadConsistency}, {"write consistency", opts.WriteConsistency}} {
		if l.v != "" {
			if err := checkLevel(l.name, l.v); err != nil {
				return nil, err
			}
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.IndexWait == 0 {
		opts.IndexWait = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{
		hosts:  hosts,
		scheme: addr.Scheme,
		log:    opts.Logger,
		images: opts.Collection,
		paths:  opts.Collection + "Path",
		meta:   opts.Collection + "Meta",
		opts:   opts,

		retryPause: 500 * time.Millisecond,
	}
	cfg := wv.Config{Scheme: addr.Scheme, Timeout: opts.Timeout}
	if opts.HTTPClient != nil {
		hc := *opts.HTTPClient
		if hc.Timeout == 0 {
			hc.Timeout = opts.Timeout
		}
		cfg.ConnectionClient = &hc
	}
	if opts.APIKey != "" {
		cfg.Headers = map[string]string{"Authorization": "Bearer " + opts.APIKey}
	}
	for _, h := range hosts {
		cfg.Host = h
		c, err := wv.NewClient(cfg)
		if err != nil {
			return nil, fmt.Errorf("weaviate: client for %s: %w", h, err)
		}
		s.clients = append(s.clients, c)
	}
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	// The replication factor is now the collection's own, which the
	// default consistency levels follow.
	s.read, s.write = s.opts.ReadConsistency, s.opts.WriteConsistency
	if s.read == "" {
		s.read = "ONE"
	}
	if s.write == "" {
		s.write = "ONE"
		if s.opts.Replication >= 3 {
			s.write = "QUORUM"
		}
	}
	return s, nil
}

// Close releases the store (the HTTP connections are pooled by Go).
func (s *Store) Close() error { return nil }

// do runs fn against one node, moving on to the next node when the request
// fails in a way another node may not (the node is unreachable, answers a
// server error, or its query fails). Every request of this package is
// idempotent, so repeating one is safe. After a full round of failures it
// waits a little and tries again, up to three rounds.
func (s *Store) do(ctx context.Context, what string, fn func(c *wv.Client) error) error {
	n := len(s.clients)
	var err error
	for round := range 3 {
		if round > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("weaviate: %s: %w (last error: %v)", what, ctx.Err(), err)
			case <-time.After(time.Duration(round) * s.retryPause):
			}
		}
		start := int(s.cur.Load())
		for i := range n {
			idx := (start + i) % n
			t0 := time.Now()
			err = fn(s.clients[idx])
			if d := time.Since(t0); d > slowRequest {
				s.log.Warn("weaviate: slow request", "node", s.hosts[idx], "op", what, "took", d, "err", err)
			}
			if err == nil {
				if idx != start {
					s.cur.Store(int32(idx))
				}
				return nil
			}
			if code := statusCode(err); code == 401 || code == 403 {
				return fmt.Errorf("weaviate: %s: %w: %w", what, ErrUnauthorized, err)
			}
			if ctx.Err() != nil || !retryable(err) {
				return fmt.Errorf("weaviate: %s: %w", what, err)
			}
			s.log.Warn("weaviate: node failed, trying the next", "node", s.hosts[idx], "op", what, "err", err)
		}
	}
	return fmt.Errorf("weaviate: %s: every node failed: %w", what, err)
}

// slowRequest is how long a request may take before it is logged.
const slowRequest = 2 * time.Second

// statusGiveUp is how long waitIndexed keeps trying to read a status that
// fails: while a node is down but not yet declared dead (about 30 s),
// Weaviate cannot report the cluster's status at all.
const statusGiveUp = 3 * time.Second

// Sync waits until the vectors of the images applied so far are
// searchable: until no healthy node has vectors of the image collection
// waiting in its indexing queue (see waitIndexed).
func (s *Store) Sync(ctx context.Context) error { return s.waitIndexed(ctx) }

// waitIndexed waits until no healthy node has vectors of the image
// collection waiting in its indexing queue, up to Options.IndexWait, or
// until the status has been unreadable for statusGiveUp.
func (s *Store) waitIndexed(ctx context.Context) error {
	if s.opts.IndexWait < 0 {
		return nil
	}
	deadline := time.Now().Add(s.opts.IndexWait)
	pause := 20 * time.Millisecond
	var unreadable time.Time // since when the status could not be read
	for try := 0; ; try++ {
		// One node per try, in turn: while a node is down but not yet
		// declared dead, the others fail to collect its status.
		idx := (int(s.cur.Load()) + try) % len(s.clients)
		t0 := time.Now()
		resp, err := s.clients[idx].Cluster().NodesStatusGetter().WithClass(s.images).WithOutput("verbose").Do(ctx)
		if d := time.Since(t0); d > slowRequest {
			s.log.Warn("weaviate: slow request", "node", s.hosts[idx], "op", "read indexing status", "took", d, "err", err)
		}
		pending := int64(-1)
		if err == nil && resp != nil {
			pending = 0
			for _, n := range resp.Nodes {
				if n == nil || n.Status == nil || *n.Status != "HEALTHY" {
					continue
				}
				for _, sh := range n.Shards {
					if sh != nil && sh.Class == s.images {
						pending += sh.VectorQueueLength
					}
				}
			}
		}
		if pending == 0 {
			return nil
		}
		if err != nil && unreadable.IsZero() {
			unreadable = time.Now()
		} else if err == nil {
			unreadable = time.Time{}
		}
		if err != nil && time.Since(unreadable) > statusGiveUp {
			s.log.Warn("weaviate: cannot read the indexing status (a node down?): not waiting for indexing",
				"collection", s.images, "err", err)
			return nil
		}
		if time.Now().After(deadline) {
			s.log.Warn("weaviate: vectors may still wait to be indexed", "collection", s.images,
				"pending", pending, "err", err, "waited", s.opts.IndexWait)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("weaviate: wait for indexing: %w", ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// gqlError is an error a GraphQL query reported in its response.
type gqlError struct{ msgs []string }

func (e *gqlError) Error() string { return "graphql: " + strings.Join(e.msgs, "; ") }

// batchError is an error Weaviate reported for objects of a batch.
type batchError struct{ msgs []string }

func (e *batchError) Error() string { return "batch: " + strings.Join(e.msgs, "; ") }

func retryable(err error) bool {
	var fe *fault.WeaviateClientError
	if errors.As(err, &fe) {
		if fe.DerivedFromError != nil {
			return true // network error, or a response that did not parse
		}
		return fe.StatusCode >= 500 || fe.StatusCode == 429
	}
	var ge *gqlError
	var be *batchError
	if errors.As(err, &ge) || errors.As(err, &be) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

func statusCode(err error) int {
	var fe *fault.WeaviateClientError
	if errors.As(err, &fe) {
		return fe.StatusCode
	}
	return 0
}

// ErrSettings reports that Options ask for a quantizer, shard count or
// replication factor other than the existing collection's.
var ErrSettings = errors.New("settings differ from the existing collection's")

// ensureSchema creates the store's collections that are missing. When the
// image collection exists, its settings are checked against Options and
// become the store's (see settings).
func (s *Store) ensureSchema(ctx context.Context) error {
	for i, class := range []func() *models.Class{s.imageClass, s.pathClass, s.metaClass} {
		cl := class()
		existing, err := s.readClass(ctx, cl.Class)
		if err != nil {
			return err
		}
		if existing == nil {
			created, err := s.createClass(ctx, cl)
			if err != nil {
				return err
			}
			if created {
				if i == 0 && s.opts.Replication == 0 {
					s.opts.Replication = 1
				}
				continue
			}
			// Created by another process meanwhile, perhaps with other
			// settings: check them as for a collection that existed.
			if existing, err = s.readClass(ctx, cl.Class); err != nil {
				return err
			}
			if existing == nil {
				return fmt.Errorf("weaviate: collection %s: said to exist, then not found", cl.Class)
			}
		}
		if i == 0 {
			if err := s.settings(existing); err != nil {
				return err
			}
		}
	}
	return nil
}

// createClass creates the collection cl; created is false when another
// process created it first.
func (s *Store) createClass(ctx context.Context, cl *models.Class) (created bool, err error) {
	err = s.do(ctx, "create collection "+cl.Class, func(c *wv.Client) error {
		err := c.Schema().ClassCreator().WithClass(cl).Do(ctx)
		if err != nil && statusCode(err) == 422 && strings.Contains(err.Error(), "already exists") {
			return nil
		}
		created = err == nil
		return err
	})
	if created {
		s.log.Info("weaviate: created collection", "collection", cl.Class)
	}
	return created, err
}

// readClass returns the collection named name, or nil when there is none.
func (s *Store) readClass(ctx context.Context, name string) (*models.Class, error) {
	var cl *models.Class
	err := s.do(ctx, "read collection "+name, func(c *wv.Client) (err error) {
		cl, err = c.Schema().ClassGetter().WithClassName(name).Do(ctx)
		if statusCode(err) == 404 {
			cl, err = nil, nil
		}
		return err
	})
	return cl, err
}

// settings checks the quantizer, shard count and replication factor that
// Options ask for against those of the existing image collection cl, and
// takes cl's for those Options leave unset. A collection's settings are
// fixed when it is created: a different request is refused, not ignored.
func (s *Store) settings(cl *models.Class) error {
	var factor int
	if rc := cl.ReplicationConfig; rc != nil {
		factor = int(rc.Factor)
	}
	factor = max(factor, 1)
	var shards int
	if sc, ok := cl.ShardingConfig.(map[string]any); ok {
		shards, _ = strconv.Atoi(fmt.Sprint(sc["desiredCount"]))
	}
	quantizer := "none"
	if vic, ok := cl.VectorIndexConfig.(map[string]any); ok {
		for _, q := range []string{"pq", "sq", "bq", "rq"} {
			if sub, ok := vic[q].(map[string]any); ok && sub["enabled"] == true {
				quantizer = q
			}
		}
	}
	var diffs []string
	if s.opts.Replication > 0 && s.opts.Replication != factor {
		diffs = append(diffs, fmt.Sprintf("replication factor %d, not %d", factor, s.opts.Replication))
	}
	if s.opts.Shards > 0 && shards > 0 && s.opts.Shards != shards {
		diffs = append(diffs, fmt.Sprintf("%d shards, not %d", shards, s.opts.Shards))
	}
	if s.opts.Quantizer != "" && s.opts.Quantizer != quantizer {
		diffs = append(diffs, fmt.Sprintf("quantizer %s, not %s", quantizer, s.opts.Quantizer))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("weaviate: collection %s exists with %s: %w (they are chosen when a collection is created; leave them unset to use the collection as it is)",
			cl.Class, strings.Join(diffs, ", "), ErrSettings)
	}
	s.opts.Replication, s.opts.Quantizer = factor, quantizer
	if shards > 0 {
		s.opts.Shards = shards
	}
	return nil
}

func prop(name, typ string, filterable bool) *models.Property {
	p := &models.Property{Name: name, DataType: []string{typ}, IndexFilterable: &filterable}
	f := false
	if typ == "text" {
		p.Tokenization = "field"
		p.IndexSearchable = &f
	}
	if typ == "int" || typ == "number" {
		p.IndexRangeFilters = &filterable
	}
	return p
}

func (s *Store) common(name string) *models.Class {
	cl := &models.Class{
		Class:      name,
		Vectorizer: "none",
		ReplicationConfig: &models.ReplicationConfig{
			Factor:           int64(max(s.opts.Replication, 1)),
			AsyncEnabled:     s.opts.Replication > 1,
			DeletionStrategy: "TimeBasedResolution",
		},
	}
	if s.opts.Shards > 0 {
		cl.ShardingConfig = map[string]any{"desiredCount": s.opts.Shards}
	}
	return cl
}

func (s *Store) imageClass() *models.Class {
	cl := s.common(s.images)
	cl.Description = "Sight images: one per distinct content"
	cl.VectorIndexType = "hnsw"
	vic := map[string]any{"distance": "cosine"}
	switch s.opts.Quantizer {
	case "", "none":
		vic["skipDefaultQuantization"] = true
	case "pq", "sq":
		// Trained per shard once it holds trainingLimit vectors
		// (Weaviate's default, 100,000, leaves a 3-shard collection of
		// 250,000 uncompressed); 10,000 vectors train either well.
		vic[s.opts.Quantizer] = map[string]any{"enabled": true, "trainingLimit": pqTrainingLimit}
	default:
		vic[s.opts.Quantizer] = map[string]any{"enabled": true}
	}
	cl.VectorIndexConfig = vic
	cl.Properties = []*models.Property{
		prop("hash", "text", true),
		prop("size", "int", true), // indexed for Stats' sum
		prop("format", "text", true),
		prop("width", "int", true),
		prop("height", "int", true),
		prop("hasTaken", "boolean", true),
		prop("taken", "int", true),
		prop("camera", "text", false),
		prop("hasGPS", "boolean", false),
		prop("lat", "number", false),
		prop("lon", "number", false),
		prop("model", "text", true),
		prop("added", "int", false),
		prop("thumbnail", "blob", false),
	}
	return cl
}

func (s *Store) pathClass() *models.Class {
	return s.flatClass(s.paths, "Sight paths: one per file path, naming its image",
		prop("path", "text", false),
		prop("pathRaw", "blob", false),
		prop("image", "uuid", true),
		prop("size", "int", false),
		prop("mtime", "text", false))
}

func (s *Store) metaClass() *models.Class {
	return s.flatClass(s.meta, "Sight library settings",
		prop("key", "text", false),
		prop("value", "text", false))
}

// flatClass is a collection of objects without vectors.
func (s *Store) flatClass(name, description string, props ...*models.Property) *models.Class {
	cl := s.common(name)
	cl.Description = description
	cl.VectorIndexType = "flat"
	cl.VectorIndexConfig = map[string]any{"skipDefaultQuantization": true}
	cl.Properties = props
	return cl
}
