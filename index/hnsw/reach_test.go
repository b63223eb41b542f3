package hnsw

import (
	"context"
	"slices"
	"testing"
)

// TestEveryNodeReachable mixes adds, batch adds (inserted concurrently)
// and deletes as TestCrash's child does (crashOps), then searches for every live
// vector: each must be found by itself. Two ways left nodes unreachable
// (a few in 30,000 here): a node inserted when every node its search
// reached was deleted got no links at all, and a node whose search started
// at a concurrently inserted node with no links yet got that node alone.
func TestEveryNodeReachable(t *testing.T) {
	for trial := range uint64(2) {
		g, err := New(Options{Dim: crashDim, M: 12, EfConstruction: 60})
		if err != nil {
			t.Fatal(err)
		}
		live := map[uint64]bool{}
		for seed := uint64(1); seed <= 20; seed++ {
			steps := 100 + int((seed*7919+trial*104729)%900)
			for op := range crashOps(seed+trial*100, trial*100_000_000+seed*1_000_000, steps) {
				if op.add == nil {
					if err := g.Delete(op.del); err != nil {
						t.Fatal(err)
					}
					delete(live, op.del)
					continue
				}
				vs := make([][]float32, len(op.add))
				for k, id := range op.add {
					vs[k] = crashVec(id)
					live[id] = true
				}
				if err := g.AddBatch(context.Background(), op.add, vs); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := g.check(); err != nil {
			t.Fatal(err)
		}
		var missed []uint64
		for id := range live {
			res, err := g.Search(crashVec(id), 3, &SearchOptions{Ef: 200})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res, func(r Result) bool { return r.ID == id }) {
				missed = append(missed, id)
			}
		}
		if len(missed) > 0 {
			t.Errorf("trial %d: %d of %d live vectors not found by themselves: %v", trial, len(missed), len(live), missed)
		}
	}
}
