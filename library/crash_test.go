package library

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCrashChild is the child process of TestKillDuringIndex: it indexes a
// folder and is killed with SIGKILL at a random moment.
func TestCrashChild(t *testing.T) {
	db, src := os.Getenv("SIGHT_CRASH_DB"), os.Getenv("SIGHT_CRASH_SRC")
	if db == "" {
		t.Skip("child process of TestKillDuringIndex")
	}
	l, err := Open(context.Background(), db, Options{Model: tinyModel})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	if _, err := l.Index(context.Background(), []string{src}, IndexOptions{BatchSize: 4}); err != nil {
		fmt.Fprintln(os.Stderr, "child index:", err)
		os.Exit(4)
	}
	l.Close()
	os.Exit(0)
}

// checkConsistent opens the library and verifies that every catalog entry
// has exactly one vector in the index and nothing else is indexed.
func checkConsistent(t *testing.T, db string) (images int64) {
	t.Helper()
	ctx := context.Background()
	l, err := Open(ctx, db, Options{Model: tinyModel})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer l.Close()
	if err := l.local.cat.Check(ctx, l.enc.Dim()); err != nil {
		t.Fatal(err)
	}
	ids, err := l.local.cat.IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !l.local.idx.Contains(uint64(id)) {
			t.Fatalf("catalog image %d has no vector in the index", id)
		}
	}
	if l.local.idx.Len() != len(ids) {
		t.Fatalf("index holds %d vectors, catalog %d images (orphans)", l.local.idx.Len(), len(ids))
	}
	if len(ids) > 0 {
		v, err := l.local.cat.Vector(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		hits, err := l.SearchVector(ctx, v, Query{Limit: 1})
		if err != nil || len(hits) != 1 || hits[0].ID != ids[0] {
			t.Fatalf("search after kill: %+v %v", hits, err)
		}
	}
	return int64(len(ids))
}

func TestKillDuringIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const files = 48
	src := t.TempDir()
	for i := 0; i < files; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("img%03d.png", i)), synthPNG(uint64(100+i), 48+i%7, 40+i%5))
	}
	db := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 7))
	var last int64
	kills := 0
	for round := 0; round < 25; round++ {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "SIGHT_CRASH_DB="+db, "SIGHT_CRASH_SRC="+src)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child failed: %v", err)
			}
		case <-time.After(time.Duration(20+rng.IntN(600)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
		n := checkConsistent(t, db)
		if n < last {
			t.Fatalf("round %d: library shrank from %d to %d images", round, last, n)
		}
		last = n
	}
	// A final uninterrupted run finishes the job.
	l, err := Open(context.Background(), db, Options{Model: tinyModel})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Index(context.Background(), []string{src}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if n := checkConsistent(t, db); n != files {
		t.Fatalf("after the final run the library holds %d images, want %d", n, files)
	}
	t.Logf("%d kills; library consistent after each", kills)
}
