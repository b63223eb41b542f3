// Package store defines where a Sight library keeps its images: their
// metadata, paths and CLIP vectors, and the vector search over them.
//
// The library (package library) does the CLIP work itself (decoding,
// embedding, composing queries) and hands ready vectors to a Store. Two
// stores exist: the embedded one, a SQLite catalog with an HNSW index in a
// local directory (the default, see package library), and a Weaviate
// cluster (package store/weaviate) for libraries that outgrow one machine.
// Both pass the same conformance suite (package store/storetest).
//
// # Identity
//
// An image is one distinct content, identified by the SHA-256 of its
// file's bytes, and has a positive int64 id that the store assigns. Writing
// the same content twice, from one process or from several, leaves one
// image: [Store.Apply] is idempotent, so a batch may be applied again after
// a crash or a redelivery.
package store

import (
	"context"
	"errors"

	"github.com/sightsearch/sight/catalog"
)

// ErrNotFound is returned (wrapped) for an image, path or meta key the store
// does not hold. It is catalog.ErrNotFound, so that errors.Is works the same
// on every store.
var ErrNotFound = catalog.ErrNotFound

// ErrReadOnly is returned by the writes of a store opened read-only.
var ErrReadOnly = errors.New("store: read-only")

// Found is one vector search result: an image id and its cosine similarity
// to the query.
type Found struct {
	ID    int64
	Score float32
	// Image is the image's metadata and paths, as Store.Image returns
	// them, when the store fetched them with the search (a remote store
	// saves a round trip per hit); nil otherwise.
	Image *catalog.Image
}

// Stats counts what a store holds.
type Stats = catalog.Stats

// Syncer is implemented by stores whose writes become durable or
// searchable some time after Apply returns (an index made durable in
// batches, a remote index that inserts vectors asynchronously). Sync waits
// until every write applied so far is; a library calls it at the end of an
// index run, before it reports the run done.
type Syncer interface {
	Sync(ctx context.Context) error
}

// Store keeps images, their paths and vectors, and searches the vectors.
// Implementations are safe for concurrent use.
type Store interface {
	// Apply commits a batch: new images (deduplicated by hash: the paths
	// of a known content are attached to the stored image), paths moved
	// to known images, and skipped files. A path names one image at a
	// time; an image left without a path is removed (Result.Orphaned).
	// Applying the same batch again changes nothing.
	Apply(ctx context.Context, b catalog.Batch) (catalog.Result, error)

	// Image returns an image's metadata and paths (Vector and Thumbnail
	// are left empty: see Vector and Thumbnail).
	Image(ctx context.Context, id int64) (catalog.Image, error)
	// Vector returns an image's unit vector.
	Vector(ctx context.Context, id int64) ([]float32, error)
	// Thumbnail returns an image's thumbnail (a small JPEG).
	Thumbnail(ctx context.Context, id int64) ([]byte, error)
	// LookupPath returns what the store knows of a path.
	LookupPath(ctx context.Context, path string) (catalog.PathEntry, error)
	// LookupHash returns the id of the image with this content hash.
	LookupHash(ctx context.Context, hash []byte) (int64, error)
	// LookupSkipped returns the record of a file skipped before; ok is
	// false when there is none (a store may keep no such records).
	LookupSkipped(ctx context.Context, path string) (s catalog.Skip, ok bool, err error)
	// EachPath calls fn for every path the store holds.
	EachPath(ctx context.Context, fn func(catalog.PathEntry) error) error
	// EachVector calls fn for every image's vector, in no set order. The
	// vector is only valid during the call.
	EachVector(ctx context.Context, fn func(id int64, v []float32) error) error

	// Search returns up to k images most similar to the unit vector q,
	// best first, among those that match f and are not in exclude.
	Search(ctx context.Context, q []float32, k int, f catalog.Filter, exclude []int64) ([]Found, error)

	// RemoveImage removes an image with its paths and vector.
	RemoveImage(ctx context.Context, id int64) error
	// RemovePaths removes paths; it returns the images removed because
	// they had no path left.
	RemovePaths(ctx context.Context, paths []string) ([]int64, error)

	// Meta and SetMeta keep the library's settings (model, dimension).
	Meta(ctx context.Context, key string) (value string, ok bool, err error)
	SetMeta(ctx context.Context, key, value string) error

	// Stats counts the store's images, vectors and paths.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the store's resources.
	Close() error
}
