package hnsw

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// clipLike generates n unit vectors from a CLIP-like mixture: a shared mean
// direction, clustered centres (grouped in super-clusters) and anisotropic
// within-cluster spread plus isotropic noise. Deterministic in seed.
func clipLike(n, dim, clusters int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	model := rand.New(rand.NewPCG(12345, 99)) // same model for base and queries
	unit := func(r *rand.Rand) []float32 {
		v := make([]float32, dim)
		var s float64
		for i := range v {
			x := r.NormFloat64()
			v[i] = float32(x)
			s += x * x
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(s))
		}
		return v
	}
	mean := unit(model)
	supers := max(1, clusters/16)
	sup := make([][]float32, supers)
	for i := range sup {
		sup[i] = unit(model)
	}
	centres := make([][]float32, clusters)
	locals := make([][][]float32, clusters)
	for j := range centres {
		c := unit(model)
		s := sup[j%supers]
		for i := range c {
			c[i] = 0.7*s[i] + 0.5*c[i]
		}
		centres[j] = c
		locals[j] = make([][]float32, 8)
		for l := range locals[j] {
			locals[j][l] = unit(model)
		}
	}
	noise := float32(0.3 / math.Sqrt(float64(dim)))
	out := make([][]float32, n)
	for k := range out {
		j := int(math.Min(float64(clusters-1), math.Abs(rng.NormFloat64())*float64(clusters)/2.5))
		v := make([]float32, dim)
		for i := range v {
			v[i] = 0.6*mean[i] + 0.5*centres[j][i] + noise*float32(rng.NormFloat64())
		}
		for l, dir := range locals[j] {
			z := float32(rng.NormFloat64()) * 0.35 / float32(math.Sqrt(float64(l+1)))
			for i := range v {
				v[i] += z * dir[i]
			}
		}
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(s))
		}
		out[k] = v
	}
	return out
}

// bruteForce returns the ids (indexes into base, filtered by allow) of the
// exact top k by inner product.
func bruteForce(base [][]float32, q []float32, k int, allow func(int) bool) []uint64 {
	type p struct {
		s  float32
		id int
	}
	var all []p
	for i, v := range base {
		if allow != nil && !allow(i) {
			continue
		}
		all = append(all, p{dot(q, v), i})
	}
	slices.SortFunc(all, func(a, b p) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return a.id - b.id
	})
	out := make([]uint64, 0, k)
	for _, x := range all[:min(k, len(all))] {
		out = append(out, uint64(x.id))
	}
	return out
}

func recallOf(got []Result, want []uint64) float64 {
	if len(want) == 0 {
		return 1
	}
	hit := 0
	for _, r := range got {
		if slices.Contains(want, r.ID) {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

func ids(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i)
	}
	return out
}

// groundTruth returns bruteForce for every query.
func groundTruth(base, queries [][]float32, k int, allow func(int) bool) [][]uint64 {
	out := make([][]uint64, len(queries))
	for i, q := range queries {
		out[i] = bruteForce(base, q, k, allow)
	}
	return out
}

func byScore(a, b Result) int {
	if a.Score > b.Score {
		return -1
	} else if a.Score < b.Score {
		return 1
	}
	return 0
}

// measureRecall returns mean recall@k over queries against gt.
func measureRecall(t testing.TB, g *Graph, queries [][]float32, gt [][]uint64, k int, opt *SearchOptions) float64 {
	t.Helper()
	var sum float64
	for i, q := range queries {
		got, err := g.Search(q, k, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(got, byScore) {
			t.Fatalf("results not sorted by score: %v", got)
		}
		if len(got) > k {
			t.Fatalf("got %d results, want <= %d", len(got), k)
		}
		sum += recallOf(got, gt[i])
	}
	return sum / float64(len(queries))
}
