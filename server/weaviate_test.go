//go:build !386 && !arm && !mips && !mipsle

package server

import (
	"context"
	"testing"
	"time"

	"github.com/sightsearch/sight/internal/weaviatetest"
	"github.com/sightsearch/sight/library"
	"github.com/sightsearch/sight/store/weaviate"
)

// TestAPIWeaviate runs the API test on a library kept in a 3-node Weaviate
// cluster, with uploads in a folder of their own.
func TestAPIWeaviate(t *testing.T) {
	c := weaviatetest.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := weaviate.Open(ctx, c.URL(), weaviate.Options{Collection: "API", Replication: 2})
	if err != nil {
		t.Fatal(err)
	}
	uploads := t.TempDir()
	lib, err := library.OpenStore(ctx, st, library.Options{Model: tinyModel, UploadsDir: uploads})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	testAPI(t, lib, indexFixtures(t, lib), uploads)
}
