//go:build !386 && !arm && !mips && !mipsle

package library

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/internal/weaviatetest"
	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/weaviate"
)

// TestEveryStore runs one library session, indexing a folder, searches by
// text, by example and combined, with filters, similar images, dupes,
// a re-index and a removal, on the embedded store and on a 3-node Weaviate
// cluster (replication 2), and checks that both give the same answers.
func TestEveryStore(t *testing.T) {
	photos := makeFolder(t)
	// A near-duplicate: the astronaut re-encoded at a lower quality.
	img, err := jpeg.Decode(bytes.NewReader(fixtureImage(t, "astronaut.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(photos, "sub", "astronaut q60.jpg"), buf.Bytes())

	stores := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"embedded", func(t *testing.T) store.Store { return newLocalStore(t, 32) }},
		{"weaviate", func(t *testing.T) store.Store {
			c := weaviatetest.Start(t, 3)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := weaviate.Open(ctx, c.URL(), weaviate.Options{Collection: "Library", Replication: 2})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
	}
	transcripts := make([]string, len(stores))
	for i, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			transcripts[i] = session(t, photos, s.open(t))
		})
	}
	if t.Failed() {
		return
	}
	t.Logf("transcript (both stores):\n%s", transcripts[0])
	if transcripts[0] != transcripts[1] {
		t.Fatalf("the stores answer differently:\n--- embedded\n%s\n--- weaviate\n%s", transcripts[0], transcripts[1])
	}
}

// session runs the library operations on st and returns a transcript of
// their results (paths and scores; ids differ between stores).
func session(t *testing.T, photos string, st store.Store) string {
	ctx := context.Background()
	l, err := OpenStore(ctx, st, Options{Model: tinyModel})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var tr strings.Builder
	rel := func(p string) string {
		r, err := filepath.Rel(photos, p)
		if err != nil {
			return p
		}
		return r
	}
	hits := func(what string, hs []Hit) {
		fmt.Fprintf(&tr, "%s:", what)
		for _, h := range hs {
			fmt.Fprintf(&tr, " %s=%.4f", rel(h.Path), h.Score)
		}
		tr.WriteByte('\n')
	}

	sum, err := l.Index(ctx, []string{photos}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&tr, "index: %d added, %d duplicates, %v\n", sum.Added, sum.Duplicates, sum.Skipped)
	if sum.Added != 8 {
		t.Fatalf("index: %+v, want 8 added", sum)
	}

	cat := filepath.Join(photos, "cat.png")
	queries := []struct {
		name string
		q    Query
	}{
		{"text", Query{Terms: []Term{{Text: "a photo of a cat", Weight: 1}}, Limit: 5}},
		{"example", Query{Terms: []Term{{Path: cat, Weight: 1}}, Limit: 3}},
		{"combined", Query{Terms: []Term{{Path: cat, Weight: 1}, {Text: "a rocket", Weight: 0.5}, {Text: "blurry", Weight: -0.3}}, Limit: 4}},
		{"jpeg only", Query{Terms: []Term{{Text: "a photo", Weight: 1}}, Filter: catalog.Filter{Formats: []string{"jpeg"}}}},
		{"glob", Query{Terms: []Term{{Text: "a photo", Weight: 1}}, Filter: catalog.Filter{PathGlob: "sub/*"}}},
		{"wide", Query{Terms: []Term{{Text: "a photo", Weight: 1}}, Filter: catalog.Filter{MinWidth: 400}}},
		{"min score", Query{Terms: []Term{{Path: cat, Weight: 1}}, MinScore: ptr(0.5)}},
	}
	for _, q := range queries {
		hs, err := l.Search(ctx, q.q)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		hits(q.name, hs)
	}
	sim, err := l.Similar(ctx, cat, Query{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	hits("similar", sim)

	groups, err := l.Dupes(ctx, 0.95, 5)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, g := range groups {
		var ps []string
		for _, h := range g.Images {
			ps = append(ps, rel(h.Path))
		}
		slices.Sort(ps)
		fmt.Fprintf(&tr, "dupes: %v\n", ps)
		found = found || slices.Equal(ps, []string{"astronaut.jpg", "sub/astronaut q60.jpg"})
	}
	if !found {
		t.Errorf("dupes = %s, want the astronaut and its re-encoding together", tr.String())
	}

	// Again: nothing new; then remove one path of the cat.
	sum, err = l.Index(ctx, []string{photos}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&tr, "again: %d added, %d unchanged\n", sum.Added, sum.Unchanged)
	if _, err := l.Remove(ctx, cat); err != nil {
		t.Fatal(err)
	}
	hs, err := l.Search(ctx, Query{Terms: []Term{{Path: cat, Weight: 1}}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || len(hs[0].Paths) != 1 || rel(hs[0].Path) != "copy of cat.png" {
		t.Fatalf("after removing cat.png: %+v", hs)
	}
	hits("after rm", hs)
	s, err := l.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&tr, "stats: %d images, %d vectors, %d paths\n", s.Images, s.Vectors, s.Paths)
	if _, remote := st.(*weaviate.Store); remote != strings.HasPrefix(s.Store, "weaviate://") {
		t.Errorf("stats name the store %q", s.Store)
	}
	if _, err := os.Stat(cat); err != nil {
		t.Fatal(err) // Remove takes the path out of the library, not off the disk
	}
	return tr.String()
}
