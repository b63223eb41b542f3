package storebench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sightsearch/sight/index/texmex"
	"github.com/sightsearch/sight/library"
	"github.com/sightsearch/sight/store/storebench"
	"github.com/sightsearch/sight/vec"
)

// dataset returns n random base vectors, q queries and their exact top-10.
func dataset(n, q, dim int) (base, queries *texmex.Matrix[float32], truth *texmex.Matrix[int32]) {
	r := rand.New(rand.NewPCG(1, 2))
	mk := func(rows int) *texmex.Matrix[float32] {
		m := &texmex.Matrix[float32]{Dim: dim, Rows: rows, Data: make([]float32, rows*dim)}
		for i := range m.Data {
			m.Data[i] = float32(r.NormFloat64())
		}
		for i := 0; i < rows; i++ {
			vec.Normalize(m.Row(i))
		}
		return m
	}
	base, queries = mk(n), mk(q)
	truth = &texmex.Matrix[int32]{Dim: 10, Rows: q, Data: make([]int32, q*10)}
	for i := 0; i < q; i++ {
		ids := make([]int32, n)
		for j := range ids {
			ids[j] = int32(j)
		}
		score := func(j int32) float32 { return vec.Dot(queries.Row(i), base.Row(int(j))) }
		slices.SortFunc(ids, func(a, b int32) int {
			sa, sb := score(a), score(b)
			switch {
			case sa > sb:
				return -1
			case sa < sb:
				return 1
			}
			return 0
		})
		copy(truth.Row(i), ids[:10])
	}
	return base, queries, truth
}

func TestRunEmbedded(t *testing.T) {
	ctx := context.Background()
	base, queries, truth := dataset(2000, 50, 16)
	dir := t.TempDir()
	st, err := library.OpenEmbedded(ctx, dir, library.EmbeddedOptions{Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := storebench.Run(ctx, st, storebench.Config{Base: base, Queries: queries, Truth: truth, Batch: 300}, &out); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// Again on the stored vectors, found by their hashes.
	st, err = library.OpenEmbedded(ctx, dir, library.EmbeddedOptions{Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := storebench.Run(ctx, st, storebench.Config{Base: base, Queries: queries, Truth: truth, Reuse: true}, &out); err != nil {
		t.Fatal(err)
	}
	var phases []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		phases = append(phases, row["phase"].(string))
		if row["phase"] == "search" {
			if r := row["recall@10"].(float64); r < 0.95 {
				t.Errorf("recall@10 = %v on 2000 vectors, want >= 0.95", r)
			}
			if row["p50_ms"].(float64) > row["p99_ms"].(float64) {
				t.Errorf("p50 > p99: %v", row)
			}
		}
		if row["phase"] == "import" && row["vectors"].(float64) != 2000 {
			t.Errorf("import row %v", row)
		}
	}
	if !slices.Equal(phases, []string{"import", "search", "search"}) {
		t.Fatalf("phases = %v", phases)
	}
}
