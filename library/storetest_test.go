package library

import (
	"testing"

	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/storetest"
)

// TestEmbeddedStoreConformance runs the store conformance suite, which the
// Weaviate store passes too, on the embedded store (catalog and HNSW index).
func TestEmbeddedStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dim int) store.Store {
		return newLocalStore(t, dim) // the suite closes it
	})
}
