// Package natstest starts a throwaway nats-server with JetStream for tests.
//
// The server is the nats-server binary, not a Go dependency: it is found
// through $SIGHT_NATS_BIN, else "nats-server" on $PATH, else
// /tmp/wvbin/nats-server. When there is none, tests are skipped, unless
// $SIGHT_REQUIRE_CLUSTER is 1, where they fail.
package natstest

import (
	"github.com/sightsearch/sight/internal/testserver"

	"bufio"
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary returns the path of the nats-server binary to use, or "" when none
// is found (see the package doc for where it looks).
func Binary() string {
	return testserver.Binary("SIGHT_NATS_BIN", "nats-server", "/tmp/wvbin/nats-server")
}

// Server is a running nats-server with JetStream, storing in a temporary
// directory. It is killed when the test ends.
type Server struct {
	name string // in a cluster
	url  string
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// URL returns the server's client URL (nats://127.0.0.1:PORT).
func (s *Server) URL() string { return s.url }

// Kill stops the server at once (SIGKILL) and waits for it to exit.
// Calling it again does nothing.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// Start starts a nats-server with JetStream on a free local port and waits
// until it accepts clients with JetStream enabled. It skips the test when
// there is no nats-server (fails when $SIGHT_REQUIRE_CLUSTER=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := need(t)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var s *Server
		if s, err = start(t, bin); err == nil {
			return s
		}
		// Most likely the free port was taken between choosing it and
		// the server binding it: try another one.
	}
	t.Fatalf("natstest: %v", err)
	return nil
}

// need returns the nats-server binary, or skips the test when there is
// none (fails it when $SIGHT_REQUIRE_CLUSTER=1).
func need(t testing.TB) string {
	t.Helper()
	return testserver.Need(t, Binary(), "nats-server", "SIGHT_NATS_BIN",
		"apt-get install nats-server, or go install github.com/nats-io/nats-server/v2@v2.15.2")
}

func start(t testing.TB, bin string) (*Server, error) {
	var ports testserver.Set
	port, err := ports.Free()
	if err != nil {
		return nil, err
	}
	s, err := launch(t, bin, port)
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(15 * time.Second); err != nil {
		s.Kill()
		return nil, fmt.Errorf("%s on %s: %w\n%s", bin, s.addr, err, s.log.String())
	}
	return s, nil
}

// launch starts nats-server with JetStream on port, storing in a new
// temporary directory, with extra arguments; it does not wait for it.
func launch(t testing.TB, bin string, port int, extra ...string) (*Server, error) {
	dir := t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{"-js", "-sd", filepath.Join(dir, "js"), "-a", "127.0.0.1", "-p", strconv.Itoa(port)}, extra...)
	cmd := exec.Command(bin, args...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{url: "nats://" + addr, addr: addr, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Kill)
	return s, nil
}

// waitReady waits until the server greets a client with an INFO that
// announces JetStream.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("server exited: %v", s.cmd.ProcessState)
		default:
		}
		if ok := s.greets(); ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no JetStream-enabled INFO within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) greets() bool {
	c, err := net.DialTimeout("tcp", s.addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "INFO ") && strings.Contains(line, `"jetstream":true`)
}

// syncBuffer is a bytes.Buffer safe for the server's output and a test's
// reads at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
