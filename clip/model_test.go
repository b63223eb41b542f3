package clip

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/sightsearch/sight/safetensors"
)

const (
	fixtureDir   = "../testdata/clip"
	tinyDir      = fixtureDir + "/tiny-b32"
	expectedPath = fixtureDir + "/expected.safetensors"
)

// fixture is the golden data of testdata/clip, loaded once per test.
type fixture struct {
	t        *testing.T
	f        *safetensors.File
	ids      [][]int // unpadded
	padded   [][]int // padded to 77 with the pad token
	mask     [][]int
	images   []string
	numTexts int
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	f, err := safetensors.Open(expectedPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fx := &fixture{t: t, f: f}
	if err := json.Unmarshal([]byte(f.Metadata()["image_order"]), &fx.images); err != nil {
		t.Fatalf("image_order: %v", err)
	}
	info, _ := f.Info("input_ids")
	n, l := info.Shape[0], info.Shape[1]
	fx.numTexts = n
	ids, err := f.Int64("input_ids")
	if err != nil {
		t.Fatal(err)
	}
	mask, err := f.Int64("attention_mask")
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < n; r++ {
		var row, prow, mrow []int
		for p := 0; p < l; p++ {
			if mask[r*l+p] == 1 {
				row = append(row, int(ids[r*l+p]))
			}
			prow = append(prow, int(ids[r*l+p]))
			mrow = append(mrow, int(mask[r*l+p]))
		}
		fx.ids = append(fx.ids, row)
		fx.padded = append(fx.padded, prow)
		fx.mask = append(fx.mask, mrow)
	}
	return fx
}

func (fx *fixture) tensor(name string) []float32 {
	fx.t.Helper()
	v, err := fx.f.Float32(name)
	if err != nil {
		fx.t.Fatal(err)
	}
	return v
}

func (fx *fixture) pixels(name string) []float32 { return fx.tensor("pixel_values." + name) }

func loadTiny(t testing.TB) *Model {
	t.Helper()
	m, err := Load(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func maxAbs(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// embedCheck compares rows of got against want[rows×dim] with the README's
// embedding tolerance and returns the worst cosine and max abs difference.
func embedCheck(t *testing.T, what string, got [][]float32, want []float32) (worstCos, worstAbs float64) {
	t.Helper()
	worstCos = 1
	dim := len(want) / len(got)
	for r, g := range got {
		w := want[r*dim : (r+1)*dim]
		c, d := cosine(g, w), maxAbs(g, w)
		worstCos, worstAbs = math.Min(worstCos, c), math.Max(worstAbs, d)
		if c < 0.99999 || d > 1e-4 {
			t.Errorf("%s row %d: cosine %.7f, max abs %.3g", what, r, c, d)
		}
	}
	return
}

func TestTextEmbeds(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	got, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != fx.numTexts || len(got[0]) != 32 {
		t.Fatalf("got %d×%d embeddings, want %d×32", len(got), len(got[0]), fx.numTexts)
	}
	c, d := embedCheck(t, "text_embeds", got, fx.tensor("text_embeds"))
	t.Logf("67 texts: worst cosine %.8f, max abs %.3g", c, d)
}

func TestImageEmbeds(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	var px [][]float32
	for _, name := range fx.images {
		px = append(px, fx.pixels(name))
	}
	got, err := m.ImageFeatures(px)
	if err != nil {
		t.Fatal(err)
	}
	c, d := embedCheck(t, "image_embeds", got, fx.tensor("image_embeds"))
	t.Logf("11 images: worst cosine %.8f, max abs %.3g", c, d)
	for i, name := range fx.images {
		if d := maxAbs(got[i], fx.tensor("image_embeds."+name)); d > 1e-4 {
			t.Errorf("image_embeds.%s: max abs %.3g", name, d)
		}
	}
}

func logits(m *Model, img, txt [][]float32) []float32 {
	norm := func(rows [][]float32) [][]float32 {
		out := make([][]float32, len(rows))
		for i, r := range rows {
			out[i] = slices.Clone(r)
			Normalize(out[i])
		}
		return out
	}
	ni, nt := norm(img), norm(txt)
	s := m.LogitScale()
	var out []float32
	for _, a := range ni {
		for _, b := range nt {
			var dot float32
			for k := range a {
				dot += a[k] * b[k]
			}
			out = append(out, s*dot)
		}
	}
	return out
}

func TestLogitsPerImage(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	if s := m.LogitScale(); math.Abs(float64(s)-14.2857) > 1e-3 {
		t.Errorf("LogitScale() = %g, want 14.2857", s)
	}
	txt, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	var px [][]float32
	for _, name := range fx.images {
		px = append(px, fx.pixels(name))
	}
	img, err := m.ImageFeatures(px)
	if err != nil {
		t.Fatal(err)
	}
	d := maxAbs(logits(m, img, txt), fx.tensor("logits_per_image"))
	t.Logf("logits_per_image: max abs %.3g", d)
	if d > 1e-3 {
		t.Errorf("logits_per_image: max abs %.3g > 1e-3", d)
	}
}

func checkClose(t *testing.T, name string, got, want []float32, tol float64) float64 {
	t.Helper()
	d := maxAbs(got, want)
	if d > tol {
		t.Errorf("%s: max abs %.3g > %g (len %d vs %d)", name, d, tol, len(got), len(want))
	}
	return d
}

func TestTextIntermediates(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	const d = 64
	var worst float64
	defer func() { t.Logf("worst intermediate max abs %.3g", worst) }()
	for _, i := range []int{0, 59} {
		key := fmt.Sprint(i)
		hs := fx.tensor("text_hidden_states." + key)
		// Padded to 77 with the fixture's attention mask, like the reference.
		var tr Trace
		emb, err := m.TextForward(context.Background(), [][]int{fx.padded[i]}, [][]int{fx.mask[i]}, &tr)
		if err != nil {
			t.Fatal(err)
		}
		worst = math.Max(worst, checkClose(t, "padded text_embeddings."+key, tr.Embeddings[0], fx.tensor("text_embeddings."+key), 1e-4))
		if len(tr.HiddenStates[0]) != 3 {
			t.Fatalf("%d hidden states, want 3", len(tr.HiddenStates[0]))
		}
		for k, h := range tr.HiddenStates[0] {
			worst = math.Max(worst, checkClose(t, fmt.Sprintf("padded text_hidden_states.%s[%d]", key, k), h, hs[k*77*d:(k+1)*77*d], 1e-4))
		}
		worst = math.Max(worst, checkClose(t, "padded text_last_hidden_state."+key, tr.LastHidden[0], fx.tensor("text_last_hidden_state."+key), 1e-4))
		worst = math.Max(worst, checkClose(t, "padded text_pooled."+key, tr.Pooled[0], fx.tensor("text_pooled."+key), 1e-4))

		// Unpadded: the real positions agree with the reference, and so
		// does the pooled output and embedding (the causal mask keeps
		// padding out of them).
		n := len(fx.ids[i])
		var tu Trace
		embU, err := m.TextForward(context.Background(), [][]int{fx.ids[i]}, nil, &tu)
		if err != nil {
			t.Fatal(err)
		}
		for k, h := range tu.HiddenStates[0] {
			worst = math.Max(worst, checkClose(t, fmt.Sprintf("unpadded text_hidden_states.%s[%d]", key, k), h, hs[k*77*d:k*77*d+n*d], 1e-4))
		}
		worst = math.Max(worst, checkClose(t, "unpadded text_last_hidden_state."+key, tu.LastHidden[0], fx.tensor("text_last_hidden_state." + key)[:n*d], 1e-4))
		worst = math.Max(worst, checkClose(t, "unpadded text_pooled."+key, tu.Pooled[0], fx.tensor("text_pooled."+key), 1e-4))
		worst = math.Max(worst, checkClose(t, "padded vs unpadded embedding "+key, emb[0], embU[0], 1e-5))
		worst = math.Max(worst, checkClose(t, "text_embeds."+key, embU[0], fx.tensor("text_embeds")[i*32:(i+1)*32], 1e-4))
	}
}

func TestVisionIntermediates(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	const seq, d = 50, 64
	var worst float64
	defer func() { t.Logf("worst intermediate max abs %.3g", worst) }()
	names := []string{"chelsea.png", "astronaut.jpg"}
	var tr Trace
	_, err := m.ImageForward(context.Background(), [][]float32{fx.pixels(names[0]), fx.pixels(names[1])}, &tr)
	if err != nil {
		t.Fatal(err)
	}
	for b, name := range names {
		worst = math.Max(worst, checkClose(t, "vision_embeddings."+name, tr.Embeddings[b], fx.tensor("vision_embeddings."+name), 1e-4))
		worst = math.Max(worst, checkClose(t, "vision_pre_layrnorm."+name, tr.HiddenStates[b][0], fx.tensor("vision_pre_layrnorm."+name), 1e-4))
		hs := fx.tensor("vision_hidden_states." + name)
		if len(tr.HiddenStates[b]) != 3 {
			t.Fatalf("%d hidden states, want 3", len(tr.HiddenStates[b]))
		}
		for k, h := range tr.HiddenStates[b] {
			worst = math.Max(worst, checkClose(t, fmt.Sprintf("vision_hidden_states.%s[%d]", name, k), h, hs[k*seq*d:(k+1)*seq*d], 1e-4))
		}
		worst = math.Max(worst, checkClose(t, "vision_last_hidden_state."+name, tr.LastHidden[b], fx.tensor("vision_last_hidden_state."+name), 1e-4))
		worst = math.Max(worst, checkClose(t, "vision_pooled."+name, tr.Pooled[b], fx.tensor("vision_pooled."+name), 1e-4))
	}
}
