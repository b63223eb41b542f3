package testserver

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAndPair(t *testing.T) {
	var s Set
	seen := map[int]bool{}
	for range 20 {
		p, err := s.Free()
		if err != nil {
			t.Fatal(err)
		}
		if p < Lo || p >= Hi || seen[p] {
			t.Fatalf("port %d: outside [%d, %d) or picked twice", p, Lo, Hi)
		}
		seen[p] = true
	}
	p, err := s.Pair()
	if err != nil {
		t.Fatal(err)
	}
	if seen[p] || seen[p+1] {
		t.Fatalf("pair %d, %d overlaps ports already picked", p, p+1)
	}
	for range 4 {
		q, err := s.Pair()
		if err != nil {
			t.Fatal(err)
		}
		if seen[q] || seen[q+1] || q == p || q == p+1 || q+1 == p {
			t.Fatalf("pair %d, %d overlaps ports already picked", q, q+1)
		}
		seen[q], seen[q+1] = true, true
	}
	for _, q := range []int{p, p + 1} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
		if err != nil {
			t.Fatalf("port %d of the pair is not free: %v", q, err)
		}
		l.Close()
	}
}

// TestTaken: a port in use is never picked.
func TestTaken(t *testing.T) {
	var s Set
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	taken := map[int]bool{}
	for p := Lo; p < Lo+50; p++ {
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			held = append(held, l)
			taken[p] = true
		}
	}
	for range 200 {
		p, err := s.Free()
		if err != nil {
			t.Fatal(err)
		}
		if taken[p] {
			t.Fatalf("picked port %d, which is in use", p)
		}
	}
}
