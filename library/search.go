package library

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/vec"
)

// Term is one part of a query with its weight. Exactly one of Text, Image
// (an image file's bytes), Path (an image file) or ID (an image of the
// library) is set. A negative weight pushes results away from the term.
type Term struct {
	Text   string
	Image  []byte
	Path   string
	ID     int64
	Weight float64
}

// Query is a search: the weighted sum of its terms' normalised embeddings,
// renormalised, compared by cosine with every image.
type Query struct {
	Terms    []Term
	Limit    int      // results to return; 0 means 10
	MinScore *float64 // drop results whose cosine is below this (nil: keep all)
	Filter   catalog.Filter
	Exclude  []int64 // ids never returned (e.g. the example image itself)
}

// Hit is one search result.
type Hit struct {
	ID     int64    `json:"id"`
	Score  float32  `json:"score"`
	Path   string   `json:"path"`
	Paths  []string `json:"paths,omitempty"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Format string   `json:"format"`
}

// newHit describes a catalog image as a result with the given score.
func newHit(im catalog.Image, score float32) Hit {
	h := Hit{ID: im.ID, Score: score, Paths: im.Paths, Width: im.Width, Height: im.Height, Format: im.Format}
	if len(im.Paths) > 0 {
		h.Path = im.Paths[0]
	}
	return h
}

// ErrBadImage wraps the decoding errors of query images: the image, not
// the library, is at fault.
var ErrBadImage = errors.New("bad image")

// embedImage decodes and embeds an image, wrapping decoding failures with
// ErrBadImage.
func (l *Library) embedImage(ctx context.Context, data []byte) ([]float32, error) {
	img, _, err := l.enc.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	v, err := l.enc.EmbedPixels(ctx, [][]float32{l.enc.Pixels(img)})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// ErrEmptyQuery is returned for a query without terms.
var ErrEmptyQuery = errors.New("library: empty query: give a text, an image or an id")

// ErrBadQuery is wrapped by errors in a query's terms (empty terms, wrong
// dimensions, terms that cancel out).
var ErrBadQuery = errors.New("bad query")

// QueryVector computes the unit query vector of q's terms.
func (l *Library) QueryVector(ctx context.Context, terms []Term) ([]float32, error) {
	if len(terms) == 0 {
		return nil, ErrEmptyQuery
	}
	// Only the weights' ratios matter (the sum is renormalised): scale them
	// so that the largest is ±1 and huge weights cannot overflow the sum.
	var maxW float64
	for i, t := range terms {
		if math.IsNaN(t.Weight) || math.IsInf(t.Weight, 0) {
			return nil, fmt.Errorf("%w: term %d has weight %v", ErrBadQuery, i, t.Weight)
		}
		maxW = max(maxW, math.Abs(t.Weight))
	}
	if maxW == 0 {
		return nil, fmt.Errorf("%w: every term has weight 0", ErrBadQuery)
	}
	dim := l.enc.Dim()
	sum := make([]float64, dim)
	var texts []string
	for _, t := range terms {
		if t.Text != "" {
			texts = append(texts, t.Text)
		}
	}
	textVecs, err := l.enc.EmbedTexts(ctx, texts)
	if err != nil {
		return nil, err
	}
	ti := 0
	for i, t := range terms {
		w := t.Weight / maxW
		var v []float32
		switch {
		case t.Text != "":
			v = textVecs[ti]
			ti++
		case t.Image != nil:
			if v, err = l.embedImage(ctx, t.Image); err != nil {
				return nil, fmt.Errorf("query image: %w", err)
			}
		case t.Path != "":
			data, err := os.ReadFile(t.Path)
			if err != nil {
				return nil, fmt.Errorf("query image: %w", err)
			}
			if v, err = l.embedImage(ctx, data); err != nil {
				return nil, fmt.Errorf("query image %s: %w", t.Path, err)
			}
		case t.ID != 0:
			if v, err = l.st.Vector(ctx, t.ID); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: term %d is empty", ErrBadQuery, i)
		}
		if len(v) != dim {
			return nil, fmt.Errorf("%w: term %d has dimension %d, the library %d", ErrBadQuery, i, len(v), dim)
		}
		u := append([]float32(nil), v...)
		if n := vec.Normalize(u); n == 0 || math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
			return nil, fmt.Errorf("%w: term %d has a zero embedding", ErrBadQuery, i)
		}
		for j, x := range u {
			sum[j] += w * float64(x)
		}
	}
	var n float64
	for _, x := range sum {
		n += x * x
	}
	if n == 0 || math.IsNaN(n) {
		return nil, fmt.Errorf("%w: the terms cancel out (their weighted sum is a zero vector)", ErrBadQuery)
	}
	n = math.Sqrt(n)
	q := make([]float32, dim)
	for j, x := range sum {
		q[j] = float32(x / n)
	}
	return q, nil
}

// Search runs a query.
func (l *Library) Search(ctx context.Context, q Query) ([]Hit, error) {
	v, err := l.QueryVector(ctx, q.Terms)
	if err != nil {
		return nil, err
	}
	return l.SearchVector(ctx, v, q)
}

// SearchVector searches with a ready unit query vector; q's terms are
// ignored.
func (l *Library) SearchVector(ctx context.Context, v []float32, q Query) ([]Hit, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	found, err := l.st.Search(ctx, v, limit, q.Filter, q.Exclude)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, len(found))
	for _, f := range found {
		if q.MinScore != nil && float64(f.Score) < *q.MinScore {
			break
		}
		if f.Image != nil {
			hits = append(hits, newHit(*f.Image, f.Score))
			continue
		}
		im, err := l.st.Image(ctx, f.ID)
		if errors.Is(err, catalog.ErrNotFound) {
			continue // removed since the index answered
		}
		if err != nil {
			return nil, err
		}
		hits = append(hits, newHit(im, f.Score))
	}
	return hits, nil
}

// Resolve finds the image a reference names: an id, or a path the library
// holds.
func (l *Library) Resolve(ctx context.Context, ref string) (int64, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if _, serr := os.Stat(ref); serr != nil {
			if _, err := l.st.Image(ctx, id); err != nil {
				return 0, err
			}
			return id, nil
		}
	}
	abs, err := filepath.Abs(ref)
	if err != nil {
		return 0, err
	}
	e, err := l.st.LookupPath(ctx, abs)
	if err != nil {
		return 0, fmt.Errorf("%s is not in the library (index it first, or search by example with --image): %w", ref, err)
	}
	return e.ImageID, nil
}

// Similar returns the images most like the one ref names (an id or a path
// in the library), without that image itself.
func (l *Library) Similar(ctx context.Context, ref string, q Query) ([]Hit, error) {
	id, err := l.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	q.Terms = []Term{{ID: id, Weight: 1}}
	q.Exclude = append(q.Exclude, id)
	return l.Search(ctx, q)
}

// Group is a set of near-duplicate images.
type Group struct {
	Images []Hit `json:"images"`
}

// Dupes groups images whose cosine similarity is at least threshold
// (transitively). Groups are ordered by size, largest first.
func (l *Library) Dupes(ctx context.Context, threshold float32, neighbours int) ([]Group, error) {
	if neighbours <= 0 {
		neighbours = 10
	}
	parent := map[int64]int64{}
	var find func(int64) int64
	find = func(x int64) int64 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	best := map[int64]float32{}
	err := l.st.EachVector(ctx, func(id int64, v []float32) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, ok := parent[id]; !ok {
			parent[id] = id
		}
		found, err := l.st.Search(ctx, v, neighbours+1, catalog.Filter{}, nil)
		if err != nil {
			return err
		}
		for _, f := range found {
			other := f.ID
			if other == id || f.Score < threshold {
				continue
			}
			if _, ok := parent[other]; !ok {
				parent[other] = other
			}
			a, b := find(id), find(other)
			if a != b {
				parent[a] = b
			}
			best[id] = max(best[id], f.Score)
			best[other] = max(best[other], f.Score)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	members := map[int64][]int64{}
	for id := range parent {
		r := find(id)
		members[r] = append(members[r], id)
	}
	var groups []Group
	for _, ids := range members {
		if len(ids) < 2 {
			continue
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		var g Group
		for _, id := range ids {
			im, err := l.st.Image(ctx, id)
			if err != nil {
				return nil, err
			}
			g.Images = append(g.Images, newHit(im, best[id]))
		}
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if len(groups[i].Images) != len(groups[j].Images) {
			return len(groups[i].Images) > len(groups[j].Images)
		}
		return groups[i].Images[0].ID < groups[j].Images[0].ID
	})
	return groups, nil
}

// Label is one class of a zero-shot classification with its probability.
type Label struct {
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
	Score       float32 `json:"score"` // cosine of the image with the prompt
}

// PromptTemplate is the prompt zero-shot classification builds per label.
const PromptTemplate = "a photo of a %s"

// Classify returns, for an image file's bytes, the probability of each
// label: the softmax over logit_scale × cosine(image, "a photo of a
// {label}"), like the reference's match probability. Labels come back in the
// order given.
func Classify(ctx context.Context, enc *clip.Encoder, labels []string, image []byte) ([]Label, error) {
	if len(labels) == 0 {
		return nil, errors.New("classify: no labels")
	}
	prompts := make([]string, len(labels))
	for i, lb := range labels {
		prompts[i] = fmt.Sprintf(PromptTemplate, lb)
	}
	tv, err := enc.EmbedTexts(ctx, prompts)
	if err != nil {
		return nil, err
	}
	iv, err := enc.EmbedImage(ctx, image)
	if err != nil {
		return nil, err
	}
	img := append([]float32(nil), iv...)
	clip.Normalize(img)
	scale := float64(enc.Model.LogitScale())
	out := make([]Label, len(labels))
	logits := make([]float64, len(labels))
	maxL := math.Inf(-1)
	for i, t := range tv {
		u := append([]float32(nil), t...)
		clip.Normalize(u)
		var dot float64
		for j := range u {
			dot += float64(u[j]) * float64(img[j])
		}
		out[i] = Label{Label: labels[i], Score: float32(dot)}
		logits[i] = scale * dot
		maxL = math.Max(maxL, logits[i])
	}
	var z float64
	for i := range logits {
		logits[i] = math.Exp(logits[i] - maxL)
		z += logits[i]
	}
	for i := range out {
		out[i].Probability = logits[i] / z
	}
	return out, nil
}
