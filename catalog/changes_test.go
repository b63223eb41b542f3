package catalog

import (
	"context"
	"fmt"
	"testing"
)

// TestChangesBetween checks the ids reported for windows of change numbers
// over a history of adds, a path move that orphans an image, and removals.
func TestChangesBetween(t *testing.T) {
	ctx := context.Background()
	c, _ := openTemp(t)
	seqs := []int64{0}
	step := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Seq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	_, err := c.Apply(ctx, Batch{Images: []Image{img("a", 1, 1, "/a"), img("b", 1, 1, "/b")}}) // seq 1: ids 1, 2
	step(err)
	_, err = c.Apply(ctx, Batch{Images: []Image{img("c", 1, 1, "/c"), img("d", 1, 1, "/d")}}) // seq 2: ids 3, 4
	step(err)
	_, err = c.Apply(ctx, Batch{Images: []Image{img("e", 1, 1, "/a")}}) // seq 3: id 5 takes /a, 1 orphaned
	step(err)
	_, err = c.RemovePaths(ctx, []string{"/c"}) // seq 4: 3 deleted
	step(err)
	step(c.RemoveImage(ctx, 4)) // seq 5: 4 deleted
	tests := []struct {
		after, upTo    int64
		added, deleted string
	}{
		{0, 5, "[2 5]", "[1 3 4]"},
		{0, 1, "[2]", "[]"}, // 1 is added at 1 but gone: only its deletion (at 3) tells
		{1, 2, "[]", "[]"},  // 3 and 4 are gone now
		{2, 3, "[5]", "[1]"},
		{3, 4, "[]", "[3]"},
		{4, 5, "[]", "[4]"},
		{5, 5, "[]", "[]"},
		{5, 9, "[]", "[]"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d", tt.after, tt.upTo), func(t *testing.T) {
			added, deleted, err := c.ChangesBetween(ctx, tt.after, tt.upTo)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(added); got != tt.added {
				t.Errorf("added %s, want %s", got, tt.added)
			}
			if got := fmt.Sprint(deleted); got != tt.deleted {
				t.Errorf("deleted %s, want %s", got, tt.deleted)
			}
		})
	}
	if fmt.Sprint(seqs) != "[0 1 2 3 4 5]" {
		t.Fatalf("change numbers %v", seqs)
	}
}
