package natstest

import (
	"github.com/sightsearch/sight/internal/testserver"

	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is a NATS cluster of nats-servers with clustered JetStream, on
// loopback: streams created with more than one replica are kept on
// several servers, and survive the loss of a minority of them.
type Cluster struct {
	// Servers are the cluster's servers, in the order of URL.
	Servers []*Server
}

// URL returns the client URLs of every server, comma-separated, as NATS
// clients take them.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.url
	}
	return strings.Join(urls, ",")
}

// StartCluster starts n nats-servers as one cluster with JetStream and
// waits until its JetStream answers (a meta leader was elected). It skips
// or fails the test as Start does when there is no nats-server, and tries
// again on fresh ports, up to three times, when a server fails to start.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := need(t)
	var err error
	for range 3 {
		var c *Cluster
		if c, err = startCluster(t, bin, n); err == nil {
			return c
		}
		t.Logf("natstest: cluster start failed, trying again on other ports: %v", err)
	}
	t.Fatalf("natstest: %v", err)
	return nil
}

func startCluster(t testing.TB, bin string, n int) (*Cluster, error) {
	var used testserver.Set
	ports := make([]int, n)
	routePorts := make([]int, n)
	for i := range n {
		var err error
		if ports[i], err = used.Free(); err != nil {
			return nil, err
		}
		if routePorts[i], err = used.Free(); err != nil {
			return nil, err
		}
	}
	routes := make([]string, n)
	for i, p := range routePorts {
		routes[i] = "nats://127.0.0.1:" + strconv.Itoa(p)
	}
	c := &Cluster{}
	stop := func() {
		for _, s := range c.Servers {
			s.Kill()
		}
	}
	// Names unique to this cluster: should a route port be another
	// cluster's, the servers refuse each other rather than merge.
	id := ports[0]
	for i := range n {
		name := fmt.Sprintf("n%d-%d", i+1, id)
		s, err := launch(t, bin, ports[i],
			"--server_name", name,
			"--cluster_name", fmt.Sprintf("sight-test-%d", id),
			"--cluster", routes[i],
			"--routes", strings.Join(routes, ","))
		if err != nil {
			stop()
			return nil, err
		}
		s.name = name
		c.Servers = append(c.Servers, s)
	}
	for _, s := range c.Servers {
		if err := s.waitReady(30 * time.Second); err != nil {
			stop()
			return nil, fmt.Errorf("server on %s: %w\n%s", s.addr, err, s.log.String())
		}
	}
	if err := c.WaitJetStream(60*time.Second, true); err != nil {
		var logs strings.Builder
		for _, s := range c.Servers {
			fmt.Fprintf(&logs, "--- %s\n%s", s.addr, s.log.String())
		}
		stop()
		return nil, fmt.Errorf("%w\n%s", err, logs.String())
	}
	return c, nil
}

// WaitJetStream waits until the cluster's JetStream answers an account
// info request: clustered JetStream answers only once its servers elected
// a meta leader (at start, or after a server was lost). With all, a
// server that exited is an error.
func (c *Cluster) WaitJetStream(limit time.Duration, all bool) error {
	nc, err := nats.Connect(c.URL(), nats.Timeout(2*time.Second))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for {
		for _, s := range c.Servers {
			select {
			case <-s.done:
				if all {
					return fmt.Errorf("server on %s exited: %v", s.addr, s.cmd.ProcessState)
				}
			default:
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("JetStream not ready within %v: %w", limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StreamLeader returns the server that leads stream's replicas.
func (c *Cluster) StreamLeader(stream string) (*Server, error) {
	nc, err := nats.Connect(c.URL(), nats.Timeout(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	info := st.CachedInfo()
	if info.Cluster == nil {
		return nil, fmt.Errorf("stream %s: no cluster information", stream)
	}
	for _, s := range c.Servers {
		if s.name == info.Cluster.Leader {
			return s, nil
		}
	}
	return nil, fmt.Errorf("stream %s: leader %q is not a server of the cluster", stream, info.Cluster.Leader)
}
