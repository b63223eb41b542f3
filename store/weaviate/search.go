//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/vec"
)

// Search returns up to k images most similar to q (cosine similarity,
// 1 − Weaviate's cosine distance), best first, among those that match f
// (catalog.Filter.Matches exactly) and are not in exclude.
//
// The width, height and format bounds and a widened date bound go to
// Weaviate as a where filter; every candidate is then checked with
// Filter.Matches in memory (path globs and the exact date rule need the
// image's paths). When too few candidates pass, the search asks for more,
// up to Weaviate's 10000-result window; past it, it scans the whole
// collection.
func (s *Store) Search(ctx context.Context, q []float32, k int, f catalog.Filter, exclude []int64) ([]store.Found, error) {
	if k <= 0 {
		return nil, nil
	}
	if len(q) == 0 {
		return nil, fmt.Errorf("weaviate: search with an empty vector")
	}
	excl := map[int64]bool{}
	for _, id := range exclude {
		excl[id] = true
	}
	where := pushdown(f)
	needPaths := f.PathGlob != "" || !f.After.IsZero() || !f.Before.IsZero()
	window := s.window()
	l := k + len(excl)
	if needPaths {
		l = max(l, 2*k)
	}
	l = min(l, window)
	var vec strings.Builder
	vec.WriteByte('[')
	for i, x := range q {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("weaviate: search vector has %v at %d", x, i)
		}
		if i > 0 {
			vec.WriteByte(',')
		}
		vec.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	vec.WriteByte(']')
	for {
		args := fmt.Sprintf("nearVector:{vector:%s}, limit:%d", vec.String(), l)
		if where != "" {
			args += ", where:" + where
		}
		var objs []imageObj
		fields := strings.Replace(imageFields, "_additional { id }", "_additional { id distance }", 1)
		if err := s.getQuery(ctx, "search", s.images, args, fields, &objs); err != nil {
			return nil, err
		}
		found, err := s.keep(ctx, objs, f, needPaths, excl, k)
		if err != nil {
			return nil, err
		}
		if len(found) >= k || len(objs) < l {
			return found, nil
		}
		if l >= window {
			return s.scan(ctx, q, k, f, excl)
		}
		l = min(4*l, window)
	}
}

// window is the largest number of results one search may ask for.
func (s *Store) window() int {
	if s.maxWindow > 0 {
		return s.maxWindow
	}
	return maxResults
}

// keep returns the candidates (in order) that pass f and are not excluded,
// up to k, with their metadata and paths (store.Found.Image): one more
// query for the paths of all candidates when f needs them, else for those
// of the kept ones.
func (s *Store) keep(ctx context.Context, objs []imageObj, f catalog.Filter, needPaths bool, excl map[int64]bool, k int) ([]store.Found, error) {
	ims := make([]catalog.Image, 0, len(objs))
	dist := make([]float64, 0, len(objs))
	for _, o := range objs {
		im, err := o.image()
		if err != nil {
			return nil, err
		}
		if excl[im.ID] {
			continue
		}
		if o.Add.Distance == nil {
			return nil, fmt.Errorf("weaviate: search result %s has no distance", o.Add.ID)
		}
		ims = append(ims, im)
		dist = append(dist, *o.Add.Distance)
	}
	withPaths := func(ims []catalog.Image) error {
		if len(ims) == 0 {
			return nil
		}
		uuids := make([]string, len(ims))
		for i, im := range ims {
			uuids[i] = imageUUID(im.ID)
		}
		ps, err := s.pathsOf(ctx, uuids)
		if err != nil {
			return err
		}
		by := map[string][]pathObj{}
		for _, p := range ps {
			u := strings.ToLower(p.Image)
			by[u] = append(by[u], p)
		}
		for i := range ims {
			if err := addPaths(&ims[i], by[uuids[i]]); err != nil {
				return err
			}
		}
		return nil
	}
	if needPaths {
		if err := withPaths(ims); err != nil {
			return nil, err
		}
	}
	var found []store.Found
	var kept []catalog.Image
	for i, im := range ims {
		if len(found) == k {
			break
		}
		if f.Matches(im) {
			found = append(found, store.Found{ID: im.ID, Score: float32(1 - dist[i])})
			kept = append(kept, im)
		}
	}
	if !needPaths {
		if err := withPaths(kept); err != nil {
			return nil, err
		}
	}
	for i := range found {
		found[i].Image = &kept[i]
	}
	return found, nil
}

// scan is the exhaustive search: every image's vector and paths are read
// and checked.
func (s *Store) scan(ctx context.Context, q []float32, k int, f catalog.Filter, excl map[int64]bool) ([]store.Found, error) {
	s.log.Info("weaviate: filter too selective for the vector index, scanning the collection", "k", k)
	paths := map[int64][]string{}
	mtimes := map[int64]int64{}
	err := s.EachPath(ctx, func(e catalog.PathEntry) error {
		paths[e.ImageID] = append(paths[e.ImageID], e.Path)
		if mt, ok := mtimes[e.ImageID]; !ok || e.MTime > mt {
			mtimes[e.ImageID] = e.MTime
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var all []store.Found
	fields := "format width height hasTaken taken _additional { id vector }"
	err = s.cursor(ctx, "scan images", s.images, fields, func(raw []byte) (string, int, error) {
		var objs []imageObj
		if err := json.Unmarshal(raw, &objs); err != nil {
			return "", 0, fmt.Errorf("weaviate: scan images: %w", err)
		}
		for _, o := range objs {
			id, err := parseImageUUID(o.Add.ID)
			if err != nil {
				return "", 0, err
			}
			if excl[id] {
				continue
			}
			im := catalog.Image{ID: id, Format: o.Format, Width: o.Width, Height: o.Height, Paths: paths[id]}
			if o.HasTaken {
				im.TakenAt = unixUTC(o.Taken)
			}
			if mt, ok := mtimes[id]; ok {
				im.MTime = unixNano(mt)
			}
			if !f.Matches(im) || len(o.Add.Vector) != len(q) {
				continue
			}
			all = append(all, store.Found{ID: id, Score: vec.Dot(q, o.Add.Vector)}) // both are unit vectors
		}
		if len(objs) == 0 {
			return "", 0, nil
		}
		return objs[len(objs)-1].Add.ID, len(objs), nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b store.Found) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return int(min(max(a.ID-b.ID, -1), 1))
	})
	return all[:min(k, len(all))], nil
}

// pushdown returns a where filter that every image matching f passes (a
// superset: the exact check is Filter.Matches), or "" for none.
func pushdown(f catalog.Filter) string {
	var conds []string
	if f.MinWidth > 0 {
		conds = append(conds, whereInt("width", "GreaterThanEqual", int64(f.MinWidth)))
	}
	if f.MinHeight > 0 {
		conds = append(conds, whereInt("height", "GreaterThanEqual", int64(f.MinHeight)))
	}
	if len(f.Formats) > 0 {
		// Formats are stored lower-case; Filter.Matches ignores case.
		formats := make([]string, len(f.Formats))
		for i, x := range f.Formats {
			formats[i] = strings.ToLower(x)
		}
		conds = append(conds, whereAny("format", formats))
	}
	// Images with a date taken must have it in range (within a second:
	// the stored date has whole seconds); the others are checked in memory
	// on their paths' modification times.
	var taken []string
	if !f.After.IsZero() && fitsInt32(f.After.Unix()) {
		taken = append(taken, whereInt("taken", "GreaterThanEqual", f.After.Unix()))
	}
	if !f.Before.IsZero() && fitsInt32(f.Before.Unix()) {
		taken = append(taken, whereInt("taken", "LessThanEqual", f.Before.Unix()))
	}
	if len(taken) > 0 {
		conds = append(conds, whereOp("Or", []string{
			whereBool("hasTaken", false),
			whereOp("And", append([]string{whereBool("hasTaken", true)}, taken...)),
		}))
	}
	if len(conds) == 0 {
		return ""
	}
	return whereOp("And", conds)
}

// fitsInt32 reports whether v can be a GraphQL Int (32 bits).
func fitsInt32(v int64) bool { return v >= math.MinInt32 && v <= math.MaxInt32 }
