package clip

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightsearch/sight/safetensors"
)

// TestEncoderEndToEnd embeds every fixture image from its file and every
// fixture text from its string, and compares with the reference's
// embeddings: cosine ≥ 0.99999 and max abs ≤ 1e-4 each.
func TestEncoderEndToEnd(t *testing.T) {
	ctx := context.Background()
	fix := filepath.Join("..", "testdata", "clip")
	enc, err := OpenEncoder(ctx, filepath.Join(fix, "tiny-b32"), EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := safetensors.Open(filepath.Join(fix, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	check := func(name string, got, want []float32) {
		t.Helper()
		var dot, na, nb, maxAbs float64
		for i := range want {
			a, b := float64(got[i]), float64(want[i])
			dot, na, nb = dot+a*b, na+a*a, nb+b*b
			maxAbs = math.Max(maxAbs, math.Abs(a-b))
		}
		cos := dot / math.Sqrt(na*nb)
		if cos < 0.99999 || maxAbs > 1e-4 {
			t.Errorf("%s: cosine %.7f, max abs %.2g", name, cos, maxAbs)
		}
	}
	var order []string
	if err := json.Unmarshal([]byte(exp.Metadata()["image_order"]), &order); err != nil || len(order) != 11 {
		t.Fatalf("image_order: %v %v", order, err)
	}
	for _, name := range order {
		data, err := os.ReadFile(filepath.Join(fix, "images", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc.EmbedImage(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := exp.Float32("image_embeds." + name)
		if err != nil {
			t.Fatal(err)
		}
		check(name, got, want)
	}
	var fixture struct {
		Texts []struct {
			Text  string `json:"text"`
			Index int    `json:"index"`
		} `json:"texts"`
	}
	b, err := os.ReadFile(filepath.Join(fix, "texts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fixture); err != nil || len(fixture.Texts) != 67 {
		t.Fatalf("texts.json: %d texts, %v", len(fixture.Texts), err)
	}
	texts := fixture.Texts
	strs := make([]string, len(texts))
	for i, tx := range texts {
		strs[i] = tx.Text
	}
	got, err := enc.EmbedTexts(ctx, strs)
	if err != nil {
		t.Fatal(err)
	}
	all, err := exp.Float32("text_embeds")
	if err != nil {
		t.Fatal(err)
	}
	dim := enc.Dim()
	for i, tx := range texts {
		check(tx.Text, got[i], all[tx.Index*dim:(tx.Index+1)*dim])
	}
	if s := enc.Stats(); s.Images != 11 || s.Texts != int64(len(texts)) {
		t.Fatalf("stats %+v", s)
	}
}

func TestFingerprintChangesWithWeights(t *testing.T) {
	src := filepath.Join("..", "testdata", "clip", "tiny-b32")
	a, err := fingerprint(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"config.json", "preprocessor_config.json", "model.safetensors"} {
		b, _ := os.ReadFile(filepath.Join(src, f))
		if f == "model.safetensors" {
			b[len(b)/100]++ // inside the first MiB of weights
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	b, err := fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("fingerprint ignores the weights")
	}
}
