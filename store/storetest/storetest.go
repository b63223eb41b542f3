// Package storetest is the conformance suite of store.Store: every store
// (the embedded one of package library, store/weaviate) runs Run and must
// keep the rules of package catalog (deduplication by hash, path moves,
// orphan removal, the filter rule of catalog.Filter.Matches).
//
// The suite uses the interface only. What it checks of precision: Size,
// Width, Height, Format, Camera, Model, Hash, GPS (float64) and the path
// modification times (int64 nanoseconds, values above 2^53 included) round
// trip exactly; TakenAt keeps whole seconds; AddedAt is the time of Apply
// within a second; vectors round trip bit for bit; thumbnails byte for byte.
// A store may keep no skip records (LookupSkipped reports none).
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
)

// Dim is the vector dimension the suite asks open for.
const Dim = 16

// Run runs the suite. open returns a fresh, empty store for vectors of
// dimension dim; the suite closes it.
func Run(t *testing.T, open func(t *testing.T, dim int) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s store.Store)
	}{
		{"ApplyNew", testApplyNew},
		{"ApplyAgain", testApplyAgain},
		{"SameHashOtherPath", testSameHashOtherPath},
		{"DuplicateInBatch", testDuplicateInBatch},
		{"PathMoved", testPathMoved},
		{"PathEntries", testPathEntries},
		{"RoundTrip", testRoundTrip},
		{"Search", testSearch},
		{"SearchEmpty", testSearchEmpty},
		{"EachVectorEachPath", testEach},
		{"RemoveImage", testRemoveImage},
		{"RemovePaths", testRemovePaths},
		{"Meta", testMeta},
		{"NotFound", testNotFound},
		{"Skipped", testSkipped},
		{"ConcurrentApply", testConcurrentApply},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := synced{open(t, Dim)}
			t.Cleanup(func() { s.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			tc.fn(t, ctx, s)
		})
	}
}

// synced wraps the store under test. For a store that indexes
// asynchronously (store.Syncer) it syncs after every Apply, so that the
// suite can search its writes at once, as a library does after an index
// run. It checks that metadata a search returns with its hits
// (store.Found.Image) is what Image returns.
type synced struct{ store.Store }

func (s synced) Apply(ctx context.Context, b catalog.Batch) (catalog.Result, error) {
	res, err := s.Store.Apply(ctx, b)
	if sy, ok := s.Store.(store.Syncer); ok && err == nil {
		err = sy.Sync(ctx)
	}
	return res, err
}

func (s synced) Search(ctx context.Context, q []float32, k int, f catalog.Filter, exclude []int64) ([]store.Found, error) {
	found, err := s.Store.Search(ctx, q, k, f, exclude)
	for _, h := range found {
		if err != nil || h.Image == nil {
			continue
		}
		im, ierr := s.Store.Image(ctx, h.ID)
		if ierr != nil {
			return nil, fmt.Errorf("hit %d: Image: %w", h.ID, ierr)
		}
		a, b := im, *h.Image
		slices.Sort(a.Paths)
		b.Paths = slices.Clone(b.Paths)
		slices.Sort(b.Paths)
		if a.ID != b.ID || !bytes.Equal(a.Hash, b.Hash) || a.Size != b.Size || a.Format != b.Format ||
			a.Width != b.Width || a.Height != b.Height || !a.TakenAt.Equal(b.TakenAt) || a.Camera != b.Camera ||
			!a.MTime.Equal(b.MTime) || !slices.Equal(a.Paths, b.Paths) || a.Model != b.Model {
			return nil, fmt.Errorf("hit %d: the metadata returned with the search differs from Image's:\n%+v\n%+v", h.ID, b, a)
		}
	}
	return found, err
}

// hashOf returns the content hash of a made-up content.
func hashOf(seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	return h[:]
}

// UnitVector returns a random unit vector (normal components, normalised
// in float64).
func UnitVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

var formats = []string{"jpeg", "png", "webp", "gif"}

// makeImage returns an image with every field set from seed i; odd fields
// (no date, no GPS, no thumbnail) vary with i.
func makeImage(r *rand.Rand, i int, paths ...string) catalog.Image {
	im := catalog.Image{
		Hash:   hashOf(fmt.Sprintf("content %d", i)),
		Size:   int64(1000 + 37*i),
		Format: formats[i%len(formats)],
		Width:  100 + 50*(i%9),
		Height: 80 + 40*(i%7),
		Camera: fmt.Sprintf("Camera %d", i%3),
		Model:  []string{"clip-a", "clip-b"}[i%2],
		Vector: UnitVector(r, Dim),
		Paths:  paths,
		// Nanoseconds far above 2^53, spread over the years.
		MTime: time.Unix(1_500_000_000+int64(i)*3_000_000, int64(123_456_789+i)),
	}
	if i%3 != 0 {
		im.TakenAt = time.Unix(1_400_000_000+int64(i)*5_000_000, 0).UTC()
	}
	if i%2 == 0 {
		im.HasGPS, im.Lat, im.Lon = true, 48.8566+float64(i)*1e-7, 2.3522-float64(i)/3
	}
	if i%4 != 3 {
		im.Thumbnail = []byte(fmt.Sprintf("\xff\xd8thumbnail %d\x00\x01\xff\xd9", i))
	}
	return im
}

func apply(t *testing.T, ctx context.Context, s store.Store, b catalog.Batch) catalog.Result {
	t.Helper()
	res, err := s.Apply(ctx, b)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res.IDs) != len(b.Images) || len(res.New) != len(b.Images) {
		t.Fatalf("Apply: %d ids, %d new flags for %d images", len(res.IDs), len(res.New), len(b.Images))
	}
	return res
}

func stats(t *testing.T, ctx context.Context, s store.Store) store.Stats {
	t.Helper()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

func checkCounts(t *testing.T, ctx context.Context, s store.Store, images, paths int64) {
	t.Helper()
	st := stats(t, ctx, s)
	if st.Images != images || st.Vectors != images || st.Paths != paths {
		t.Fatalf("Stats: %d images, %d vectors, %d paths; want %d, %d, %d", st.Images, st.Vectors, st.Paths, images, images, paths)
	}
}

func lookupPath(t *testing.T, ctx context.Context, s store.Store, p string) catalog.PathEntry {
	t.Helper()
	e, err := s.LookupPath(ctx, p)
	if err != nil {
		t.Fatalf("LookupPath(%q): %v", p, err)
	}
	return e
}

func image(t *testing.T, ctx context.Context, s store.Store, id int64) catalog.Image {
	t.Helper()
	im, err := s.Image(ctx, id)
	if err != nil {
		t.Fatalf("Image(%d): %v", id, err)
	}
	return im
}

func notFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: error %v, want store.ErrNotFound", what, err)
	}
}

func testApplyNew(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(1, 2))
	b := catalog.Batch{Images: []catalog.Image{
		makeImage(r, 0, "/lib/a.jpg"),
		makeImage(r, 1, "/lib/b.png", "/lib/copy/b.png"),
		makeImage(r, 2, "/lib/c.webp"),
	}}
	res := apply(t, ctx, s, b)
	seen := map[int64]bool{}
	for i, id := range res.IDs {
		if id <= 0 || seen[id] || !res.New[i] {
			t.Fatalf("Apply: ids %v new %v: want distinct positive new ids", res.IDs, res.New)
		}
		seen[id] = true
		got, err := s.LookupHash(ctx, b.Images[i].Hash)
		if err != nil || got != id {
			t.Fatalf("LookupHash(image %d) = %d, %v; want %d", i, got, err, id)
		}
	}
	if len(res.Orphaned) != 0 {
		t.Fatalf("Orphaned = %v, want none", res.Orphaned)
	}
	st := stats(t, ctx, s)
	want := store.Stats{Images: 3, Vectors: 3, Paths: 4, Bytes: b.Images[0].Size + b.Images[1].Size + b.Images[2].Size,
		ByModel: map[string]int64{"clip-a": 2, "clip-b": 1}}
	if st.Images != want.Images || st.Vectors != want.Vectors || st.Paths != want.Paths || st.Bytes != want.Bytes {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	for m, n := range want.ByModel {
		if st.ByModel[m] != n {
			t.Fatalf("Stats.ByModel = %v, want %v", st.ByModel, want.ByModel)
		}
	}
}

func testApplyAgain(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(3, 4))
	b := catalog.Batch{Images: []catalog.Image{makeImage(r, 0, "/a.jpg"), makeImage(r, 1, "/b.png")}}
	first := apply(t, ctx, s, b)
	for range 2 {
		again := apply(t, ctx, s, b)
		if !slices.Equal(again.IDs, first.IDs) || slices.Contains(again.New, true) || len(again.Orphaned) != 0 {
			t.Fatalf("Apply again = %+v, want ids %v, nothing new, no orphans", again, first.IDs)
		}
	}
	checkCounts(t, ctx, s, 2, 2)
}

func testSameHashOtherPath(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(5, 6))
	im := makeImage(r, 4, "/one/x.jpg")
	id := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{im}}).IDs[0]
	dup := im
	dup.Paths = []string{"/two/x.jpg"}
	dup.Vector = UnitVector(r, Dim) // ignored: the content is known
	res := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{dup}})
	if res.IDs[0] != id || res.New[0] {
		t.Fatalf("same hash again: id %d new %v; want %d, false", res.IDs[0], res.New[0], id)
	}
	got := image(t, ctx, s, id)
	if !slices.Equal(got.Paths, []string{"/one/x.jpg", "/two/x.jpg"}) {
		t.Fatalf("Paths = %q", got.Paths)
	}
	if e := lookupPath(t, ctx, s, "/two/x.jpg"); e.ImageID != id {
		t.Fatalf("LookupPath = %+v, want image %d", e, id)
	}
	v, err := s.Vector(ctx, id)
	if err != nil || !slices.Equal(v, im.Vector) {
		t.Fatalf("Vector after duplicate = %v, %v; want the first vector", v, err)
	}
	checkCounts(t, ctx, s, 1, 2)
}

func testDuplicateInBatch(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(7, 8))
	a := makeImage(r, 5, "/a.jpg")
	b := a
	b.Paths = []string{"/b.jpg"}
	res := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{a, b}})
	if res.IDs[0] != res.IDs[1] || !res.New[0] || res.New[1] {
		t.Fatalf("same content twice in a batch: %+v; want one id, new once", res)
	}
	checkCounts(t, ctx, s, 1, 2)
}

func testPathMoved(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(9, 10))
	a, b, c := makeImage(r, 1, "/p1.jpg"), makeImage(r, 2, "/p2.jpg", "/p2bis.jpg"), makeImage(r, 3, "/p3.jpg")
	res := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{a, b, c}})
	ida, idb, idc := res.IDs[0], res.IDs[1], res.IDs[2]

	// /p1.jpg now holds new content: a loses its only path.
	d := makeImage(r, 4, "/p1.jpg")
	res = apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{d}})
	idd := res.IDs[0]
	if !slices.Equal(res.Orphaned, []int64{ida}) {
		t.Fatalf("Orphaned = %v, want [%d]", res.Orphaned, ida)
	}
	_, err := s.Image(ctx, ida)
	notFound(t, "Image of orphan", err)
	_, err = s.Vector(ctx, ida)
	notFound(t, "Vector of orphan", err)
	if e := lookupPath(t, ctx, s, "/p1.jpg"); e.ImageID != idd {
		t.Fatalf("LookupPath(/p1.jpg) = %+v, want image %d", e, idd)
	}

	// /p2.jpg moves to c by a path entry: b keeps /p2bis.jpg.
	res = apply(t, ctx, s, catalog.Batch{Paths: []catalog.PathEntry{{Path: "/p2.jpg", ImageID: idc, Size: c.Size, MTime: 77}}})
	if len(res.Orphaned) != 0 {
		t.Fatalf("Orphaned = %v, want none (b keeps a path)", res.Orphaned)
	}
	if got := image(t, ctx, s, idb); !slices.Equal(got.Paths, []string{"/p2bis.jpg"}) {
		t.Fatalf("b's paths = %q", got.Paths)
	}
	if got := image(t, ctx, s, idc); !slices.Equal(got.Paths, []string{"/p2.jpg", "/p3.jpg"}) {
		t.Fatalf("c's paths = %q", got.Paths)
	}
	// ... and its last one too: b is removed.
	res = apply(t, ctx, s, catalog.Batch{Paths: []catalog.PathEntry{{Path: "/p2bis.jpg", ImageID: idd, MTime: 5}}})
	if !slices.Equal(res.Orphaned, []int64{idb}) {
		t.Fatalf("Orphaned = %v, want [%d]", res.Orphaned, idb)
	}
	checkCounts(t, ctx, s, 2, 4)

	// A path entry naming an unknown image is refused.
	if _, err := s.Apply(ctx, catalog.Batch{Paths: []catalog.PathEntry{{Path: "/x.jpg", ImageID: ida}}}); err == nil {
		t.Fatal("Apply of a path to a removed image: no error")
	}
}

func testPathEntries(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(11, 12))
	im := makeImage(r, 7, "/a/b c/é.jpg", "/a/bad\xffname.jpg", `/a/quote"back\slash.jpg`)
	id := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{im}}).IDs[0]
	for _, p := range im.Paths {
		e := lookupPath(t, ctx, s, p)
		want := catalog.PathEntry{Path: p, ImageID: id, Size: im.Size, MTime: im.MTime.UnixNano()}
		if e != want {
			t.Errorf("LookupPath(%q) = %+v, want %+v", p, e, want)
		}
	}
	// A path entry updates size and mtime (nanoseconds above 2^53).
	upd := catalog.PathEntry{Path: im.Paths[0], ImageID: id, Size: 42, MTime: 1<<62 + 12345}
	apply(t, ctx, s, catalog.Batch{Paths: []catalog.PathEntry{upd}})
	if e := lookupPath(t, ctx, s, upd.Path); e != upd {
		t.Fatalf("LookupPath after update = %+v, want %+v", e, upd)
	}
	if got := image(t, ctx, s, id); !got.MTime.Equal(time.Unix(0, upd.MTime)) {
		t.Fatalf("Image.MTime = %v, want the newest path mtime %v", got.MTime, time.Unix(0, upd.MTime))
	}
}

func testRoundTrip(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(13, 14))
	var b catalog.Batch
	for i := range 4 {
		b.Images = append(b.Images, makeImage(r, i, fmt.Sprintf("/rt/%d/z.jpg", i), fmt.Sprintf("/rt/%d/a.jpg", i)))
	}
	before := time.Now()
	res := apply(t, ctx, s, b)
	after := time.Now()
	for i, want := range b.Images {
		id := res.IDs[i]
		got := image(t, ctx, s, id)
		wantPaths := slices.Sorted(slices.Values(want.Paths))
		switch {
		case got.ID != id:
			t.Errorf("image %d: ID %d", id, got.ID)
		case !slices.Equal(got.Hash, want.Hash):
			t.Errorf("image %d: Hash %x, want %x", id, got.Hash, want.Hash)
		case got.Size != want.Size || got.Format != want.Format || got.Width != want.Width || got.Height != want.Height:
			t.Errorf("image %d: size/format/dims %d %s %dx%d, want %d %s %dx%d", id,
				got.Size, got.Format, got.Width, got.Height, want.Size, want.Format, want.Width, want.Height)
		case got.TakenAt.IsZero() != want.TakenAt.IsZero() || got.TakenAt.Unix() != want.TakenAt.Unix():
			t.Errorf("image %d: TakenAt %v, want %v", id, got.TakenAt, want.TakenAt)
		case got.Camera != want.Camera || got.Model != want.Model:
			t.Errorf("image %d: camera/model %q %q, want %q %q", id, got.Camera, got.Model, want.Camera, want.Model)
		case got.HasGPS != want.HasGPS || got.Lat != want.Lat || got.Lon != want.Lon:
			t.Errorf("image %d: GPS %v %v %v, want %v %v %v", id, got.HasGPS, got.Lat, got.Lon, want.HasGPS, want.Lat, want.Lon)
		case got.AddedAt.Before(before.Truncate(time.Second)) || got.AddedAt.After(after.Add(time.Second)):
			t.Errorf("image %d: AddedAt %v, not between %v and %v", id, got.AddedAt, before, after)
		case !slices.Equal(got.Paths, wantPaths):
			t.Errorf("image %d: Paths %q, want %q", id, got.Paths, wantPaths)
		case !got.MTime.Equal(want.MTime):
			t.Errorf("image %d: MTime %v, want %v", id, got.MTime, want.MTime)
		case got.Vector != nil || got.Thumbnail != nil:
			t.Errorf("image %d: Image returned a vector or a thumbnail", id)
		}
		v, err := s.Vector(ctx, id)
		if err != nil {
			t.Fatalf("Vector(%d): %v", id, err)
		}
		if len(v) != len(want.Vector) {
			t.Fatalf("Vector(%d) has %d dims, want %d", id, len(v), len(want.Vector))
		}
		for j := range v {
			if math.Float32bits(v[j]) != math.Float32bits(want.Vector[j]) {
				t.Fatalf("Vector(%d)[%d] = %v, want %v", id, j, v[j], want.Vector[j])
			}
		}
		th, err := s.Thumbnail(ctx, id)
		if err != nil || string(th) != string(want.Thumbnail) {
			t.Errorf("Thumbnail(%d) = %q, %v; want %q", id, th, err, want.Thumbnail)
		}
	}
}

// corpus applies n images with varied metadata, paths and vectors and
// returns their ids, vectors and stored images.
func corpus(t *testing.T, ctx context.Context, s store.Store, r *rand.Rand, n int) ([]int64, map[int64][]float32, map[int64]catalog.Image) {
	t.Helper()
	var b catalog.Batch
	for i := range n {
		dir := []string{"/photos/2019", "/photos/2020", "/scans"}[i%3]
		paths := []string{fmt.Sprintf("%s/img%03d.%s", dir, i, b2ext(formats[i%len(formats)]))}
		if i%5 == 0 {
			paths = append(paths, fmt.Sprintf("/backup/copy%03d.jpg", i))
		}
		b.Images = append(b.Images, makeImage(r, i, paths...))
	}
	res := apply(t, ctx, s, b)
	vecs := map[int64][]float32{}
	ims := map[int64]catalog.Image{}
	for i, id := range res.IDs {
		vecs[id] = b.Images[i].Vector
		ims[id] = image(t, ctx, s, id)
	}
	return res.IDs, vecs, ims
}

func b2ext(format string) string {
	if format == "jpeg" {
		return "jpg"
	}
	return format
}

func dot(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

// bruteForce is the reference search.
func bruteForce(q []float32, k int, f catalog.Filter, exclude []int64, vecs map[int64][]float32, ims map[int64]catalog.Image) []store.Found {
	return BruteForce(q, k, vecs, func(id int64) bool { return !slices.Contains(exclude, id) && f.Matches(ims[id]) })
}

// BruteForce returns the k vectors of vecs most similar to q (dot
// product, summed in float64) among those keep accepts (keep may be nil),
// best first, ties by ascending id: an exact reference for searches.
func BruteForce(q []float32, k int, vecs map[int64][]float32, keep func(id int64) bool) []store.Found {
	var all []store.Found
	for id, v := range vecs {
		if keep == nil || keep(id) {
			all = append(all, store.Found{ID: id, Score: float32(dot(q, v))})
		}
	}
	slices.SortFunc(all, func(a, b store.Found) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return all[:min(max(k, 0), len(all))]
}

func testSearch(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(15, 16))
	const n = 60
	ids, vecs, ims := corpus(t, ctx, s, r, n)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	// A bound exactly on a stored date (taken or mtime): After includes it,
	// Before excludes it.
	onTaken := ims[ids[1]].TakenAt
	onMTime := ims[ids[3]].MTime
	filters := []struct {
		name string
		f    catalog.Filter
	}{
		{"none", catalog.Filter{}},
		{"MinWidth", catalog.Filter{MinWidth: 300}},
		{"MinHeight", catalog.Filter{MinHeight: 200}},
		{"MinBoth", catalog.Filter{MinWidth: 200, MinHeight: 150}},
		{"Formats", catalog.Filter{Formats: []string{"png", "gif"}}},
		{"FormatsNone", catalog.Filter{Formats: []string{"tiff"}}},
		{"FormatsAnyCase", catalog.Filter{Formats: []string{"PNG", "Gif"}}},
		{"GlobBase", catalog.Filter{PathGlob: "*.png"}},
		{"GlobDir", catalog.Filter{PathGlob: "2020/*"}},
		{"GlobAbs", catalog.Filter{PathGlob: "/scans/img0[0-4]*"}},
		{"GlobSecondPath", catalog.Filter{PathGlob: "copy*"}},
		{"After", catalog.Filter{After: day(2015, 6, 1)}},
		{"Before", catalog.Filter{Before: day(2016, 1, 1)}},
		{"Range", catalog.Filter{After: day(2014, 1, 1), Before: day(2018, 1, 1)}},
		{"OnTakenAfter", catalog.Filter{After: onTaken}},
		{"OnTakenBefore", catalog.Filter{Before: onTaken}},
		{"OnMTimeAfter", catalog.Filter{After: onMTime}},
		{"OnMTimeBefore", catalog.Filter{Before: onMTime}},
		{"OnMTimeNano", catalog.Filter{After: onMTime.Add(1)}},
		{"All", catalog.Filter{MinWidth: 150, Formats: []string{"jpeg", "png"}, PathGlob: "/photos/*/*", After: day(2010, 1, 1), Before: day(2030, 1, 1)}},
	}
	for _, fc := range filters {
		matching := 0
		for _, im := range ims {
			if fc.f.Matches(im) {
				matching++
			}
		}
		t.Run(fc.name, func(t *testing.T) {
			for qi := range 4 {
				q := UnitVector(r, Dim)
				if qi == 3 {
					q = vecs[ids[7]] // a stored vector: itself first unless filtered out
				}
				exclude := []int64{ids[qi], ids[qi+10], 12345}
				for _, k := range []int{1, 5, n + 10} {
					got, err := s.Search(ctx, q, k, fc.f, exclude)
					if err != nil {
						t.Fatalf("Search: %v", err)
					}
					want := bruteForce(q, k, fc.f, exclude, vecs, ims)
					if len(got) != len(want) {
						t.Fatalf("query %d k=%d (%d match): %d results, want %d", qi, k, matching, len(got), len(want))
					}
					for i := range got {
						if got[i].ID != want[i].ID || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-4 {
							t.Fatalf("query %d k=%d: result %d = %+v, want %+v", qi, k, i, got[i], want[i])
						}
						if i > 0 && got[i].Score > got[i-1].Score {
							t.Fatalf("query %d k=%d: results not best first: %+v", qi, k, got)
						}
					}
				}
			}
		})
	}
	if got, err := s.Search(ctx, vecs[ids[0]], 0, catalog.Filter{}, nil); err != nil || len(got) != 0 {
		t.Fatalf("Search k=0 = %v, %v; want nothing", got, err)
	}
}

func testSearchEmpty(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(17, 18))
	got, err := s.Search(ctx, UnitVector(r, Dim), 10, catalog.Filter{}, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Search of an empty store = %v, %v", got, err)
	}
	checkCounts(t, ctx, s, 0, 0)
}

func testEach(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(19, 20))
	ids, vecs, ims := corpus(t, ctx, s, r, 23)
	seen := map[int64]bool{}
	err := s.EachVector(ctx, func(id int64, v []float32) error {
		if seen[id] {
			return fmt.Errorf("image %d twice", id)
		}
		seen[id] = true
		if !slices.Equal(v, vecs[id]) {
			return fmt.Errorf("image %d: vector %v, want %v", id, v, vecs[id])
		}
		return nil
	})
	if err != nil || len(seen) != len(ids) {
		t.Fatalf("EachVector: %v, %d of %d images", err, len(seen), len(ids))
	}
	want := map[string]catalog.PathEntry{}
	for id, im := range ims {
		for _, p := range im.Paths {
			want[p] = catalog.PathEntry{Path: p, ImageID: id, Size: im.Size, MTime: im.MTime.UnixNano()}
		}
	}
	got := map[string]catalog.PathEntry{}
	err = s.EachPath(ctx, func(e catalog.PathEntry) error {
		if _, ok := got[e.Path]; ok {
			return fmt.Errorf("path %q twice", e.Path)
		}
		got[e.Path] = e
		return nil
	})
	if err != nil {
		t.Fatalf("EachPath: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("EachPath: %d paths, want %d", len(got), len(want))
	}
	for p, e := range want {
		if got[p] != e {
			t.Fatalf("EachPath: %+v, want %+v", got[p], e)
		}
	}
	stop := errors.New("stop")
	if err := s.EachPath(ctx, func(catalog.PathEntry) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("EachPath did not return fn's error: %v", err)
	}
	if err := s.EachVector(ctx, func(int64, []float32) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("EachVector did not return fn's error: %v", err)
	}
}

func testRemoveImage(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(21, 22))
	res := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{makeImage(r, 1, "/a.jpg", "/b.jpg"), makeImage(r, 2, "/c.jpg")}})
	id := res.IDs[0]
	if err := s.RemoveImage(ctx, id); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	_, err := s.Image(ctx, id)
	notFound(t, "Image after RemoveImage", err)
	_, err = s.LookupPath(ctx, "/a.jpg")
	notFound(t, "LookupPath after RemoveImage", err)
	_, err = s.LookupHash(ctx, makeImage(r, 1).Hash)
	notFound(t, "LookupHash after RemoveImage", err)
	notFound(t, "RemoveImage twice", s.RemoveImage(ctx, id))
	got, err := s.Search(ctx, UnitVector(r, Dim), 10, catalog.Filter{}, nil)
	if err != nil || len(got) != 1 || got[0].ID != res.IDs[1] {
		t.Fatalf("Search after RemoveImage = %v, %v; want only %d", got, err, res.IDs[1])
	}
	checkCounts(t, ctx, s, 1, 1)
}

func testRemovePaths(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(23, 24))
	res := apply(t, ctx, s, catalog.Batch{Images: []catalog.Image{makeImage(r, 1, "/a.jpg", "/b.jpg"), makeImage(r, 2, "/c.jpg")}})
	gone, err := s.RemovePaths(ctx, []string{"/a.jpg", "/never.jpg"})
	if err != nil || len(gone) != 0 {
		t.Fatalf("RemovePaths(/a.jpg) = %v, %v; want nothing removed", gone, err)
	}
	if got := image(t, ctx, s, res.IDs[0]); !slices.Equal(got.Paths, []string{"/b.jpg"}) {
		t.Fatalf("Paths = %q", got.Paths)
	}
	gone, err = s.RemovePaths(ctx, []string{"/b.jpg", "/c.jpg"})
	slices.Sort(gone)
	want := slices.Sorted(slices.Values(res.IDs))
	if err != nil || !slices.Equal(gone, want) {
		t.Fatalf("RemovePaths(/b.jpg, /c.jpg) = %v, %v; want %v", gone, err, want)
	}
	checkCounts(t, ctx, s, 0, 0)
	if gone, err := s.RemovePaths(ctx, nil); err != nil || len(gone) != 0 {
		t.Fatalf("RemovePaths(nil) = %v, %v", gone, err)
	}
}

func testMeta(t *testing.T, ctx context.Context, s store.Store) {
	if v, ok, err := s.Meta(ctx, "model"); err != nil || ok {
		t.Fatalf("Meta of a missing key = %q, %v, %v", v, ok, err)
	}
	for _, v := range []string{"clip-vit-b-32", "", "other value with \"quotes\" and é"} {
		if err := s.SetMeta(ctx, "model", v); err != nil {
			t.Fatalf("SetMeta: %v", err)
		}
		if got, ok, err := s.Meta(ctx, "model"); err != nil || !ok || got != v {
			t.Fatalf("Meta = %q, %v, %v; want %q", got, ok, err, v)
		}
	}
	if err := s.SetMeta(ctx, "dim", "512"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Meta(ctx, "dim"); got != "512" {
		t.Fatalf("Meta(dim) = %q", got)
	}
}

func testNotFound(t *testing.T, ctx context.Context, s store.Store) {
	_, err := s.Image(ctx, 12345)
	notFound(t, "Image", err)
	_, err = s.Vector(ctx, 12345)
	notFound(t, "Vector", err)
	_, err = s.Thumbnail(ctx, 12345)
	notFound(t, "Thumbnail", err)
	_, err = s.LookupPath(ctx, "/nowhere.jpg")
	notFound(t, "LookupPath", err)
	_, err = s.LookupHash(ctx, hashOf("never stored"))
	notFound(t, "LookupHash", err)
	notFound(t, "RemoveImage", s.RemoveImage(ctx, 12345))
	if _, err := s.Apply(ctx, catalog.Batch{Images: []catalog.Image{{Paths: []string{"/x"}}}}); err == nil {
		t.Error("Apply of an image without hash: no error")
	}
	r := rand.New(rand.NewPCG(25, 26))
	im := makeImage(r, 1, "/novec.jpg")
	im.Vector = nil
	if _, err := s.Apply(ctx, catalog.Batch{Images: []catalog.Image{im}}); err == nil {
		t.Error("Apply of a new image without vector: no error")
	}
}

func testSkipped(t *testing.T, ctx context.Context, s store.Store) {
	sk := catalog.Skip{Path: "/broken.jpg", Size: 12, MTime: 1<<60 + 1, Reason: "not an image"}
	apply(t, ctx, s, catalog.Batch{Skipped: []catalog.Skip{sk}})
	got, ok, err := s.LookupSkipped(ctx, sk.Path)
	if err != nil {
		t.Fatalf("LookupSkipped: %v", err)
	}
	if ok && got != sk {
		t.Fatalf("LookupSkipped = %+v, want %+v (or no record)", got, sk)
	}
	if _, ok, err := s.LookupSkipped(ctx, "/fine.jpg"); err != nil || ok {
		t.Fatalf("LookupSkipped of an unknown path = %v, %v", ok, err)
	}
}

func testConcurrentApply(t *testing.T, ctx context.Context, s store.Store) {
	r := rand.New(rand.NewPCG(27, 28))
	im := makeImage(r, 9)
	const n = 6
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := im
			c.Paths = []string{fmt.Sprintf("/worker%d/same.jpg", g), "/shared/same.jpg"}
			res, err := s.Apply(ctx, catalog.Batch{Images: []catalog.Image{c}})
			errs[g] = err
			if err == nil {
				ids[g] = res.IDs[0]
			}
		}()
	}
	wg.Wait()
	for g := range n {
		if errs[g] != nil {
			t.Fatalf("worker %d: %v", g, errs[g])
		}
		if ids[g] != ids[0] {
			t.Fatalf("ids %v: want one id", ids)
		}
	}
	checkCounts(t, ctx, s, 1, n+1)
	got := image(t, ctx, s, ids[0])
	if len(got.Paths) != n+1 {
		t.Fatalf("Paths = %q, want %d", got.Paths, n+1)
	}
}
