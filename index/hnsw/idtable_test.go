package hnsw

import (
	"math/rand/v2"
	"testing"
)

// TestIDTable checks idTable against a Go map through random puts and
// deletes, with ids chosen to collide (small range, sequential runs).
func TestIDTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		space uint64
	}{{"dense", 3000}, {"sparse", 1 << 62}} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tc.space)))
			var tab idTable
			var ext []uint64
			ref := map[uint64]uint32{}
			for step := range 60000 {
				id := r.Uint64N(tc.space)
				if step%7 == 0 {
					id = uint64(step) // sequential runs
				}
				if slot, ok := ref[id]; ok {
					if r.IntN(2) == 0 {
						if !tab.del(ext, id) {
							t.Fatalf("step %d: del %d: not found", step, id)
						}
						delete(ref, id)
					} else if got, ok := tab.get(ext, id); !ok || got != slot {
						t.Fatalf("step %d: get %d = %d,%v want %d", step, id, got, ok, slot)
					}
					continue
				}
				if _, ok := tab.get(ext, id); ok {
					t.Fatalf("step %d: absent id %d found", step, id)
				}
				if tab.del(ext, id) {
					t.Fatalf("step %d: deleted absent id %d", step, id)
				}
				ext = append(ext, id)
				slot := uint32(len(ext) - 1)
				tab.put(ext, id, slot)
				ref[id] = slot
				if tab.Len() != len(ref) {
					t.Fatalf("step %d: Len %d want %d", step, tab.Len(), len(ref))
				}
			}
			for id, slot := range ref {
				if got, ok := tab.get(ext, id); !ok || got != slot {
					t.Fatalf("final get %d = %d,%v want %d", id, got, ok, slot)
				}
			}
			if 4*tab.Len() > 3*len(tab.tab) {
				t.Fatalf("load %d/%d above 3/4", tab.Len(), len(tab.tab))
			}
			tab.reset()
			if _, ok := tab.get(ext, ext[0]); ok || tab.Len() != 0 {
				t.Fatal("reset table not empty")
			}
		})
	}
}

// TestMakeHuge checks that the huge-page hint leaves a usable, zeroed array
// of the requested length, below and above the size that triggers it.
func TestMakeHuge(t *testing.T) {
	for _, n := range []int{0, 1, hugeMin/4 - 1, hugeMin/4 + 1000} {
		s := makeHuge[float32](n)
		if len(s) != n {
			t.Fatalf("len %d, want %d", len(s), n)
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("n=%d: element %d = %v", n, i, s[i])
			}
			s[i] = float32(i)
		}
	}
	g := growTo([]uint32{1, 2, 3}, hugeMin)
	if len(g) != hugeMin || g[2] != 3 || g[3] != 0 {
		t.Fatalf("growTo: len %d, %v", len(g), g[:4])
	}
}
