//go:build !386 && !arm && !mips && !mipsle

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/weaviate"
)

// apiKeyEnv names the environment variable that holds the Weaviate API
// key: a key on the command line would show in every process listing.
const apiKeyEnv = "WEAVIATE_API_KEY"

func openWeaviate(ctx context.Context, e *env, url, collection, quantizer string, shards, replication int, indexWait time.Duration) (store.Store, error) {
	key := os.Getenv(apiKeyEnv)
	s, err := weaviate.Open(ctx, url, weaviate.Options{Collection: collection, Quantizer: quantizer,
		Shards: shards, Replication: replication, IndexWait: indexWait, APIKey: key, Logger: e.log})
	if errors.Is(err, weaviate.ErrUnauthorized) {
		if key == "" {
			return nil, fmt.Errorf("%w (set $%s to the cluster's API key)", err, apiKeyEnv)
		}
		return nil, fmt.Errorf("%w (the key is $%s)", err, apiKeyEnv)
	}
	return s, err
}
