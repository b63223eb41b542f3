// Package testserver helps tests start server programs (nats-server,
// weaviate-server): it finds their binaries and picks free local ports.
//
// Ports are picked at random below Linux's default ephemeral range
// (32768–60999), which the kernel hands out as the local ports of outgoing
// connections: a port picked there can be taken by any connection, of any
// process, before the server binds it. A port picked here can still be
// taken by another test's server; callers start again on fresh ports when
// a server fails to bind.
package testserver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Binary returns the path of the program name: $env if set, else name on
// $PATH, else fallback (where a development machine keeps a built one) if
// it is a file; "" when there is none.
func Binary(env, name, fallback string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if st, err := os.Stat(fallback); err == nil && !st.IsDir() {
		return fallback
	}
	return ""
}

// Need returns bin, or when it is "" skips the test with a message naming
// the program and how to get it (install) — or fails it when
// $SIGHT_REQUIRE_CLUSTER is 1, as in CI, where skipping would hide the
// tests.
func Need(t testing.TB, bin, name, env, install string) string {
	t.Helper()
	if bin != "" {
		return bin
	}
	msg := fmt.Sprintf("no %s: set $%s or put %s on $PATH (%s)", name, env, name, install)
	if os.Getenv("SIGHT_REQUIRE_CLUSTER") == "1" {
		t.Fatal(msg + "; SIGHT_REQUIRE_CLUSTER=1 forbids skipping")
	}
	t.Skip(msg)
	return ""
}

// Lo and Hi bound the ports picked: Lo <= port < Hi.
const Lo, Hi = 15000, 32000

// Set is the ports picked so far for one group of servers; the zero value
// is empty and ready to use.
type Set struct {
	used map[int]bool
}

// Free returns a port not in the set that was free for TCP on 127.0.0.1 a
// moment ago, and adds it to the set.
func (s *Set) Free() (int, error) {
	if s.used == nil {
		s.used = map[int]bool{}
	}
	for range 200 {
		p := Lo + rand.IntN(Hi-Lo)
		if s.used[p] || !tcpFree(p) {
			continue
		}
		s.used[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("testserver: no free port in %d–%d", Lo, Hi)
}

// Pair returns a port p such that p and p+1 are not in the set and were
// both free for TCP and UDP on 127.0.0.1 a moment ago (servers that take
// a base port and use the next one too), and adds both to the set.
func (s *Set) Pair() (int, error) {
	for range 100 {
		p, err := s.Free()
		if err != nil {
			return 0, err
		}
		if s.used[p+1] || !udpFree(p) || !tcpFree(p+1) || !udpFree(p+1) {
			delete(s.used, p)
			continue
		}
		s.used[p+1] = true
		return p, nil
	}
	return 0, fmt.Errorf("testserver: no free pair of ports in %d–%d", Lo, Hi)
}

func tcpFree(p int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func udpFree(p int) bool {
	u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	u.Close()
	return true
}
