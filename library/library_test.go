package library

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightsearch/sight/catalog"
)

// tinyModel is the fixture checkpoint (a tiny random CLIP in HF layout).
var tinyModel = filepath.Join("..", "testdata", "clip", "tiny-b32")

func fixtureImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "clip", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// synthPNG returns a distinct small PNG for seed.
func synthPNG(seed uint64, w, h int) []byte {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	base := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{base.R + uint8(x*3), base.G + uint8(y*5), base.B ^ uint8(r.IntN(64)), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// bombPNG is a valid PNG signature and IHDR claiming w×h pixels, with no
// image data.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeFolder builds a folder of good and bad files and returns its path.
func makeFolder(t testing.TB) string {
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	write(t, filepath.Join(photos, "cat.png"), fixtureImage(t, "chelsea.png"))
	write(t, filepath.Join(photos, "astronaut.jpg"), fixtureImage(t, "astronaut.jpg"))
	write(t, filepath.Join(photos, "sub", "coffee.jpg"), fixtureImage(t, "coffee_exif6.jpg"))
	write(t, filepath.Join(photos, "sub", "rocket.jpg"), fixtureImage(t, "rocket.jpg"))
	write(t, filepath.Join(photos, "sub", "palette.gif"), fixtureImage(t, "astronaut_palette.gif"))
	write(t, filepath.Join(photos, "copy of cat.png"), fixtureImage(t, "chelsea.png")) // duplicate content
	write(t, filepath.Join(photos, "ünïcödé 猫.png"), synthPNG(1, 40, 30))
	write(t, filepath.Join(photos, "bad\xff\xfename.png"), synthPNG(2, 30, 40)) // non-UTF-8 name
	// Bad files.
	write(t, filepath.Join(photos, "notes.txt"), []byte("not an image at all\n"))
	write(t, filepath.Join(photos, "empty.jpg"), nil)
	astro := fixtureImage(t, "astronaut.jpg")
	write(t, filepath.Join(photos, "truncated.jpg"), astro[:len(astro)/3])
	write(t, filepath.Join(photos, "bomb.png"), bombPNG(100000, 100000))
	// A symlink loop.
	if err := os.Symlink(photos, filepath.Join(photos, "sub", "loop")); err != nil {
		t.Fatal(err)
	}
	return photos
}

func openLib(t testing.TB, dir string) *Library {
	t.Helper()
	l, err := Open(context.Background(), dir, Options{Model: tinyModel})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestIndexAndSearchEndToEnd(t *testing.T) {
	ctx := context.Background()
	photos := makeFolder(t)
	db := t.TempDir()
	l := openLib(t, db)
	defer func() { l.Close() }()

	sum, err := l.Index(ctx, []string{photos}, IndexOptions{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %+v", sum)
	if sum.Added != 7 || sum.Duplicates != 1 {
		t.Errorf("added %d duplicates %d, want 7 and 1", sum.Added, sum.Duplicates)
	}
	wantSkips := map[string]int{reasonNotImage: 1, reasonEmpty: 1, reasonCorrupt: 1, reasonTooLarge: 1}
	for r, n := range wantSkips {
		if sum.Skipped[r] != n {
			t.Errorf("skipped[%q] = %d, want %d (all: %v)", r, sum.Skipped[r], n, sum.Skipped)
		}
	}
	if sum.Skipped[reasonUnreadable] != 1 { // the symlink loop
		t.Errorf("loop not reported: %v %q", sum.Skipped, sum.Problems)
	}
	st, err := l.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Images != 7 || st.Vectors != 7 || st.Paths != 8 || st.Indexed != 7 {
		t.Fatalf("stats = %+v", st)
	}

	// Search by example: the cat photo finds itself first with cosine ~1,
	// and both of its paths.
	hits, err := l.Search(ctx, Query{Terms: []Term{{Path: filepath.Join(photos, "cat.png"), Weight: 1}}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || !strings.HasSuffix(hits[0].Paths[0], "cat.png") || hits[0].Score < 0.9999 || len(hits[0].Paths) != 2 {
		t.Fatalf("search by example: %+v", hits)
	}
	// Text search returns every image, best first.
	hits, err = l.Search(ctx, Query{Terms: []Term{{Text: "a photo of a cat", Weight: 1}}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 7 {
		t.Fatalf("text search returned %d hits", len(hits))
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Fatalf("hits not sorted: %+v", hits)
		}
	}
	// Min score cuts.
	cut, err := l.Search(ctx, Query{Terms: []Term{{Text: "a photo of a cat", Weight: 1}}, Limit: 100, MinScore: ptr(float64(hits[2].Score))})
	if err != nil || len(cut) != 3 {
		t.Fatalf("min-score: %d hits, %v", len(cut), err)
	}
	// Filters.
	gifs, err := l.Search(ctx, Query{Terms: []Term{{Text: "x", Weight: 1}}, Filter: catalog.Filter{Formats: []string{"gif"}}})
	if err != nil || len(gifs) != 1 || !strings.HasSuffix(gifs[0].Path, "palette.gif") {
		t.Fatalf("gif filter: %+v %v", gifs, err)
	}
	// Similar excludes the image itself.
	sim, err := l.Similar(ctx, filepath.Join(photos, "cat.png"), Query{Limit: 10})
	if err != nil || len(sim) != 6 {
		t.Fatalf("similar: %d %v", len(sim), err)
	}
	for _, h := range sim {
		if strings.HasSuffix(h.Path, "cat.png") {
			t.Fatalf("similar returned the query image: %+v", h)
		}
	}
	// Combination with a negative is a different ranking direction.
	if _, err := l.Search(ctx, Query{Terms: []Term{{Text: "red", Weight: 1}, {Text: "red", Weight: -1}}}); err == nil {
		t.Fatal("cancelling terms accepted")
	}
	// EXIF metadata was kept: coffee_exif6.jpg is stored upright.
	id, err := l.Resolve(ctx, filepath.Join(photos, "sub", "coffee.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := l.local.cat.Image(ctx, id)
	if err != nil || im.Width != 360 || im.Height != 240 {
		t.Fatalf("coffee: %+v %v", im, err)
	}
	if th, err := l.local.cat.Thumbnail(ctx, id); err != nil || len(th) < 100 {
		t.Fatalf("thumbnail: %d bytes, %v", len(th), err)
	}

	// A second run changes nothing.
	sum, err = l.Index(ctx, []string{photos}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 0 || sum.Unchanged != 8 {
		t.Fatalf("second run: %+v", sum)
	}
	// Change one file, delete another, prune.
	write(t, filepath.Join(photos, "ünïcödé 猫.png"), synthPNG(3, 40, 30))
	os.Remove(filepath.Join(photos, "sub", "rocket.jpg"))
	sum, err = l.Index(ctx, []string{photos}, IndexOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || sum.Pruned != 1 {
		t.Fatalf("third run: %+v", sum)
	}
	st, _ = l.Stats(ctx)
	if st.Images != 6 || st.Indexed != 6 {
		t.Fatalf("after prune: %+v", st)
	}
	if err := l.local.cat.Check(ctx, l.enc.Dim()); err != nil {
		t.Fatal(err)
	}

	// Reopen: the index is loaded, not rebuilt, and agrees.
	l.Close()
	l = openLib(t, db)
	st, _ = l.Stats(ctx)
	if st.Indexed != 6 {
		t.Fatalf("reopened index holds %d", st.Indexed)
	}
	// A read-only open (as when another process writes) searches too.
	ro, err := Open(ctx, db, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	h2, err := ro.Search(ctx, Query{Terms: []Term{{Path: filepath.Join(photos, "cat.png"), Weight: 1}}, Limit: 1})
	if err != nil || len(h2) != 1 || h2[0].Score < 0.9999 {
		t.Fatalf("read-only search: %+v %v", h2, err)
	}
	if _, err := ro.Index(ctx, []string{photos}, IndexOptions{}); err == nil {
		t.Fatal("read-only index accepted")
	}
}

func TestSecondWriterIsRefused(t *testing.T) {
	db := t.TempDir()
	l := openLib(t, db)
	defer l.Close()
	_, err := Open(context.Background(), db, Options{Model: tinyModel})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	l2, err := OpenForSearch(context.Background(), db, Options{})
	if err != nil || !l2.ReadOnly() {
		t.Fatalf("OpenForSearch: %v", err)
	}
	l2.Close()
}

// TestWaitForLock: while a writer waits (WaitForLock), searches open the
// library read-only without its lock, so the writer gets in as soon as the
// search that held it closes; once the writer stops waiting, searches take
// the lock again.
func TestWaitForLock(t *testing.T) {
	ctx := context.Background()
	db := t.TempDir()
	openLib(t, db).Close()
	search := func() *Library {
		t.Helper()
		l, err := OpenForSearch(ctx, db, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	held := search()
	if held.ReadOnly() {
		t.Fatal("a search of a free library opened read-only")
	}
	if _, err := Open(ctx, db, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("writer while a search holds the lock: %v, want ErrLocked", err)
	}
	release, ok, err := WaitForLock(db)
	if err != nil || !ok {
		t.Fatalf("WaitForLock: %v %v", ok, err)
	}
	// A second waiting writer finds the announcement made.
	if _, ok, err := WaitForLock(db); err != nil || ok {
		t.Fatalf("second WaitForLock: %v %v, want not announced", ok, err)
	}
	next := search() // starts while the writer waits
	if !next.ReadOnly() {
		t.Fatal("a search that started while a writer waits took the lock")
	}
	held.Close()
	w, err := Open(ctx, db, Options{})
	if err != nil {
		t.Fatalf("writer after the holding search closed, another search still open: %v", err)
	}
	w.Close()
	next.Close()
	release()
	if l := search(); l.ReadOnly() {
		t.Fatal("a search after the writer stopped waiting opened read-only")
	} else {
		l.Close()
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		write(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), synthPNG(uint64(10+i), 20, 20))
	}
	l := openLib(t, t.TempDir())
	defer l.Close()
	if _, err := l.Index(ctx, []string{dir}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	gone, err := l.Remove(ctx, filepath.Join(dir, "1.png"))
	if err != nil || len(gone) != 1 {
		t.Fatalf("remove by path: %v %v", gone, err)
	}
	id, err := l.Resolve(ctx, filepath.Join(dir, "2.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Remove(ctx, fmt.Sprint(id)); err != nil {
		t.Fatal(err)
	}
	st, _ := l.Stats(ctx)
	if st.Images != 1 || st.Indexed != 1 {
		t.Fatalf("stats after rm: %+v", st)
	}
	if _, err := l.Remove(ctx, "999999"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("rm of unknown id: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPruneGivenFiles: --prune drops a file given by name that is gone, and
// everything under a given folder that is gone.
func TestPruneGivenFiles(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	one := filepath.Join(src, "one.png")
	write(t, one, synthPNG(501, 20, 20))
	sub := filepath.Join(src, "sub")
	write(t, filepath.Join(sub, "two.png"), synthPNG(502, 20, 20))
	write(t, filepath.Join(src, "keep.png"), synthPNG(503, 20, 20))
	l := openLib(t, t.TempDir())
	defer l.Close()
	if _, err := l.Index(ctx, []string{src}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(one)
	os.RemoveAll(sub)
	sum, err := l.Index(ctx, []string{one, sub}, IndexOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pruned != 2 {
		t.Fatalf("pruned %d, want 2: %+v", sum.Pruned, sum)
	}
	st, _ := l.Stats(ctx)
	if st.Images != 1 || st.Indexed != 1 {
		t.Fatalf("stats %+v", st)
	}
}
