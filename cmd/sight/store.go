package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/sightsearch/sight/store"
)

// storeFlags choose where a library's images are kept: by default the
// library directory (--db); with --store, a Weaviate cluster.
type storeFlags struct {
	url         string
	collection  string
	quantizer   string
	shards      int
	replication int
	indexWait   time.Duration // how long a sync waits for indexing (0: the store's default)
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "store", "", "keep the library in a Weaviate cluster instead of the --db directory: weaviate://host:port[,host:port...], or weaviate+https://host[:port][,...] (API key from $WEAVIATE_API_KEY)")
	fs.StringVar(&f.collection, "collection", "SightImage", "with --store: the Weaviate collection (class) of the library")
	fs.StringVar(&f.quantizer, "quantizer", "", "with --store, for a new collection: vector compression of Weaviate's HNSW index: pq, sq, bq, rq or none (default none)")
	fs.IntVar(&f.shards, "shards", 0, "with --store, for a new collection: shards to spread it over (default: Weaviate's, one per node)")
	fs.IntVar(&f.replication, "replication", 0, "with --store, for a new collection: copies of each shard (default 1; 2 or more keeps it answering when a node dies)")
}

// remote reports whether the library is in a remote store.
func (f *storeFlags) remote() bool { return f.url != "" }

// open connects to the remote store.
func (f *storeFlags) open(ctx context.Context, e *env) (store.Store, error) {
	switch {
	case strings.HasPrefix(f.url, "weaviate://"), strings.HasPrefix(f.url, "weaviate+https://"):
		return openWeaviate(ctx, e, f.url, f.collection, f.quantizer, f.shards, f.replication, f.indexWait)
	}
	return nil, usageError{fmt.Sprintf("--store %q: want weaviate://host:port[,host:port...] or weaviate+https://host[:port][,...]", f.url)}
}
