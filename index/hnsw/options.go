package hnsw

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// Sentinel errors. Every error returned by this package that falls in one of
// these classes wraps the matching sentinel, so callers can use errors.Is.
var (
	// ErrDim reports a vector whose length differs from Options.Dim.
	ErrDim = errors.New("hnsw: wrong vector dimension")
	// ErrNonFinite reports a vector containing NaN or ±Inf.
	ErrNonFinite = errors.New("hnsw: vector contains NaN or Inf")
	// ErrZeroVector reports a vector of zero norm, which has no direction.
	ErrZeroVector = errors.New("hnsw: zero vector")
	// ErrDuplicate reports an Add of an id that is already present.
	ErrDuplicate = errors.New("hnsw: duplicate id")
	// ErrNotFound reports a Delete of an id that is not present.
	ErrNotFound = errors.New("hnsw: id not found")
	// ErrOptions reports invalid options, or options that do not match an
	// existing index directory.
	ErrOptions = errors.New("hnsw: invalid options")
	// ErrCorrupt reports an index file that failed a checksum or
	// consistency check. The message says how to rebuild.
	ErrCorrupt = errors.New("hnsw: index is corrupt")
	// ErrClosed reports use of a Graph after Close.
	ErrClosed = errors.New("hnsw: graph is closed")
	// ErrNotPersistent reports a persistence call on an in-memory Graph.
	ErrNotPersistent = errors.New("hnsw: graph is not persistent")
	// ErrWAL reports a write-ahead-log failure; the operation was not
	// applied and is not durable.
	ErrWAL = errors.New("hnsw: write-ahead log failure")
)

// rebuildHint is appended to corruption errors.
const rebuildHint = "delete the index directory or run `sight reindex` to rebuild it"

func corruptf(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s (%s)", ErrCorrupt, path, fmt.Sprintf(format, args...), rebuildHint)
}

// Quant selects how vectors are represented for graph traversal.
type Quant uint8

const (
	// QuantNone traverses the graph with float32 dot products.
	QuantNone Quant = iota
	// QuantInt8 traverses the graph with 8-bit scalar-quantised codes
	// (per-dimension min/max) and re-ranks the candidates with the float32
	// vectors.
	QuantInt8
)

// String returns "none" or "int8".
func (q Quant) String() string {
	switch q {
	case QuantNone:
		return "none"
	case QuantInt8:
		return "int8"
	}
	return fmt.Sprintf("Quant(%d)", uint8(q))
}

// Options configures a Graph. Zero values select the defaults noted below.
type Options struct {
	// Dim is the vector dimension (required for a new index; 0 adopts the
	// stored dimension when opening an existing one).
	Dim int
	// M is the number of neighbours per node on the upper levels; level 0
	// keeps 2*M. Default 16.
	M int
	// EfConstruction is the candidate-list size used while inserting.
	// Default 200.
	EfConstruction int
	// EfSearch is the default candidate-list size of Search. Default 64.
	EfSearch int
	// Quantization selects float32 or int8 traversal. Default QuantNone.
	Quantization Quant
	// TrainSize is the number of vectors the int8 quantiser is trained on;
	// it is trained when the index first holds that many vectors (or by an
	// AddBatch that reaches it). Default 10000.
	TrainSize int
	// Seed seeds the level generator. Default 1.
	Seed int64
	// SnapshotBytes is the write-ahead-log size after which a persistent
	// Graph writes a snapshot in the background. Default 256 MiB; negative
	// disables automatic snapshots.
	SnapshotBytes int64
	// Logger receives informational logs. Default: discarded.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.M == 0 {
		o.M = 16
	}
	if o.EfConstruction == 0 {
		o.EfConstruction = 200
	}
	if o.EfSearch == 0 {
		o.EfSearch = 64
	}
	if o.TrainSize == 0 {
		o.TrainSize = 10000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.SnapshotBytes == 0 {
		o.SnapshotBytes = 256 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Dim <= 0 || o.Dim > 1<<16:
		return o, fmt.Errorf("%w: Dim %d out of range [1, 65536]", ErrOptions, o.Dim)
	case o.M < 2 || o.M > 1024:
		return o, fmt.Errorf("%w: M %d out of range [2, 1024]", ErrOptions, o.M)
	case o.EfConstruction < 1 || o.EfSearch < 1:
		return o, fmt.Errorf("%w: EfConstruction %d and EfSearch %d must be positive", ErrOptions, o.EfConstruction, o.EfSearch)
	case o.Quantization > QuantInt8:
		return o, fmt.Errorf("%w: unknown Quantization %d", ErrOptions, o.Quantization)
	case o.TrainSize < 1:
		return o, fmt.Errorf("%w: TrainSize %d must be positive", ErrOptions, o.TrainSize)
	}
	return o, nil
}

// SearchOptions refines one Search call. A nil *SearchOptions uses the
// defaults.
type SearchOptions struct {
	// Ef is the candidate-list size (default Options.EfSearch; raised to k).
	Ef int
	// Filter, when set, admits only ids for which it returns true. It is
	// called concurrently and must be safe for that.
	Filter func(id uint64) bool
	// Allow, when set, admits only ids in the set. Filter and Allow may be
	// combined (both must admit an id).
	Allow *IDSet
	// ExactBelow is the estimated fraction of admitted vectors below which
	// a filtered search scans the admitted vectors exactly instead of
	// traversing the graph (a cost model may choose the scan above it too;
	// see Search). Default 0.03; a negative value always traverses, 1.1
	// always scans.
	ExactBelow float64
	// Rerank is the number of best int8 candidates re-scored with float32
	// (int8 mode only). Default max(3k, ef/2); at least k.
	Rerank int
	// UpperBeam is the width of the beam search on level 1, all of which
	// seeds level 0. Default ef/16, within 4..16; a negative value descends
	// level 1 greedily to one entry point, as hnswlib does.
	UpperBeam int
}

// Result is one search hit.
type Result struct {
	// ID is the external id given to Add.
	ID uint64
	// Score is the inner product with the query (cosine similarity, as
	// both are unit vectors).
	Score float32
}

// Stats describes the size of a Graph.
type Stats struct {
	Len          int   // live vectors
	Deleted      int   // tombstones awaiting Compact
	Dim, M       int   // dimension and M
	MaxLevel     int   // top level of the graph
	Quantization Quant // traversal representation
	Trained      bool  // int8 quantiser trained
	// Bytes per stored vector (live or tombstone) held in RAM by each part.
	GraphBytesPerVector float64 // neighbour lists and node metadata
	LinkBytesPerVector  float64 // the part of the graph a search traverses: lists, levels, tombstone bits
	CodeBytesPerVector  float64 // int8 codes (0 for QuantNone)
	FloatBytesPerVector float64 // float32 vectors kept in RAM
	// MappedFloatBytesPerVector is the float32 data read from the
	// memory-mapped snapshot instead of RAM (int8 mode only).
	MappedFloatBytesPerVector float64
	WALBytes                  int64 // current write-ahead-log size
}

// IDSet is an immutable set of external ids used as a search allow-list.
type IDSet struct {
	ids []uint64 // sorted, unique
}

// NewIDSet returns a set holding ids (duplicates are ignored; ids is not
// retained).
func NewIDSet(ids []uint64) *IDSet {
	s := slices.Clone(ids)
	slices.Sort(s)
	return &IDSet{ids: slices.Compact(s)}
}

// Len returns the number of ids in the set.
func (s *IDSet) Len() int { return len(s.ids) }

// Contains reports whether id is in the set.
func (s *IDSet) Contains(id uint64) bool {
	_, ok := slices.BinarySearch(s.ids, id)
	return ok
}
