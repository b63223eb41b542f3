//go:build 386 || arm || mips || mipsle

package main

import (
	"context"
	"errors"
	"time"

	"github.com/sightsearch/sight/store"
)

// openWeaviate fails on 32-bit platforms: Weaviate's Go client does not
// build there.
func openWeaviate(context.Context, *env, string, string, string, int, int, time.Duration) (store.Store, error) {
	return nil, errors.New("--store weaviate://: this sight was built for a 32-bit platform, where Weaviate's client does not build; use a 64-bit build")
}
