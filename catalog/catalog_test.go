package catalog

import (
	"context"
	"crypto/sha256"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"
)

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func img(content string, w, h int, paths ...string) Image {
	return Image{
		Hash: hash(content), Size: int64(len(content)), Format: "png", Width: w, Height: h,
		Model: "m", Vector: []float32{1, 0, 0}, Paths: paths, MTime: time.Unix(1700000000, 0),
	}
}

func openTemp(t *testing.T) (*Catalog, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dir
}

func TestApplyDedupesByHash(t *testing.T) {
	ctx := context.Background()
	c, _ := openTemp(t)
	res, err := c.Apply(ctx, Batch{Images: []Image{img("a", 10, 20, "/x/a.png"), img("b", 30, 40, "/x/b.png")}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.New[0] || !res.New[1] {
		t.Fatalf("new = %v", res.New)
	}
	// The same content under another name shares the image.
	res2, err := c.Apply(ctx, Batch{Images: []Image{img("a", 10, 20, "/y/copy of a.png")}})
	if err != nil {
		t.Fatal(err)
	}
	if res2.New[0] || res2.IDs[0] != res.IDs[0] {
		t.Fatalf("duplicate content stored twice: %+v vs %+v", res2, res)
	}
	im, err := c.Image(ctx, res.IDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/x/a.png", "/y/copy of a.png"}; strings.Join(im.Paths, "|") != strings.Join(want, "|") {
		t.Fatalf("paths = %q, want %q", im.Paths, want)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Images != 2 || st.Vectors != 2 || st.Paths != 3 {
		t.Fatalf("stats = %+v", st)
	}
	if err := c.Check(ctx, 3); err != nil {
		t.Fatal(err)
	}
}

func TestPathMovesAndRemoval(t *testing.T) {
	ctx := context.Background()
	c, _ := openTemp(t)
	res, err := c.Apply(ctx, Batch{Images: []Image{img("old", 1, 1, "/p.png")}})
	if err != nil {
		t.Fatal(err)
	}
	oldID := res.IDs[0]
	// The file at /p.png changes content: the old image loses its only path.
	res2, err := c.Apply(ctx, Batch{Images: []Image{img("new", 1, 1, "/p.png")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Orphaned) != 1 || res2.Orphaned[0] != oldID {
		t.Fatalf("orphaned = %v, want [%d]", res2.Orphaned, oldID)
	}
	if _, err := c.Image(ctx, oldID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old image still there: %v", err)
	}
	gone, err := c.RemovePaths(ctx, []string{"/p.png", "/never-seen.png"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0] != res2.IDs[0] {
		t.Fatalf("gone = %v", gone)
	}
	ids, err := c.IDs(ctx)
	if err != nil || len(ids) != 0 {
		t.Fatalf("ids = %v, %v", ids, err)
	}
}

func TestFilterAndReopen(t *testing.T) {
	ctx := context.Background()
	c, dir := openTemp(t)
	a := img("a", 100, 50, "/photos/2020/beach.jpg")
	a.Format = "jpeg"
	a.TakenAt = time.Date(2020, 7, 1, 12, 0, 0, 0, time.UTC)
	b := img("b", 2000, 1000, "/photos/2023/dog.png")
	b.MTime = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := c.Apply(ctx, Batch{Images: []Image{a, b}, Skipped: []Skip{{Path: "/photos/notes.txt", Reason: "not an image"}}}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	idA, _ := c.LookupHash(ctx, hash("a"))
	idB, _ := c.LookupHash(ctx, hash("b"))
	tests := []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all", Filter{}, []int64{idA, idB}},
		{"glob name", Filter{PathGlob: "*.jpg"}, []int64{idA}},
		{"glob dir", Filter{PathGlob: "2023/*"}, []int64{idB}},
		{"min width", Filter{MinWidth: 1000}, []int64{idB}},
		{"type", Filter{Formats: []string{"JPEG"}}, []int64{idA}},
		{"after (taken, then mtime)", Filter{After: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{idB}},
		{"before", Filter{Before: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{idA}},
		{"none", Filter{MinHeight: 5000}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.Match(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for id := range m {
				got = append(got, id)
			}
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
			// Filter.Matches, the in-memory rule, agrees.
			for _, id := range []int64{idA, idB} {
				im, err := c.Image(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got := tt.f.Matches(im); got != m[id] {
					t.Errorf("Matches(image %d) = %v, Match says %v", id, got, m[id])
				}
			}
		})
	}
	s, ok, err := c.LookupSkipped(ctx, "/photos/notes.txt")
	if err != nil || !ok || s.Reason != "not an image" {
		t.Fatalf("skipped = %+v %v %v", s, ok, err)
	}
	v, err := c.Vector(ctx, idA)
	if err != nil || len(v) != 3 || v[0] != 1 {
		t.Fatalf("vector = %v, %v", v, err)
	}
}

func TestNewerFormatRefused(t *testing.T) {
	c, dir := openTemp(t)
	if err := c.SetMeta("format_version", "99"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "format version 99") {
		t.Fatalf("err = %v", err)
	}
}

func TestVectorCodec(t *testing.T) {
	v := []float32{0, -1.5, 3.25e-7, 1}
	got, err := DecodeVector(EncodeVector(v))
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if got[i] != v[i] {
			t.Fatalf("got %v", got)
		}
	}
	if _, err := DecodeVector([]byte{1, 2, 3}); err == nil {
		t.Fatal("odd length accepted")
	}
}

func TestParseDate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2023-04-05", time.Date(2023, 4, 5, 0, 0, 0, 0, time.UTC), true},
		{"2023-04", time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC), true},
		{"2023", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2023-04-05T06:07:08", time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC), true},
		{"2023-04-05T06:07:08+02:00", time.Date(2023, 4, 5, 4, 7, 8, 0, time.UTC), true},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || (tt.ok && !got.Equal(tt.want)) {
			t.Errorf("ParseDate(%q) = %v, %v", tt.in, got, err)
		}
	}
}
