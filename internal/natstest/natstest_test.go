package natstest

import (
	"net"
	"strings"
	"testing"
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
