package library

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/safetensors"
)

// TestClassifyMatchesReference compares zero-shot probabilities with the
// softmax of the reference CLIPModel's logits_per_image over the prompts
// "a photo of a cat" (text 0) and "a photo of a dog" (text 1).
func TestClassifyMatchesReference(t *testing.T) {
	ctx := context.Background()
	enc, err := clip.OpenEncoder(ctx, tinyModel, clip.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(filepath.Join("..", "testdata", "clip", "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var order []string
	if err := json.Unmarshal([]byte(f.Metadata()["image_order"]), &order); err != nil {
		t.Fatal(err)
	}
	logits, err := f.Float32("logits_per_image")
	if err != nil {
		t.Fatal(err)
	}
	texts := len(logits) / len(order)
	for _, name := range []string{"chelsea.png", "astronaut.jpg", "rocket.jpg"} {
		t.Run(name, func(t *testing.T) {
			row := slices.Index(order, name)
			if row < 0 {
				t.Fatalf("%s not in the reference", name)
			}
			cat, dog := float64(logits[row*texts]), float64(logits[row*texts+1])
			m := math.Max(cat, dog)
			pCat := math.Exp(cat-m) / (math.Exp(cat-m) + math.Exp(dog-m))
			got, err := Classify(ctx, enc, []string{"cat", "dog"}, fixtureImage(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Label != "cat" || got[1].Label != "dog" {
				t.Fatalf("labels %+v", got)
			}
			if math.Abs(got[0].Probability-pCat) > 1e-4 || math.Abs(got[1].Probability-(1-pCat)) > 1e-4 {
				t.Fatalf("p(cat) = %.6f, p(dog) = %.6f; reference %.6f, %.6f", got[0].Probability, got[1].Probability, pCat, 1-pCat)
			}
			// The cosine times the logit scale is the reference logit.
			if d := math.Abs(float64(got[0].Score)*float64(enc.Model.LogitScale()) - cat); d > 1e-3 {
				t.Fatalf("cat logit off by %g", d)
			}
		})
	}
	if _, err := Classify(ctx, enc, nil, fixtureImage(t, "chelsea.png")); err == nil {
		t.Fatal("no labels accepted")
	}
}

// TestDupes groups crafted vectors: near-duplicates chain transitively, and
// the threshold decides what counts as near.
func TestDupes(t *testing.T) {
	ctx := context.Background()
	l := openLib(t, t.TempDir())
	defer l.Close()
	dim := l.enc.Dim()
	// unit returns the unit vector at angle a (radians) in the plane of
	// axes i and j.
	unit := func(i, j int, a float64) []float32 {
		v := make([]float32, dim)
		v[i], v[j] = float32(math.Cos(a)), float32(math.Sin(a))
		return v
	}
	mk := func(name string, v []float32) catalog.Image {
		h := sha256.Sum256([]byte(name))
		return catalog.Image{Hash: h[:], Size: 1, Format: "png", Width: 8, Height: 8, Vector: v, Paths: []string{"/p/" + name}}
	}
	// a, b, c 0.04 rad apart in turn (cos 0.9992), a and c 0.08 (cos 0.9968);
	// d and e a pair elsewhere; f alone.
	images := []catalog.Image{
		mk("a", unit(0, 1, 0)), mk("b", unit(0, 1, 0.04)), mk("c", unit(0, 1, 0.08)),
		mk("d", unit(2, 3, 0)), mk("e", unit(2, 3, 0.02)), mk("f", unit(4, 5, 0)),
	}
	if err := l.Import(ctx, images); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		threshold float32
		want      string
	}{
		{0.999, "[[a b c] [d e]]"}, // a and c only through b; larger groups first
		{0.9995, "[[d e]]"},
		{0.99999, "[]"},
		{0.99, "[[a b c] [d e]]"},
	}
	for _, tt := range tests {
		groups, err := l.Dupes(ctx, tt.threshold, 4)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for _, g := range groups {
			var names []string
			for _, h := range g.Images {
				names = append(names, filepath.Base(h.Path))
			}
			got = append(got, names)
		}
		if s := fmt.Sprint(got); s != tt.want {
			t.Errorf("threshold %v: groups %s, want %s", tt.threshold, s, tt.want)
		}
	}
}

// TestImportMovesPath: importing an image under a path another image held
// leaves that one without a path; it leaves the catalog and the index both.
func TestImportMovesPath(t *testing.T) {
	ctx := context.Background()
	l := openLib(t, t.TempDir())
	defer l.Close()
	mk := func(name string, axis int) catalog.Image {
		h := sha256.Sum256([]byte(name))
		v := make([]float32, l.enc.Dim())
		v[axis] = 1
		return catalog.Image{Hash: h[:], Size: 1, Format: "png", Width: 8, Height: 8, Vector: v, Paths: []string{"/p/same.png"}}
	}
	for _, im := range []catalog.Image{mk("old", 0), mk("new", 1)} {
		if err := l.Import(ctx, []catalog.Image{im}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := l.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Images != 1 || st.Vectors != 1 || st.Indexed != 1 {
		t.Fatalf("stats %+v: want the replaced image gone from catalog and index", st)
	}
}
