package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
)

// catStore is a reference store for the suite itself: the catalog with an
// exhaustive search.
type catStore struct{ *catalog.Catalog }

func (c catStore) Meta(_ context.Context, key string) (string, bool, error) {
	return c.Catalog.Meta(key)
}
func (c catStore) SetMeta(_ context.Context, key, value string) error {
	return c.Catalog.SetMeta(key, value)
}

func (c catStore) Search(ctx context.Context, q []float32, k int, f catalog.Filter, exclude []int64) ([]store.Found, error) {
	vecs := map[int64][]float32{}
	err := c.EachVector(ctx, func(id int64, v []float32) error {
		if slices.Contains(exclude, id) {
			return nil
		}
		im, err := c.Image(ctx, id)
		if err == nil && f.Matches(im) {
			vecs[id] = slices.Clone(v)
		}
		return err
	})
	return BruteForce(q, k, vecs, nil), err
}

// TestCatalogReference runs the suite on the catalog, the reference of
// every rule it checks.
func TestCatalogReference(t *testing.T) {
	Run(t, func(t *testing.T, dim int) store.Store {
		c, err := catalog.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return catStore{c}
	})
}
