package library

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightsearch/sight/catalog"
)

// newLocalStore opens an embedded store of dimension dim in a temporary
// directory, as Open does for a library directory.
func newLocalStore(t testing.TB, dim int) *localStore {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &localStore{dir: dir, cat: cat, dim: dim, log: slog.New(slog.DiscardHandler)}
	if err := s.openIndex(context.Background()); err != nil {
		cat.Close()
		t.Fatal(err)
	}
	return s
}

// TestOpenStore runs a library over a store it does not own (here an
// embedded store opened apart, standing for a remote one): indexing from
// the working directory, searches, dupes, removal, and uploads, which need
// an uploads folder.
func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	photos := makeFolder(t)
	st := newLocalStore(t, 32) // the tiny model's dimension
	l, err := OpenStore(ctx, st, Options{Model: tinyModel})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Dir() != "" {
		t.Fatalf("Dir = %q, want none", l.Dir())
	}

	// Relative sources are walked from the working directory: a library
	// without a directory must not skip it.
	wd, _ := os.Getwd()
	if err := os.Chdir(photos); err != nil {
		t.Fatal(err)
	}
	sum, err := l.Index(ctx, []string{"."}, IndexOptions{})
	os.Chdir(wd)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 7 || sum.Duplicates != 1 {
		t.Fatalf("summary = %+v, want 7 added and 1 duplicate", sum)
	}
	if m, ok, _ := st.Meta(ctx, metaModel); !ok || m != l.Model() {
		t.Fatalf("store's model = %q %v, want %q", m, ok, l.Model())
	}

	// Search by example finds the image itself first.
	cat := filepath.Join(photos, "cat.png")
	hits, err := l.Search(ctx, Query{Terms: []Term{{Path: cat, Weight: 1}}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Score < 0.999 || len(hits[0].Paths) != 2 {
		t.Fatalf("hits = %+v, want the cat with its 2 paths first", hits)
	}
	sim, err := l.Similar(ctx, cat, Query{Limit: 10, Filter: catalog.Filter{Formats: []string{"jpeg"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sim) != 3 {
		t.Fatalf("similar jpegs = %d, want 3", len(sim))
	}
	for _, h := range sim {
		if h.ID == hits[0].ID || h.Format != "jpeg" {
			t.Fatalf("similar returned %+v", h)
		}
	}
	st2, err := l.Stats(ctx)
	if err != nil || st2.Images != 7 || st2.Indexed != 7 || st2.Dir != "" {
		t.Fatalf("stats = %+v, %v", st2, err)
	}

	// Uploads need a folder.
	png := synthPNG(9, 32, 32)
	if _, _, err := l.AddImage(ctx, png); err == nil {
		t.Fatal("upload accepted without an uploads folder")
	}
	l.opts.UploadsDir = t.TempDir()
	id, added, err := l.AddImage(ctx, png)
	if err != nil || !added {
		t.Fatalf("upload: %v, added %v", err, added)
	}
	im, err := st.Image(ctx, id)
	if err != nil || len(im.Paths) != 1 || filepath.Dir(im.Paths[0]) != l.opts.UploadsDir {
		t.Fatalf("uploaded image = %+v, %v", im, err)
	}
	if err := l.RemoveImage(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(im.Paths[0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("upload file left behind: %v", err)
	}
	if _, err := st.Image(ctx, id); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("removed image: %v", err)
	}
}
