// Package weaviatetest runs a real Weaviate cluster on the loopback
// interface for tests: every node is a weaviate-server process with its own
// temporary data directory, HTTP, gRPC, gossip and Raft ports.
//
// The server binary is $SIGHT_WEAVIATE_BIN, else weaviate-server on PATH,
// else /tmp/wvbin/weaviate-server. Build it with
//
//	GOBIN=/tmp/wvbin go install github.com/weaviate/weaviate/cmd/weaviate-server@v1.35.2
//
// When no binary is found the test is skipped, unless SIGHT_REQUIRE_CLUSTER=1
// is set (as in CI), in which case it fails.
package weaviatetest

import (
	"github.com/sightsearch/sight/internal/testserver"

	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultBin is the last place Binary looks for weaviate-server.
const DefaultBin = "/tmp/wvbin/weaviate-server"

// startTimeout bounds how long a node (or the whole cluster) may take to
// become ready.
const startTimeout = 60 * time.Second

// Cluster is a running local Weaviate cluster.
type Cluster struct {
	bin   string
	dir   string
	opts  Options
	nodes []*node
	mu    sync.Mutex
}

// Options are settings of a cluster beyond its size.
type Options struct {
	// APIKey, if set, turns anonymous access off and API-key
	// authentication on, with this one key (user "sight").
	APIKey string
}

type node struct {
	name                              string
	http, grpc, gossip, raft, raftRPC int
	data, log                         string
	cmd                               *exec.Cmd
	done                              chan struct{}
	logf                              *os.File
}

// Binary returns the weaviate-server binary to run, or "" if none is
// found: $SIGHT_WEAVIATE_BIN, else weaviate-server on $PATH, else
// DefaultBin.
func Binary() string {
	return testserver.Binary("SIGHT_WEAVIATE_BIN", "weaviate-server", DefaultBin)
}

// Start starts a cluster of n nodes in fresh temporary directories, waits
// until every node is ready and sees all n nodes, and stops it when the test
// ends. Without a binary it skips the test, or fails it if
// SIGHT_REQUIRE_CLUSTER=1.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartOptions(t, n, Options{})
}

// StartOptions is Start with options.
func StartOptions(t testing.TB, n int, o Options) *Cluster {
	t.Helper()
	bin := testserver.Need(t, Binary(), "weaviate-server", "SIGHT_WEAVIATE_BIN",
		"GOBIN=/tmp/wvbin go install github.com/weaviate/weaviate/cmd/weaviate-server@v1.35.2")
	c, err := LaunchOptions(bin, t.TempDir(), n, o)
	if c != nil {
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(c.Logs(100))
			}
			c.Close()
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Launch starts a cluster of n nodes of binary bin under directory dir (one
// subdirectory per node holds its data and log) and waits until it is ready.
// On error the returned cluster, if not nil, holds the started nodes: the
// caller closes it (and may print its Logs).
func Launch(bin, dir string, n int) (*Cluster, error) {
	return LaunchOptions(bin, dir, n, Options{})
}

// LaunchOptions is Launch with options. A node that exits while the
// cluster starts (most likely because another process took one of its
// ports between choosing and binding it) makes it start the whole cluster
// again on other ports, up to three times.
func LaunchOptions(bin, dir string, n int, o Options) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("weaviatetest: cluster of %d nodes", n)
	}
	for attempt := 1; ; attempt++ {
		d := dir
		if attempt > 1 {
			d = filepath.Join(dir, fmt.Sprintf("attempt%d", attempt))
		}
		c, err := launch(bin, d, n, o)
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			return c, err
		}
		if c != nil {
			c.Close()
		}
	}
}

// errExited is the error of a node that exited while the cluster started.
var errExited = errors.New("exited while starting")

// exited returns an error naming a node of c that exited, or nil.
func (c *Cluster) exited() error {
	for _, nd := range c.nodes {
		if nd.cmd == nil {
			continue // not started, or killed on purpose
		}
		select {
		case <-nd.done:
			return fmt.Errorf("weaviatetest: %s %w (log %s)", nd.name, errExited, nd.log)
		default:
		}
	}
	return nil
}

func launch(bin, dir string, n int, o Options) (*Cluster, error) {
	c := &Cluster{bin: bin, dir: dir, opts: o}
	var used testserver.Set
	for i := range n {
		nd := &node{name: fmt.Sprintf("node%d", i+1)}
		var err error
		if nd.gossip, err = used.Pair(); err != nil {
			return nil, err
		}
		// In a local cluster Weaviate derives a peer's Raft RPC port as
		// its Raft port + 1.
		if nd.raft, err = used.Pair(); err != nil {
			return nil, err
		}
		nd.raftRPC = nd.raft + 1
		for _, p := range []*int{&nd.http, &nd.grpc} {
			if *p, err = used.Free(); err != nil {
				return nil, err
			}
		}
		nd.data = filepath.Join(dir, nd.name, "data")
		nd.log = filepath.Join(dir, nd.name+".log")
		if err := os.MkdirAll(nd.data, 0o755); err != nil {
			return nil, fmt.Errorf("weaviatetest: %w", err)
		}
		c.nodes = append(c.nodes, nd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for i := range c.nodes {
		if err := c.start(i); err != nil {
			return c, err
		}
		// The others join node 1's gossip, which must listen first.
		if i == 0 {
			if err := c.waitGossip(ctx, 0); err != nil {
				return c, err
			}
		}
	}
	for i := range c.nodes {
		if err := c.waitNode(ctx, i); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c *Cluster) env(nd *node) []string {
	var join []string
	for _, o := range c.nodes {
		join = append(join, fmt.Sprintf("%s:%d", o.name, o.raft))
	}
	env := append(os.Environ(),
		"CLUSTER_IN_LOCALHOST=true",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_HOSTNAME="+nd.name,
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(nd.gossip),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(nd.gossip+1),
		"RAFT_PORT="+strconv.Itoa(nd.raft),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(nd.raftRPC),
		"RAFT_JOIN="+strings.Join(join, ","),
		"RAFT_BOOTSTRAP_EXPECT="+strconv.Itoa(len(c.nodes)),
		"PERSISTENCE_DATA_PATH="+nd.data,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"DISABLE_TELEMETRY=true",
		"GO_PROFILING_DISABLE=true",
		"GRPC_PORT="+strconv.Itoa(nd.grpc),
		"LOG_LEVEL=info",
		// Async replication (for collections that enable it) compares
		// replicas every second and repairs objects older than a second,
		// instead of every 30 s for objects older than 30 s, so a test sees
		// a restarted node catch up quickly.
		"ASYNC_REPLICATION_FREQUENCY=1s",
		"ASYNC_REPLICATION_FREQUENCY_WHILE_PROPAGATING=500ms",
		"ASYNC_REPLICATION_ALIVE_NODES_CHECKING_FREQUENCY=1s",
		"ASYNC_REPLICATION_PROPAGATION_DELAY=1s",
		"ASYNC_REPLICATION_HASHTREE_HEIGHT=10",
		// Vectors go through the persistent indexing queue: with indexing
		// in the write path, a node killed after a batch loses that batch's
		// entries of its HNSW commit log (Weaviate 1.35.2), and its searches
		// then miss objects it still stores. The queue is replayed after a
		// crash. Stale queue entries are indexed after 100 ms (default 1 s).
		"ASYNC_INDEXING=true",
		"ASYNC_INDEXING_STALE_TIMEOUT=20ms",
		"QUEUE_SCHEDULER_INTERVAL=50ms",
	)
	if c.opts.APIKey != "" {
		env = append(env,
			"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=false",
			"AUTHENTICATION_APIKEY_ENABLED=true",
			"AUTHENTICATION_APIKEY_ALLOWED_KEYS="+c.opts.APIKey,
			"AUTHENTICATION_APIKEY_USERS=sight")
	}
	// Join the gossip of every other node that runs (memberlist needs one
	// reachable member; a first node joins nobody).
	var gossip []string
	for _, o := range c.nodes {
		if o != nd && o.cmd != nil {
			gossip = append(gossip, "127.0.0.1:"+strconv.Itoa(o.gossip))
		}
	}
	if len(gossip) > 0 {
		env = append(env, "CLUSTER_JOIN="+strings.Join(gossip, ","))
	}
	return env
}

// start launches node i's process.
func (c *Cluster) start(i int) error {
	nd := c.nodes[i]
	f, err := os.OpenFile(nd.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("weaviatetest: %w", err)
	}
	fmt.Fprintf(f, "=== weaviatetest: starting %s at %s\n", nd.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(c.bin, "--host", "127.0.0.1", "--port", strconv.Itoa(nd.http), "--scheme", "http")
	cmd.Env = c.env(nd)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("weaviatetest: start %s (%s): %w", nd.name, c.bin, err)
	}
	nd.cmd, nd.logf, nd.done = cmd, f, make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(nd.done)
	return nil
}

// waitGossip waits until node i's gossip port accepts connections.
func (c *Cluster) waitGossip(ctx context.Context, i int) error {
	nd := c.nodes[i]
	addr := "127.0.0.1:" + strconv.Itoa(nd.gossip)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if err := c.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("weaviatetest: %s gossip port %s: %w", nd.name, addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitNode waits until node i answers ready and sees every node of the
// cluster healthy.
func (c *Cluster) waitNode(ctx context.Context, i int) error {
	nd := c.nodes[i]
	base := fmt.Sprintf("http://127.0.0.1:%d/v1", nd.http)
	var last string
	for {
		// Any node: the others wait for it forever.
		if err := c.exited(); err != nil {
			return err
		}
		ok, msg := c.ready(ctx, base)
		if ok {
			return nil
		}
		last = msg
		select {
		case <-ctx.Done():
			return fmt.Errorf("weaviatetest: %s not ready: %s: %w", nd.name, last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *Cluster) ready(ctx context.Context, base string) (bool, string) {
	cl := &http.Client{Timeout: 3 * time.Second}
	get := func(path string) ([]byte, int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, 0, err
		}
		if c.opts.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
		}
		resp, err := cl.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.StatusCode, err
	}
	if _, code, err := get("/.well-known/ready"); err != nil || code != http.StatusOK {
		return false, fmt.Sprintf("ready: %d %v", code, err)
	}
	b, code, err := get("/nodes")
	if err != nil || code != http.StatusOK {
		return false, fmt.Sprintf("nodes: %d %v %s", code, err, b)
	}
	var r struct {
		Nodes []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return false, fmt.Sprintf("nodes: %v", err)
	}
	healthy := 0
	for _, n := range r.Nodes {
		if n.Status == "HEALTHY" {
			healthy++
		}
	}
	if healthy != len(c.nodes) {
		return false, fmt.Sprintf("nodes: %d of %d healthy: %s", healthy, len(c.nodes), b)
	}
	return true, ""
}

// URL returns the cluster's address for store/weaviate.Open:
// weaviate://127.0.0.1:p1,127.0.0.1:p2,...
func (c *Cluster) URL() string {
	var hs []string
	for _, nd := range c.nodes {
		hs = append(hs, fmt.Sprintf("127.0.0.1:%d", nd.http))
	}
	return "weaviate://" + strings.Join(hs, ",")
}

// NodeURL returns the address of node i alone.
func (c *Cluster) NodeURL(i int) string {
	return fmt.Sprintf("weaviate://127.0.0.1:%d", c.nodes[i].http)
}

// NodeName returns node i's name in the cluster (node1, node2, ...).
func (c *Cluster) NodeName(i int) string { return c.nodes[i].name }

// Kill stops node i with SIGKILL and waits for the process to end.
func (c *Cluster) Kill(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kill(i)
}

func (c *Cluster) kill(i int) error {
	nd := c.nodes[i]
	if nd.cmd == nil {
		return nil
	}
	select {
	case <-nd.done:
	default:
		if err := nd.cmd.Process.Kill(); err != nil {
			return fmt.Errorf("weaviatetest: kill %s: %w", nd.name, err)
		}
		<-nd.done
	}
	fmt.Fprintf(nd.logf, "=== weaviatetest: killed %s at %s\n", nd.name, time.Now().Format(time.RFC3339Nano))
	nd.logf.Close()
	nd.cmd = nil
	return nil
}

// Restart starts node i again, with its data directory and ports, and
// waits until it is ready and sees the whole cluster. A running node is
// killed first.
func (c *Cluster) Restart(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.kill(i); err != nil {
		return err
	}
	if err := c.start(i); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return c.waitNode(ctx, i)
}

// Logs returns the last lines of every node's log.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, nd := range c.nodes {
		fmt.Fprintf(&b, "----- %s (%s), last %d lines -----\n", nd.name, nd.log, lines)
		b.WriteString(tail(nd.log, lines))
	}
	return b.String()
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error() + "\n"
	}
	var ls []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		ls = append(ls, sc.Text())
		if len(ls) > 2*n {
			ls = ls[len(ls)-n:]
		}
	}
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n") + "\n"
}

// Close kills every node.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.nodes {
		c.kill(i)
	}
}
