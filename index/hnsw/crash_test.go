package hnsw

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashDim = 16

// crashVec is the deterministic vector of id in the crash tests.
func crashVec(id uint64) []float32 {
	r := rand.New(rand.NewPCG(id, 3))
	v := make([]float32, crashDim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	v[0] += 0.5
	return v
}

// crashOp is one write of the crash tests' mix: add the ids (one, or a
// batch of 5 inserted concurrently), or, when add is nil, delete del.
type crashOp struct {
	add []uint64
	del uint64
}

// crashOps yields the writes of run seed, with ids from base: an add (6 in
// 10), a batch of 5 adds (2 in 10) or the delete of one of the ids this run
// added and did not delete yet (2 in 10), for steps steps.
func crashOps(seed, base uint64, steps int) iter.Seq[crashOp] {
	return func(yield func(crashOp) bool) {
		r := rand.New(rand.NewPCG(seed, 1))
		var mine []uint64
		for j := range uint64(steps) {
			id := base + j*10
			var op crashOp
			switch n := r.IntN(10); {
			case n < 6:
				op.add = []uint64{id}
			case n < 8:
				op.add = []uint64{id, id + 1, id + 2, id + 3, id + 4}
			case len(mine) == 0:
				continue
			default:
				k := r.IntN(len(mine))
				op.del = mine[k]
				mine = append(mine[:k], mine[k+1:]...)
			}
			mine = append(mine, op.add...)
			if !yield(op) {
				return
			}
		}
	}
}

// TestCrashChild is the child process of TestCrash: it writes to the index
// and reports every operation before ("? id") and after it is acknowledged
// ("A id" for an add, "D id" for a delete), until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("HNSW_CRASH_DIR")
	if dir == "" {
		t.Skip("child of TestCrash")
	}
	seed, _ := strconv.ParseUint(os.Getenv("HNSW_CRASH_SEED"), 10, 64)
	g, err := Open(dir, Options{Dim: crashDim, M: 12, EfConstruction: 60, SnapshotBytes: 32 << 10})
	if err != nil {
		fmt.Printf("E %v\n", err)
		os.Exit(3)
	}
	fmt.Printf("R\n")
	for op := range crashOps(seed, seed*1_000_000, 100000) {
		if op.add == nil {
			fmt.Printf("? %d\n", op.del)
			if err := g.Delete(op.del); err != nil {
				fmt.Printf("E %v\n", err)
				os.Exit(3)
			}
			fmt.Printf("D %d\n", op.del)
			continue
		}
		vs := make([][]float32, len(op.add))
		for k, id := range op.add {
			vs[k] = crashVec(id)
			fmt.Printf("? %d\n", id)
		}
		if err := g.AddBatch(context.Background(), op.add, vs); err != nil {
			fmt.Printf("E %v\n", err)
			os.Exit(3)
		}
		for _, id := range op.add {
			fmt.Printf("A %d\n", id)
		}
	}
	g.Close()
}

func TestCrash(t *testing.T) {
	if os.Getenv("HNSW_CRASH_DIR") != "" {
		t.Skip("in child")
	}
	kills := 20
	if testing.Short() {
		kills = 6
	}
	dir := t.TempDir()
	present := map[uint64]bool{} // acknowledged state
	rng := rand.New(rand.NewPCG(42, 42))
	for iter := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "HNSW_CRASH_DIR="+dir, fmt.Sprintf("HNSW_CRASH_SEED=%d", iter+1))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		uncertain := map[uint64]bool{}
		var mu sync.Mutex
		ready := make(chan struct{})
		done := make(chan error, 1)
		acks := 0
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				f := strings.Fields(line)
				if len(f) == 0 {
					continue
				}
				mu.Lock()
				switch f[0] {
				case "R":
					close(ready)
				case "E":
					done <- errors.New(line)
				case "?", "A", "D":
					id, _ := strconv.ParseUint(f[1], 10, 64)
					switch f[0] {
					case "?":
						uncertain[id] = true
					case "A":
						delete(uncertain, id)
						present[id] = true
						acks++
					case "D":
						delete(uncertain, id)
						present[id] = false
						acks++
					}
				}
				mu.Unlock()
			}
			done <- nil
		}()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("child %d exited before ready: %v", iter, err)
		case <-time.After(30 * time.Second):
			t.Fatal("child not ready after 30s")
		}
		time.Sleep(time.Duration(5+rng.IntN(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := <-done; err != nil {
			t.Fatalf("child %d: %v", iter, err)
		}
		cmd.Wait()

		g, err := Open(dir, Options{Dim: crashDim})
		if err != nil {
			t.Fatalf("reopen after kill %d: %v", iter, err)
		}
		if err := g.check(); err != nil {
			t.Fatalf("kill %d: inconsistent graph: %v", iter, err)
		}
		live := 0
		for id, want := range present {
			if uncertain[id] {
				continue
			}
			if g.Contains(id) != want {
				t.Fatalf("kill %d: id %d present=%v, acknowledged state %v", iter, id, !want, want)
			}
			if want {
				live++
				if id%13 == 0 {
					res, err := g.Search(crashVec(id), 3, &SearchOptions{Ef: 200})
					if err != nil || !slices.ContainsFunc(res, func(r Result) bool { return r.ID == id }) {
						v, _ := g.Vector(id)
						q, _ := g.prepare(crashVec(id))
						ex, _ := g.Search(crashVec(id), 1, &SearchOptions{Filter: func(uint64) bool { return true }, ExactBelow: 2})
						g.idMu.Lock()
						slot, _ := g.ids.get(g.ext, id)
						g.idMu.Unlock()
						nb := g.rec(slot, 0)[1]
						t.Logf("neighbour slot %d id %d dot %v; in-links: %v", nb, g.ext[nb], dot(g.fvec(slot), g.fvec(nb)), g.inLinks(slot))
						t.Fatalf("kill %d: id %d (slot %d level %d links %v, count %d, entry %d maxL %d) not found by its own vector: %v %v; stored dot %v; exact %v",
							iter, id, slot, g.levels[slot], g.rec(slot, 0), g.count.Load(), g.entry, g.maxLevel, res, err, dot(v, q), ex)
					}
				}
			}
		}
		for id := range uncertain {
			present[id] = g.Contains(id) // adopt whatever survived
		}
		t.Logf("kill %d: %d acks this run, %d live acknowledged ids verified, %d in flight", iter, acks, live, len(uncertain))
		if iter%3 == 2 {
			err = g.Close() // sometimes a clean close with snapshot
		} else {
			g.abandon()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// check verifies the structural invariants of the graph.
func (g *Graph) check() error {
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	g.mu.RLock()
	defer g.mu.RUnlock()
	g.idMu.Lock()
	defer g.idMu.Unlock()
	n := g.count.Load()
	var ndel int64
	for i := range n {
		if !g.isLive(i) {
			ndel++
			continue
		}
		if j, ok := g.ids.get(g.ext, g.ext[i]); !ok || j != i {
			return fmt.Errorf("node %d (id %d) not in the id map", i, g.ext[i])
		}
		for l := 0; l <= int(g.levels[i]); l++ {
			r := g.rec(i, l)
			mmax := g.m
			if l == 0 {
				mmax = g.m0
			}
			if int(r[0]) > mmax {
				return fmt.Errorf("node %d level %d: %d links", i, l, r[0])
			}
			for _, x := range r[1 : 1+r[0]] {
				if x >= n || int(g.levels[x]) < l || x == i {
					return fmt.Errorf("node %d level %d: bad link %d", i, l, x)
				}
			}
		}
	}
	if ndel != g.ndel.Load() || int(n)-int(ndel) != g.ids.Len() {
		return fmt.Errorf("count %d, tombstones %d (recorded %d), ids %d", n, ndel, g.ndel.Load(), g.ids.Len())
	}
	if n > 0 && (g.entry >= n || int(g.levels[g.entry]) != g.maxLevel) {
		return fmt.Errorf("entry %d level mismatch (max level %d)", g.entry, g.maxLevel)
	}
	if len(g.pending) != 0 {
		return fmt.Errorf("%d ids still pending", len(g.pending))
	}
	return nil
}

func (g *Graph) inLinks(x uint32) []uint32 {
	var out []uint32
	for i := range g.count.Load() {
		for l := 0; l <= int(g.levels[i]); l++ {
			r := g.rec(i, l)
			for _, y := range r[1 : 1+r[0]] {
				if y == x {
					out = append(out, i, uint32(l))
				}
			}
		}
	}
	return out
}
