package library

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
)

// TestWriterChild is the child process of the tests below; it does what
// SIGHT_WRITER_MODE asks in the library SIGHT_WRITER_DB, then exits without
// closing anything (as if killed at that moment) or is killed by its parent.
func TestWriterChild(t *testing.T) {
	mode, db := os.Getenv("SIGHT_WRITER_MODE"), os.Getenv("SIGHT_WRITER_DB")
	if mode == "" {
		t.Skip("child process of the multi-process tests")
	}
	ctx := context.Background()
	fail := func(what string, err error) {
		fmt.Fprintln(os.Stderr, "child", what+":", err)
		os.Exit(3)
	}
	switch mode {
	case "syncrace":
		// Goroutine A has committed a batch to the catalog and not yet
		// added its vector to the index when goroutine B (another upload,
		// a delete) syncs the index; then the process dies.
		l, err := Open(ctx, db, Options{Model: tinyModel})
		if err != nil {
			fail("open", err)
		}
		v := make([]float32, l.enc.Dim())
		for i := range v {
			v[i] = float32(i%7) - 3
		}
		h := sha256.Sum256([]byte("syncrace"))
		if _, err := l.local.cat.Apply(ctx, catalog.Batch{Images: []catalog.Image{{Hash: h[:], Size: 1, Format: "png",
			Width: 1, Height: 1, Model: l.model, Vector: v, Paths: []string{"/nonexistent/syncrace.png"}}}}); err != nil {
			fail("apply", err)
		}
		if err := l.local.syncIndex(ctx); err != nil {
			fail("sync", err)
		}
		os.Exit(0)
	case "reindex":
		_, err := Reindex(ctx, db, Options{Model: os.Getenv("SIGHT_WRITER_MODEL")}, IndexOptions{BatchSize: 2, Workers: 1})
		if err != nil {
			fail("reindex", err)
		}
		os.Exit(0)
	}
	fail("mode", errors.New(mode))
}

func reviewChild(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestWriterChild$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestSyncWhileAnotherWriteIsApplied shows that syncing the index while
// another goroutine has committed a catalog change but not yet applied it to
// the index must not record that change as indexed: after a crash at that
// moment the catalog entry would have no vector, forever.
func TestSyncWhileAnotherWriteIsApplied(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	src := t.TempDir()
	for i := 0; i < 3; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("%d.png", i)), synthPNG(uint64(500+i), 24, 24))
	}
	db := t.TempDir()
	l := openLib(t, db)
	if _, err := l.Index(context.Background(), []string{src}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	cmd := reviewChild(t, "SIGHT_WRITER_MODE=syncrace", "SIGHT_WRITER_DB="+db)
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if n := checkConsistent(t, db); n != 4 {
		t.Fatalf("library holds %d images, want 4", n)
	}
}

// TestSearchWhileAnotherProcessIndexes searches through the read-only open
// path while a child process indexes the same library.
func TestSearchWhileAnotherProcessIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	const files = 60
	src := t.TempDir()
	for i := 0; i < files; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("img%03d.png", i)), synthPNG(uint64(900+i), 40+i%5, 36))
	}
	db := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "SIGHT_CRASH_DB="+db, "SIGHT_CRASH_SRC="+src)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx := context.Background()
	searches, nonEmpty := 0, 0
	var last int
	q := synthPNG(900, 40, 36) // img000.png
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("indexing child: %v", err)
			}
			running = false
		default:
		}
		ro, err := Open(ctx, db, Options{Model: tinyModel, ReadOnly: true})
		if err != nil {
			t.Fatalf("read-only open while indexing: %v", err)
		}
		hits, err := ro.Search(ctx, Query{Terms: []Term{{Image: q, Weight: 1}}, Limit: files})
		ro.Close()
		if err != nil {
			t.Fatalf("search while indexing: %v", err)
		}
		searches++
		if len(hits) < last {
			t.Fatalf("search %d saw %d images, an earlier one %d", searches, len(hits), last)
		}
		last = len(hits)
		if len(hits) > 0 {
			nonEmpty++
		}
		for _, h := range hits {
			if _, err := os.Stat(h.Path); err != nil {
				t.Fatalf("hit %+v: %v", h, err)
			}
		}
	}
	if last != files {
		t.Fatalf("after indexing the search sees %d images, want %d", last, files)
	}
	t.Logf("%d searches during indexing, %d with results", searches, nonEmpty)
	checkConsistent(t, db)
}

// TestReindexKilledMidway kills a reindex child at random moments: the
// library must open with its old model and every image, or (once the swap
// is done) the new model and every image; never anything in between.
func TestReindexKilledMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const files = 24
	src := t.TempDir()
	for i := 0; i < files; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("r%02d.png", i)), synthPNG(uint64(300+i), 32+i%3, 30))
	}
	db := t.TempDir()
	l := openLib(t, db)
	if _, err := l.Index(context.Background(), []string{src}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	oldModel := l.Model()
	l.Close()
	other := copyModel(t)
	rng := rand.New(rand.NewPCG(11, 5))
	swapped, kills := false, 0
	const rounds = 16 // the last one is not killed
	for round := 0; round < rounds && !swapped; round++ {
		cmd := reviewChild(t, "SIGHT_WRITER_MODE=reindex", "SIGHT_WRITER_DB="+db, "SIGHT_WRITER_MODEL="+other)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		kill := time.After(time.Duration(10+rng.IntN(120+40*round)) * time.Millisecond)
		if round == rounds-1 {
			kill = nil
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("reindex child: %v", err)
			}
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
		ctx := context.Background()
		l, err := Open(ctx, db, Options{}) // the library's own model
		if err != nil {
			t.Fatalf("round %d: open after killed reindex: %v", round, err)
		}
		st, err := l.Stats(ctx)
		if err == nil {
			err = l.local.cat.Check(ctx, l.enc.Dim())
		}
		model := l.Model()
		l.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if st.Images != files || st.Indexed != files {
			t.Fatalf("round %d: library holds %+v, want %d images", round, st, files)
		}
		switch model {
		case oldModel:
		case other:
			swapped = true
		default:
			t.Fatalf("round %d: model %q", round, model)
		}
		if _, err := os.Stat(filepath.Join(db, reindexTmp)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: %s left behind after open: %v", round, reindexTmp, err)
		}
	}
	if !swapped {
		t.Fatal("no reindex completed")
	}
	if kills == 0 {
		t.Fatal("no reindex was killed midway")
	}
	t.Logf("%d reindex runs killed midway; the library was whole after each", kills)
}

// copyModel copies the tiny checkpoint to another directory: the same
// weights under another model name.
func copyModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(tinyModel, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, e.Name()), b)
	}
	return dir
}

// TestPruneOnlyUnderGivenFolders checks that --prune removes gone files
// under the folders given to this run only, not under other indexed folders
// (including one whose name merely starts with a given folder's name).
func TestPruneOnlyUnderGivenFolders(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dirs := []string{"a", "a2", "b", filepath.Join("a", "deep")}
	for i, d := range dirs {
		for j := 0; j < 2; j++ {
			write(t, filepath.Join(root, d, fmt.Sprintf("%d.png", j)), synthPNG(uint64(700+10*i+j), 20, 20))
		}
	}
	l := openLib(t, t.TempDir())
	defer l.Close()
	for _, d := range []string{"a", "a2", "b"} {
		if _, err := l.Index(ctx, []string{filepath.Join(root, d)}, IndexOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range dirs {
		if err := os.Remove(filepath.Join(root, d, "0.png")); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := l.Index(ctx, []string{filepath.Join(root, "a")}, IndexOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pruned != 2 { // a/0.png and a/deep/0.png
		t.Fatalf("pruned %d, want 2: %+v", sum.Pruned, sum)
	}
	tests := []struct {
		path string
		kept bool
	}{
		{filepath.Join(root, "a", "0.png"), false},
		{filepath.Join(root, "a", "deep", "0.png"), false},
		{filepath.Join(root, "a", "1.png"), true},
		{filepath.Join(root, "a2", "0.png"), true},
		{filepath.Join(root, "b", "0.png"), true},
	}
	for _, tt := range tests {
		_, err := l.local.cat.LookupPath(ctx, tt.path)
		if kept := err == nil; kept != tt.kept {
			t.Errorf("%s: kept=%v, want %v (%v)", tt.path, kept, tt.kept, err)
		}
	}
	checkIndexMatchesCatalog(t, l)
}

func checkIndexMatchesCatalog(t *testing.T, l *Library) {
	t.Helper()
	ids, err := l.local.cat.IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !l.local.idx.Contains(uint64(id)) {
			t.Fatalf("image %d has no vector", id)
		}
	}
	if l.local.idx.Len() != len(ids) {
		t.Fatalf("index holds %d vectors, catalog %d images", l.local.idx.Len(), len(ids))
	}
}

// TestConcurrentAddImage uploads the same and different images from many
// goroutines at once, with searches running: every upload succeeds, the
// same content gets one id, and the index matches the catalog.
func TestConcurrentAddImage(t *testing.T) {
	ctx := context.Background()
	l := openLib(t, t.TempDir())
	defer l.Close()
	same := synthPNG(42, 32, 32)
	const n = 8
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ids[i], _, errs[i] = l.AddImage(ctx, same)
		}()
		go func() {
			defer wg.Done()
			if _, _, err := l.AddImage(ctx, synthPNG(uint64(43+i), 32, 32)); err != nil {
				t.Errorf("upload %d: %v", i, err)
			}
			if _, err := l.Search(ctx, Query{Terms: []Term{{Text: "x", Weight: 1}}}); err != nil {
				t.Errorf("search: %v", err)
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("upload %d of the same content: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("same content got ids %v", ids)
		}
	}
	st, err := l.Stats(ctx)
	if err != nil || st.Images != n+1 {
		t.Fatalf("stats %+v %v, want %d images", st, err, n+1)
	}
	checkIndexMatchesCatalog(t, l)
}
