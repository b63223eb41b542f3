package hnsw

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEveryNodeReachable mixes adds, batch adds (inserted concurrently)
// and deletes as TestCrash's child does, then searches for every live
// vector: each must be found by itself. Two ways left nodes unreachable
// (about 1 in 5,000 here): a node inserted when every node its search
// reached was deleted got no links at all, and a node whose search started
// at a concurrently inserted node with no links yet got that node alone.
func TestEveryNodeReachable(t *testing.T) {
	for trial := range uint64(2) {
		g, err := New(Options{Dim: crashDim, M: 12, EfConstruction: 60})
		if err != nil {
			t.Fatal(err)
		}
		var live []uint64
		for seed := uint64(1); seed <= 20; seed++ {
			r := rand.New(rand.NewPCG(seed+trial*100, 1))
			steps := 100 + r.IntN(900)
			for j := range uint64(steps) {
				base := trial*100_000_000 + seed*1_000_000 + j*10
				switch op := r.IntN(10); {
				case op < 6:
					if err := g.Add(base, crashVec(base)); err != nil {
						t.Fatal(err)
					}
					live = append(live, base)
				case op < 8:
					var ids []uint64
					var vs [][]float32
					for k := range uint64(5) {
						ids = append(ids, base+k)
						vs = append(vs, crashVec(base+k))
					}
					if err := g.AddBatch(context.Background(), ids, vs); err != nil {
						t.Fatal(err)
					}
					live = append(live, ids...)
				case len(live) > 0:
					k := r.IntN(len(live))
					if err := g.Delete(live[k]); err != nil {
						t.Fatal(err)
					}
					live = append(live[:k], live[k+1:]...)
				}
			}
		}
		if err := g.check(); err != nil {
			t.Fatal(err)
		}
		var missed []uint64
		for _, id := range live {
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
