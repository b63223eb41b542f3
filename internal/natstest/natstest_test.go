package natstest

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestStartAndKill(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL(), "nats://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	if !s.greets() {
		t.Fatal("started server does not greet with JetStream")
	}
	s.Kill()
	if c, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "nats://")); err == nil {
		c.Close()
		t.Fatal("killed server still accepts connections")
	}
	s.Kill() // a second Kill (as t.Cleanup does) returns at once
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := StartCluster(t, 3)
	if n := strings.Count(c.URL(), "nats://127.0.0.1:"); n != 3 || len(c.Servers) != 3 {
		t.Fatalf("URL %q", c.URL())
	}
	c.Servers[0].Kill()
	// The other two still form a JetStream quorum.
	if err := c.WaitJetStream(30*time.Second, false); err != nil {
		t.Fatal(err)
	}
}
