//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weaviate/weaviate/entities/models"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
)

// Apply commits a batch with catalog.Apply's rules: a known content gets
// the new paths, a path names one image, an image left without a path is
// removed (Result.Orphaned). It writes the new images first, then the
// paths, then removes orphans, so an interrupted Apply leaves at worst new
// images without paths or orphans not yet removed; applying the batch again
// completes it. Batch.Skipped is dropped (this store keeps no skip
// records). When several processes apply the same new content at once,
// each may report it New; one object results. The new vectors become
// searchable once Weaviate has indexed them: see Sync.
func (s *Store) Apply(ctx context.Context, b catalog.Batch) (catalog.Result, error) {
	res := catalog.Result{IDs: make([]int64, len(b.Images)), New: make([]bool, len(b.Images))}
	var uuids []string
	for i, im := range b.Images {
		if len(im.Hash) == 0 {
			return res, fmt.Errorf("weaviate: image %d of batch has no hash", i)
		}
		id, err := ImageID(im.Hash)
		if err != nil {
			return res, fmt.Errorf("weaviate: image %d of batch: %w", i, err)
		}
		res.IDs[i] = id
		uuids = append(uuids, imageUUID(id))
	}
	for _, p := range b.Paths {
		if p.ImageID <= 0 {
			return res, fmt.Errorf("weaviate: path %q: bad image id %d", p.Path, p.ImageID)
		}
		uuids = append(uuids, imageUUID(p.ImageID))
	}
	slices.Sort(uuids)
	uuids = slices.Compact(uuids)
	existing, err := s.imagesByUUID(ctx, uuids, "hash _additional { id }")
	if err != nil {
		return res, err
	}

	// New images, deduplicated by hash against the store and the batch.
	now := time.Now().Unix()
	created := map[int64]bool{}
	var objs []*models.Object
	for i, im := range b.Images {
		id := res.IDs[i]
		u := imageUUID(id)
		if o, ok := existing[u]; ok {
			if !strings.EqualFold(o.Hash, hex.EncodeToString(im.Hash)) {
				return res, fmt.Errorf("weaviate: image %x has id %d, already taken by content %s", im.Hash, id, o.Hash)
			}
			continue
		}
		if created[id] {
			continue
		}
		if len(im.Vector) == 0 {
			return res, fmt.Errorf("weaviate: image %x has no vector", im.Hash)
		}
		created[id] = true
		res.New[i] = true
		objs = append(objs, imageObject(s.images, u, im, now))
	}
	for _, p := range b.Paths {
		if _, ok := existing[imageUUID(p.ImageID)]; !ok && !created[p.ImageID] {
			return res, fmt.Errorf("weaviate: path %q names image %d: %w", p.Path, p.ImageID, store.ErrNotFound)
		}
	}

	// Paths, in batch order: a later entry for a path wins.
	var entries []catalog.PathEntry
	for i, im := range b.Images {
		var mt int64
		if !im.MTime.IsZero() {
			mt = im.MTime.UnixNano()
		}
		for _, p := range im.Paths {
			entries = append(entries, catalog.PathEntry{Path: p, ImageID: res.IDs[i], Size: im.Size, MTime: mt})
		}
	}
	entries = append(entries, b.Paths...)
	var pathUUIDs []string
	for _, e := range entries {
		pathUUIDs = append(pathUUIDs, pathUUID(e.Path))
	}
	stored, err := s.pathsByUUID(ctx, pathUUIDs)
	if err != nil {
		return res, err
	}
	owner := map[string]int64{}
	for _, o := range stored {
		name, err := o.name()
		if err != nil {
			return res, err
		}
		id, err := parseImageUUID(o.Image)
		if err != nil {
			return res, fmt.Errorf("weaviate: path %q: %w", name, err)
		}
		owner[name] = id
	}
	touched := map[int64]bool{}
	final := map[string]catalog.PathEntry{}
	var order []string
	for _, e := range entries {
		if old, ok := owner[e.Path]; ok && old != e.ImageID {
			touched[old] = true
		}
		owner[e.Path] = e.ImageID
		if _, ok := final[e.Path]; !ok {
			order = append(order, e.Path)
		}
		final[e.Path] = e
	}
	// An image that lost a path but ends this batch owning another is no
	// orphan, whatever a replica that has not seen the batch's paths yet
	// answers dropOrphans.
	for _, id := range owner {
		delete(touched, id)
	}

	if err := s.put(ctx, "store images", objs); err != nil {
		return res, err
	}
	objs = objs[:0]
	for _, p := range order {
		e := final[p]
		objs = append(objs, &models.Object{
			Class:      s.paths,
			ID:         strfmtUUID(pathUUID(p)),
			Properties: pathProps(p, imageUUID(e.ImageID), e.Size, e.MTime),
		})
	}
	if err := s.put(ctx, "store paths", objs); err != nil {
		return res, err
	}
	res.Orphaned, err = s.dropOrphans(ctx, touched)
	return res, err
}

func imageObject(class, u string, im catalog.Image, now int64) *models.Object {
	props := map[string]any{
		"hash":     hex.EncodeToString(im.Hash),
		"size":     im.Size,
		"format":   im.Format,
		"width":    im.Width,
		"height":   im.Height,
		"hasTaken": !im.TakenAt.IsZero(),
		"taken":    int64(0),
		"camera":   im.Camera,
		"hasGPS":   im.HasGPS,
		"lat":      0.0,
		"lon":      0.0,
		"model":    im.Model,
		"added":    now,
	}
	if !im.TakenAt.IsZero() {
		props["taken"] = im.TakenAt.Unix()
	}
	if im.HasGPS {
		props["lat"], props["lon"] = im.Lat, im.Lon
	}
	if len(im.Thumbnail) > 0 {
		props["thumbnail"] = base64.StdEncoding.EncodeToString(im.Thumbnail)
	}
	return &models.Object{
		Class:      class,
		ID:         strfmtUUID(u),
		Properties: props,
		Vector:     models.C11yVector(im.Vector),
	}
}

// dropOrphans removes the images among ids that have no path left and
// returns them, ascending.
func (s *Store) dropOrphans(ctx context.Context, ids map[int64]bool) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var uuids []string
	for id := range ids {
		uuids = append(uuids, imageUUID(id))
	}
	slices.Sort(uuids)
	ps, err := s.pathsOf(ctx, uuids)
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, p := range ps {
		kept[strings.ToLower(p.Image)] = true
	}
	var gone []int64
	var goneUUIDs []string
	for _, u := range uuids {
		if !kept[u] {
			id, _ := parseImageUUID(u)
			gone = append(gone, id)
			goneUUIDs = append(goneUUIDs, u)
		}
	}
	if err := s.deleteIDs(ctx, "remove orphaned images", s.images, goneUUIDs); err != nil {
		return nil, err
	}
	slices.Sort(gone)
	return gone, nil
}

// RemoveImage removes an image and its paths.
func (s *Store) RemoveImage(ctx context.Context, id int64) error {
	if id <= 0 {
		return fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	u := imageUUID(id)
	found, err := s.imagesByUUID(ctx, []string{u}, "_additional { id }")
	if err != nil {
		return err
	}
	if _, ok := found[u]; !ok {
		return fmt.Errorf("weaviate: image %d: %w", id, store.ErrNotFound)
	}
	ps, err := s.pathsOf(ctx, []string{u})
	if err != nil {
		return err
	}
	var pu []string
	for _, p := range ps {
		pu = append(pu, p.Add.ID)
	}
	if err := s.deleteIDs(ctx, "remove paths of image", s.paths, pu); err != nil {
		return err
	}
	return s.deleteIDs(ctx, "remove image", s.images, []string{u})
}

// RemovePaths removes paths (unknown ones are ignored) and returns the
// images removed because they had no path left, ascending.
func (s *Store) RemovePaths(ctx context.Context, paths []string) ([]int64, error) {
	var uuids []string
	for _, p := range paths {
		uuids = append(uuids, pathUUID(p))
	}
	stored, err := s.pathsByUUID(ctx, uuids)
	if err != nil {
		return nil, err
	}
	touched := map[int64]bool{}
	var del []string
	for u, o := range stored {
		id, err := parseImageUUID(o.Image)
		if err != nil {
			return nil, fmt.Errorf("weaviate: path object %s: %w", u, err)
		}
		touched[id] = true
		del = append(del, u)
	}
	if err := s.deleteIDs(ctx, "remove paths", s.paths, del); err != nil {
		return nil, err
	}
	return s.dropOrphans(ctx, touched)
}
