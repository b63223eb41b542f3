//go:build !386 && !arm && !mips && !mipsle

package main

import (
	"context"
	"time"

	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/weaviate"
)

func openWeaviate(ctx context.Context, e *env, url, collection, quantizer string, shards, replication int, indexWait time.Duration) (store.Store, error) {
	return weaviate.Open(ctx, url, weaviate.Options{Collection: collection, Quantizer: quantizer,
		Shards: shards, Replication: replication, IndexWait: indexWait, Logger: e.log})
}
