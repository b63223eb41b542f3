package main

import (
	"context"
	"time"

	"github.com/sightsearch/sight/index/texmex"
	"github.com/sightsearch/sight/library"
	"github.com/sightsearch/sight/store"
	"github.com/sightsearch/sight/store/storebench"
)

// runBenchStore measures a store on a vecgen set: the embedded one of a
// --db directory, or a Weaviate cluster with --store.
func runBenchStore(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench store", "--base base.fvecs --query query.fvecs --gt groundtruth.ivecs (--db DIR | --store weaviate://...) [--reuse]")
	var sf storeFlags
	sf.register(fs)
	db := fs.String("db", "", "measure the embedded store of this (new or benchmark) directory")
	base := fs.String("base", "", "base vectors (.fvecs)")
	query := fs.String("query", "", "query vectors (.fvecs)")
	gt := fs.String("gt", "", "exact neighbours of the queries (.ivecs)")
	reuse := fs.Bool("reuse", false, "the store already holds the base vectors from an earlier run: measure searches only")
	batch := fs.Int("batch", 500, "vectors per write")
	m := fs.Int("m", 0, "embedded store: HNSW M (0: default)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *base == "" || *query == "" || *gt == "" || (*db == "") == (sf.url == "") {
		return usageError{"give --base, --query, --gt and one of --db DIR or --store URL"}
	}
	bm, err := texmex.ReadFvecs(ctx, *base)
	if err != nil {
		return err
	}
	qm, err := texmex.ReadFvecs(ctx, *query)
	if err != nil {
		return err
	}
	tm, err := texmex.ReadIvecs(ctx, *gt)
	if err != nil {
		return err
	}
	var st store.Store
	if *db != "" {
		st, err = library.OpenEmbedded(ctx, *db, library.EmbeddedOptions{Dim: bm.Dim, M: *m, Logger: e.log})
	} else {
		sf.indexWait = time.Hour // measure searches on a fully indexed collection
		st, err = sf.open(ctx, e)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return storebench.Run(ctx, st, storebench.Config{Base: bm, Queries: qm, Truth: tm, Reuse: *reuse, Batch: *batch}, e.stdout)
}
