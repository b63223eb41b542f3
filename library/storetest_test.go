package library

import (
	"context"
	"testing"

	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/storetest"
)

// TestEmbeddedStoreConformance runs the store conformance suite, which the
// Weaviate store passes too, on the embedded store (catalog and HNSW index)
// as OpenEmbedded opens it, lock and dimension check included.
func TestEmbeddedStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dim int) store.Store {
		s, err := OpenEmbedded(context.Background(), t.TempDir(), EmbeddedOptions{Dim: dim})
		if err != nil {
			t.Fatal(err)
		}
		return s // the suite closes it
	})
}
