//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
)

// pageSize is how many objects one cursor page holds.
const pageSize = 500

// image converts an image object to a catalog.Image (without paths).
func (o imageObj) image() (catalog.Image, error) {
	id, err := parseImageUUID(o.Add.ID)
	if err != nil {
		return catalog.Image{}, err
	}
	h, err := hex.DecodeString(o.Hash)
	if err != nil {
		return catalog.Image{}, fmt.Errorf("weaviate: image %d: bad hash %q", id, o.Hash)
	}
	im := catalog.Image{
		ID: id, Hash: h, Size: o.Size, Format: o.Format, Width: o.Width, Height: o.Height,
		Camera: o.Camera, Model: o.Model, AddedAt: time.Unix(o.Added, 0),
	}
	if o.HasTaken {
		im.TakenAt = unixUTC(o.Taken)
	}
	if o.HasGPS {
		im.HasGPS, im.Lat, im.Lon = true, o.Lat, o.Lon
	}
	return im, nil
}

// addPaths sets im's Paths (sorted) and MTime (the newest path's) from its
// path objects.
func addPaths(im *catalog.Image, ps []pathObj) error {
	for _, p := range ps {
		e, err := p.entry()
		if err != nil {
			return err
		}
		im.Paths = append(im.Paths, e.Path)
		if t := unixNano(e.MTime); t.After(im.MTime) {
			im.MTime = t
		}
	}
	slices.Sort(im.Paths)
	return nil
}

// Image returns an image's metadata and paths (sorted).
func (s *Store) Image(ctx context.Context, id int64) (catalog.Image, error) {
	if id <= 0 {
		return catalog.Image{}, fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	u := imageUUID(id)
	found, err := s.imagesByUUID(ctx, []string{u}, imageFields)
	if err != nil {
		return catalog.Image{}, err
	}
	o, ok := found[u]
	if !ok {
		return catalog.Image{}, fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	im, err := o.image()
	if err != nil {
		return im, err
	}
	ps, err := s.pathsOf(ctx, []string{u})
	if err != nil {
		return im, err
	}
	return im, addPaths(&im, ps)
}

// Vector returns an image's vector.
func (s *Store) Vector(ctx context.Context, id int64) ([]float32, error) {
	if id <= 0 {
		return nil, fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	var objs []*models.Object
	err := s.do(ctx, "read vector", func(c *wv.Client) (err error) {
		objs, err = c.Data().ObjectsGetter().WithClassName(s.images).WithID(imageUUID(id)).
			WithVector().WithConsistencyLevel(s.read).Do(ctx)
		return err
	})
	if statusCode(err) == 404 || err == nil && (len(objs) == 0 || objs[0] == nil) {
		return nil, fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if len(objs[0].Vector) == 0 {
		return nil, fmt.Errorf("weaviate: image %d has no vector", id)
	}
	return []float32(objs[0].Vector), nil
}

// Thumbnail returns an image's thumbnail (nil if it has none).
func (s *Store) Thumbnail(ctx context.Context, id int64) ([]byte, error) {
	if id <= 0 {
		return nil, fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	u := imageUUID(id)
	found, err := s.imagesByUUID(ctx, []string{u}, "thumbnail _additional { id }")
	if err != nil {
		return nil, err
	}
	o, ok := found[u]
	if !ok {
		return nil, fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	if o.Thumbnail == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(o.Thumbnail)
	if err != nil {
		return nil, fmt.Errorf("weaviate: image %d: bad thumbnail: %w", id, err)
	}
	return b, nil
}

// entry converts a path object to a catalog.PathEntry.
func (p pathObj) entry() (catalog.PathEntry, error) {
	name, err := p.name()
	if err != nil {
		return catalog.PathEntry{}, err
	}
	id, err := parseImageUUID(p.Image)
	if err != nil {
		return catalog.PathEntry{}, fmt.Errorf("weaviate: path %q: %w", name, err)
	}
	mt, err := strconv.ParseInt(p.MTime, 10, 64)
	if err != nil {
		return catalog.PathEntry{}, fmt.Errorf("weaviate: path %q: bad mtime %q", name, p.MTime)
	}
	return catalog.PathEntry{Path: name, ImageID: id, Size: p.Size, MTime: mt}, nil
}

// LookupPath returns what the store knows of a path.
func (s *Store) LookupPath(ctx context.Context, path string) (catalog.PathEntry, error) {
	u := pathUUID(path)
	found, err := s.pathsByUUID(ctx, []string{u})
	if err != nil {
		return catalog.PathEntry{Path: path}, err
	}
	o, ok := found[u]
	if !ok {
		return catalog.PathEntry{Path: path}, fmt.Errorf("weaviate: path %q: %w", path, store.ErrNotFound)
	}
	return o.entry()
}

// LookupHash returns the id of the image with this content hash.
func (s *Store) LookupHash(ctx context.Context, hash []byte) (int64, error) {
	id, err := ImageID(hash)
	if err != nil {
		return 0, fmt.Errorf("weaviate: hash %x: %w", hash, store.ErrNotFound)
	}
	u := imageUUID(id)
	found, err := s.imagesByUUID(ctx, []string{u}, "hash _additional { id }")
	if err != nil {
		return 0, err
	}
	if o, ok := found[u]; ok && strings.EqualFold(o.Hash, hex.EncodeToString(hash)) {
		return id, nil
	}
	return 0, fmt.Errorf("weaviate: hash %x: %w", hash, store.ErrNotFound)
}

// LookupSkipped always reports no record: this store keeps none.
func (s *Store) LookupSkipped(ctx context.Context, path string) (catalog.Skip, bool, error) {
	return catalog.Skip{Path: path}, false, nil
}

// cursor pages through a class with Weaviate's cursor API (by UUID).
func (s *Store) cursor(ctx context.Context, what, class, fields string, page func(raw []byte) (last string, n int, err error)) error {
	after := ""
	for {
		args := fmt.Sprintf("limit:%d", pageSize)
		if after != "" {
			args += ", after:" + quote(after)
		}
		var raw rawList
		if err := s.get(ctx, what, class, args, fields, &raw); err != nil {
			return err
		}
		if len(raw) == 0 {
			return nil // a null list: nothing (left)
		}
		last, n, err := page(raw)
		if err != nil {
			return err
		}
		if n < pageSize || last == "" {
			return nil
		}
		after = last
	}
}

// rawList keeps a JSON array undecoded.
type rawList []byte

func (r *rawList) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// EachPath calls fn for every path, in no set order. fn may change the
// store.
func (s *Store) EachPath(ctx context.Context, fn func(catalog.PathEntry) error) error {
	return s.cursor(ctx, "list paths", s.paths, pathFields, func(raw []byte) (string, int, error) {
		var objs []pathObj
		if err := json.Unmarshal(raw, &objs); err != nil {
			return "", 0, fmt.Errorf("weaviate: list paths: %w", err)
		}
		for _, o := range objs {
			e, err := o.entry()
			if err != nil {
				return "", 0, err
			}
			if err := fn(e); err != nil {
				return "", 0, err
			}
		}
		if len(objs) == 0 {
			return "", 0, nil
		}
		return objs[len(objs)-1].Add.ID, len(objs), nil
	})
}

// EachVector calls fn for every image's vector, in no set order.
func (s *Store) EachVector(ctx context.Context, fn func(id int64, v []float32) error) error {
	return s.cursor(ctx, "list vectors", s.images, "_additional { id vector }", func(raw []byte) (string, int, error) {
		var objs []imageObj
		if err := json.Unmarshal(raw, &objs); err != nil {
			return "", 0, fmt.Errorf("weaviate: list vectors: %w", err)
		}
		for _, o := range objs {
			id, err := parseImageUUID(o.Add.ID)
			if err != nil {
				return "", 0, err
			}
			if err := fn(id, o.Add.Vector); err != nil {
				return "", 0, err
			}
		}
		if len(objs) == 0 {
			return "", 0, nil
		}
		return objs[len(objs)-1].Add.ID, len(objs), nil
	})
}

// Meta returns the value stored under key. It reads at a consistency
// level that overlaps the write level (see metaLevel), so a value set
// through one node is read back through any other.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var objs []*models.Object
	err := s.do(ctx, "read meta "+key, func(c *wv.Client) (err error) {
		objs, err = c.Data().ObjectsGetter().WithClassName(s.meta).WithID(metaUUID(key)).
			WithConsistencyLevel(s.metaLevel()).Do(ctx)
		return err
	})
	if statusCode(err) == 404 {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if len(objs) == 0 || objs[0] == nil {
		return "", false, nil
	}
	p, _ := objs[0].Properties.(map[string]any)
	k, _ := p["key"].(string)
	v, ok := p["value"].(string)
	if k != key || !ok {
		return "", false, fmt.Errorf("weaviate: meta %s: the answer holds key %q, value %T", key, k, p["value"])
	}
	return v, true, nil
}

// metaLevel is the consistency level of meta reads. Searches read at
// the read level (ONE by default) for speed, which after a QUORUM write
// may ask a replica the write has not reached yet. Meta values (the
// model, the dimension) decide how a library opens, and a meta read is
// one small request, so with QUORUM writes they read at QUORUM too: two
// quorums always share a replica, and QUORUM reads stay available
// exactly when QUORUM writes do.
func (s *Store) metaLevel() string {
	if s.write == "QUORUM" && s.read == "ONE" {
		return "QUORUM"
	}
	return s.read
}

// SetMeta stores value under key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.put(ctx, "write meta "+key, []*models.Object{{
		Class:      s.meta,
		ID:         strfmtUUID(metaUUID(key)),
		Properties: map[string]any{"key": key, "value": value},
	}})
}

// Stats counts the images, vectors (one per image) and paths, the bytes
// of distinct contents and the images of each model. Skipped is always 0.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st := store.Stats{ByModel: map[string]int64{}}
	var tot []struct {
		Meta struct {
			Count int64 `json:"count"`
		} `json:"meta"`
		Size struct {
			Sum *float64 `json:"sum"`
		} `json:"size"`
	}
	q := fmt.Sprintf("{ Aggregate { %s { meta { count } size { sum } } } }", s.images)
	if err := s.query(ctx, "count images", "Aggregate", s.images, q, &tot); err != nil {
		return st, err
	}
	if len(tot) > 0 {
		st.Images = tot[0].Meta.Count
		if tot[0].Size.Sum != nil {
			st.Bytes = int64(*tot[0].Size.Sum)
		}
	}
	st.Vectors = st.Images
	var groups []struct {
		GroupedBy struct {
			Value string `json:"value"`
		} `json:"groupedBy"`
		Meta struct {
			Count int64 `json:"count"`
		} `json:"meta"`
	}
	q = fmt.Sprintf(`{ Aggregate { %s(groupBy:["model"], limit:%d) { groupedBy { value } meta { count } } } }`, s.images, maxResults)
	if err := s.query(ctx, "count images by model", "Aggregate", s.images, q, &groups); err != nil {
		return st, err
	}
	for _, g := range groups {
		if g.Meta.Count > 0 {
			st.ByModel[g.GroupedBy.Value] += g.Meta.Count
		}
	}
	q = fmt.Sprintf("{ Aggregate { %s { meta { count } } } }", s.paths)
	var pc []struct {
		Meta struct {
			Count int64 `json:"count"`
		} `json:"meta"`
	}
	if err := s.query(ctx, "count paths", "Aggregate", s.paths, q, &pc); err != nil {
		return st, err
	}
	if len(pc) > 0 {
		st.Paths = pc[0].Meta.Count
	}
	return st, nil
}

// unixUTC is a stored date taken (whole seconds), as catalog reads it.
func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// unixNano is a stored modification time, as catalog reads it.
func unixNano(ns int64) time.Time { return time.Unix(0, ns) }

// String names the store: its address and collection, as `sight stats`
// shows a library kept here.
func (s *Store) String() string {
	return fmt.Sprintf("%s (collection %s)", Address{Scheme: s.scheme, Hosts: s.hosts}, s.images)
}
