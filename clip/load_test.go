package clip

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightsearch/sight/safetensors"
)

// tinyTensors returns every tensor of the tiny checkpoint as written.
func tinyTensors(t *testing.T) []safetensors.Tensor {
	t.Helper()
	f, err := safetensors.Open(tinyDir + "/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []safetensors.Tensor
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		b, err := f.Bytes(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, safetensors.Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: slices.Clone(b)})
	}
	return out
}

// writeCheckpoint writes a checkpoint directory with the tiny config and
// the given tensors.
func writeCheckpoint(t *testing.T, tensors []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := os.ReadFile(tinyDir + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	all := tinyTensors(t)
	const fc1 = "text_model.encoder.layers.1.mlp.fc1.weight"
	for _, tc := range []struct {
		name   string
		mutate func([]safetensors.Tensor) []safetensors.Tensor
		want   []string
	}{
		{"missing tensor", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "vision_model.post_layernorm.bias" })
		}, []string{"missing tensor vision_model.post_layernorm.bias", "expected shape [64]", "model.safetensors"}},
		{"missing logit_scale", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "logit_scale" })
		}, []string{"missing tensor logit_scale"}},
		{"wrong shape", func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == fc1 {
					ts[i].Shape = []int{64, 128}
				}
			}
			return ts
		}, []string{"tensor " + fc1 + " has shape [64 128], expected [128 64]"}},
		{"integer weights", func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "text_projection.weight" {
					ts[i].DType = safetensors.I32
				}
			}
			return ts
		}, []string{"tensor text_projection.weight has dtype I32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCheckpoint(t, tc.mutate(slices.Clone(all)))
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadTruncated(t *testing.T) {
	dir := writeCheckpoint(t, tinyTensors(t))
	path := filepath.Join(dir, "model.safetensors")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{st.Size() - 1000, 5000, 4} {
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("truncated to %d: error %v does not name %s", size, err, path)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("missing file: error %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("missing config: error %v", err)
	}
}

func TestLoadFloat16(t *testing.T) {
	ts := tinyTensors(t)
	for i, x := range ts {
		if x.DType != safetensors.F32 {
			continue
		}
		f, err := safetensors.Parse(mustWrite(t, []safetensors.Tensor{x}))
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.Float32(x.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts[i] = safetensors.Tensor{Name: x.Name, DType: safetensors.F16, Shape: x.Shape, Data: safetensors.EncodeFloat16(v)}
	}
	m, err := Load(writeCheckpoint(t, ts))
	if err != nil {
		t.Fatal(err)
	}
	fx := loadFixture(t)
	got, err := m.TextFeatures(fx.ids[:10])
	if err != nil {
		t.Fatal(err)
	}
	want := fx.tensor("text_embeds")
	for r, g := range got {
		// Half precision weights: close, not exact.
		if c := cosine(g, want[r*32:(r+1)*32]); c < 0.999 {
			t.Errorf("F16 checkpoint text %d: cosine %.5f", r, c)
		}
	}
}

func mustWrite(t *testing.T, ts []safetensors.Tensor) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := safetensors.WriteFile(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewChecksWeights(t *testing.T) {
	cfg, err := LoadConfig(tinyDir + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	w, err := RandomWeights(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Vision.Layers[1].FC2.W = w.Vision.Layers[1].FC2.W[:10]
	if _, err := New(cfg, w); err == nil || !strings.Contains(err.Error(), "vision_model.encoder.layers.1.mlp.fc2.weight") {
		t.Errorf("error %v does not name the tensor", err)
	}
	w.Vision.Layers = w.Vision.Layers[:1]
	if _, err := New(cfg, w); err == nil || !strings.Contains(err.Error(), "1 vision layers, config says 2") {
		t.Errorf("error %v", err)
	}
	cfg.ProjectionDim = 0
	if _, err := NewRandom(cfg, 1); err == nil {
		t.Error("NewRandom accepted an invalid config")
	}
}

// loadTinyWith loads the tiny weights under a modified config.
func loadTinyWith(t *testing.T, mod func(*Config)) *Model {
	t.Helper()
	cfg, err := LoadConfig(tinyDir + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	mod(&cfg)
	f, err := safetensors.Open(tinyDir + "/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := LoadFromFile(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNegativeControls shows that the golden comparison detects the
// README's classic mistakes: each one moves the embeddings far beyond the
// tolerance of 1e-4.
func TestNegativeControls(t *testing.T) {
	fx := loadFixture(t)
	wantText := fx.tensor("text_embeds")
	wantImage := fx.tensor("image_embeds")
	var px [][]float32
	for _, name := range fx.images {
		px = append(px, fx.pixels(name))
	}
	worst := func(got [][]float32, want []float32) float64 {
		var d float64
		for r, g := range got {
			d = math.Max(d, maxAbs(g, want[r*32:(r+1)*32]))
		}
		return d
	}
	for _, tc := range []struct {
		name        string
		mod         func(*Config)
		text, image bool
	}{
		{"gelu instead of quick_gelu", func(c *Config) { c.Text.HiddenAct, c.Vision.HiddenAct = "gelu", "gelu" }, true, true},
		{"layer_norm_eps 1e-6", func(c *Config) { c.Text.LayerNormEps, c.Vision.LayerNormEps = 1e-6, 1e-6 }, true, true},
		{"pooling at the wrong token", func(c *Config) { c.Text.EOS = 320 }, true, false},
	} {
		m := loadTinyWith(t, tc.mod)
		if tc.text {
			got, err := m.TextFeatures(fx.ids)
			if err != nil {
				t.Fatal(err)
			}
			d := worst(got, wantText)
			t.Logf("%s: text max abs %.3g", tc.name, d)
			if d <= 1e-3 {
				t.Errorf("%s: text max abs %.3g, want the mistake detected (> 1e-3)", tc.name, d)
			}
		}
		if tc.image {
			got, err := m.ImageFeatures(px)
			if err != nil {
				t.Fatal(err)
			}
			d := worst(got, wantImage)
			t.Logf("%s: image max abs %.3g", tc.name, d)
			if d <= 1e-4 {
				t.Errorf("%s: image max abs %.3g, want the mistake detected (> 1e-4)", tc.name, d)
			}
		}
	}
	// The modern eos_token_id pools at the same (first 49407) token.
	m := loadTinyWith(t, func(c *Config) { c.Text.EOS = 49407 })
	got, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	if d := worst(got, wantText); d > 1e-4 {
		t.Errorf("eos_token_id 49407: text max abs %.3g", d)
	}
}

func TestBatchedEqualsUnbatched(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	batch, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, ids := range fx.ids {
		one, err := m.TextFeatures([][]int{ids})
		if err != nil {
			t.Fatal(err)
		}
		worst = math.Max(worst, maxAbs(one[0], batch[i]))
	}
	names := fx.images[:4]
	var px [][]float32
	for _, n := range names {
		px = append(px, fx.pixels(n))
	}
	imgs, err := m.ImageFeatures(px)
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		one, err := m.ImageFeatures(px[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		worst = math.Max(worst, maxAbs(one[0], imgs[i]))
	}
	t.Logf("batched vs unbatched: max abs %.3g", worst)
	if worst > 1e-5 {
		t.Errorf("batched vs unbatched: max abs %.3g", worst)
	}
	// Running twice (reused arena) gives identical results.
	again, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if !slices.Equal(again[i], batch[i]) {
			t.Fatalf("second run differs at text %d", i)
		}
	}
}

func TestInputErrors(t *testing.T) {
	m := loadTiny(t)
	long := make([]int, 78)
	for _, tc := range []struct {
		ids  [][]int
		mask [][]int
		want string
	}{
		{[][]int{{49406, 49407}, {}}, nil, "sequence 1 has 0 tokens"},
		{[][]int{long}, nil, "sequence 0 has 78 tokens, want 1 to 77"},
		{[][]int{{49406, 49408}}, nil, "sequence 0 position 1: token id 49408 outside the vocabulary"},
		{[][]int{{-1}}, nil, "token id -1"},
		{[][]int{{49406, 49407}}, [][]int{{1}}, "attention mask 0: has 1 entries for 2 tokens"},
		{[][]int{{49406, 49407}}, [][]int{{0, 1}}, "attention mask 0: position 1"},
		{[][]int{{49406, 49407}}, [][]int{{0, 0}}, "masks every token"},
		{[][]int{{49406, 49407}}, [][]int{}, "0 attention masks for 1 sequences"},
	} {
		_, err := m.TextForward(context.Background(), tc.ids, tc.mask, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("TextForward error %v, want %q", err, tc.want)
		}
	}
	if _, err := m.ImageFeatures([][]float32{make([]float32, 3*224*224), make([]float32, 10)}); err == nil ||
		!strings.Contains(err.Error(), "image 1: 10 values, want 3×224×224 = 150528") {
		t.Errorf("ImageFeatures error %v", err)
	}
	if out, err := m.TextFeatures(nil); err != nil || len(out) != 0 {
		t.Errorf("empty batch: %v, %v", out, err)
	}
	if out, err := m.ImageFeatures(nil); err != nil || len(out) != 0 {
		t.Errorf("empty batch: %v, %v", out, err)
	}
}

func TestNormalize(t *testing.T) {
	v := []float32{3, 4}
	Normalize(v)
	if math.Abs(float64(v[0])-0.6) > 1e-7 || math.Abs(float64(v[1])-0.8) > 1e-7 {
		t.Errorf("Normalize = %v", v)
	}
	z := []float32{0, 0}
	Normalize(z)
	if z[0] != 0 || z[1] != 0 {
		t.Errorf("Normalize(0) = %v", z)
	}
}

// otherConfig is an architecture unlike the fixture's: other widths, head
// counts, image and patch sizes, the exact GELU and the modern
// eos_token_id.
func otherConfig() Config {
	c := DefaultConfig()
	c.Text = TextConfig{VocabSize: 49408, HiddenSize: 48, IntermediateSize: 80, NumLayers: 3, NumHeads: 3,
		MaxPositions: 20, HiddenAct: "gelu", LayerNormEps: 1e-5, BOS: 49406, EOS: 49407, Pad: 49407}
	c.Vision = VisionConfig{HiddenSize: 40, IntermediateSize: 72, NumLayers: 2, NumHeads: 5, ImageSize: 48,
		PatchSize: 16, NumChannels: 3, HiddenAct: "gelu", LayerNormEps: 1e-5}
	c.ProjectionDim = 24
	return c
}

const otherConfigJSON = `{"model_type":"clip","projection_dim":24,
 "text_config":{"hidden_size":48,"intermediate_size":80,"num_hidden_layers":3,"num_attention_heads":3,
  "max_position_embeddings":20,"hidden_act":"gelu","pad_token_id":49407},
 "vision_config":{"hidden_size":40,"intermediate_size":72,"num_hidden_layers":2,"num_attention_heads":5,
  "image_size":48,"patch_size":16,"hidden_act":"gelu"}}`

func TestOtherCheckpoint(t *testing.T) {
	cfg := otherConfig()
	w, err := RandomWeights(cfg, 42)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := w.Tensors(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(otherConfigJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Config() != cfg {
		t.Fatalf("config %+v, want %+v", loaded.Config(), cfg)
	}
	mem, err := NewRandom(cfg, 42)
	if err != nil {
		t.Fatal(err)
	}

	// Pooling at the first end token, not the last one nor the last position.
	ids := [][]int{{49406, 100, 200, 49407, 300, 49407, 7}, {49406, 5, 49407}}
	var tr Trace
	got, err := loaded.TextForward(context.Background(), ids, nil, &tr)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Text.HiddenSize
	if !slices.Equal(tr.Pooled[0], tr.LastHidden[0][3*d:4*d]) {
		t.Error("text 0 not pooled at its first end token (position 3)")
	}
	if slices.Equal(tr.Pooled[0], tr.LastHidden[0][5*d:6*d]) {
		t.Error("positions 3 and 5 agree: the test cannot tell them apart")
	}
	if !slices.Equal(tr.Pooled[1], tr.LastHidden[1][2*d:3*d]) {
		t.Error("text 1 not pooled at position 2")
	}
	// Tokens after the end token do not change the result (causal mask).
	short, err := loaded.TextFeatures([][]int{ids[0][:4]})
	if err != nil {
		t.Fatal(err)
	}
	if diff := maxAbs(short[0], got[0]); diff > 1e-5 {
		t.Errorf("trailing tokens changed the text embedding by %.3g", diff)
	}
	inMem, err := mem.TextFeatures(ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !slices.Equal(got[i], inMem[i]) || len(got[i]) != 24 {
			t.Errorf("text %d: loaded and in-memory models differ", i)
		}
	}

	// Vision: the patch embedding against a direct convolution.
	px := make([]float32, 3*48*48)
	for i := range px {
		px[i] = float32(math.Sin(float64(i)*0.37)) * 2
	}
	var vt Trace
	img, err := loaded.ImageForward(context.Background(), [][]float32{px}, &vt)
	if err != nil {
		t.Fatal(err)
	}
	if len(img[0]) != 24 || len(vt.HiddenStates[0]) != 3 || len(vt.Embeddings[0]) != 10*40 {
		t.Fatalf("unexpected shapes: %d, %d, %d", len(img[0]), len(vt.HiddenStates[0]), len(vt.Embeddings[0]))
	}
	want := convEmbeddings(w, cfg.Vision, px)
	if diff := maxAbs(vt.Embeddings[0], want); diff > 1e-5 {
		t.Errorf("vision embeddings differ from a direct convolution by %.3g", diff)
	}
	imgMem, err := mem.ImageFeatures([][]float32{px})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(img[0], imgMem[0]) {
		t.Error("image: loaded and in-memory models differ")
	}
}

// convEmbeddings computes CLIP's vision embeddings in float64 straight
// from the definition: a stride-P convolution, CLS first, plus positions.
func convEmbeddings(w Weights, v VisionConfig, px []float32) []float32 {
	g, p, s, d := v.ImageSize/v.PatchSize, v.PatchSize, v.ImageSize, v.HiddenSize
	out := make([]float32, (g*g+1)*d)
	for o := 0; o < d; o++ {
		out[o] = w.Vision.ClassEmbedding[o] + w.Vision.PositionEmbedding[o]
	}
	for gy := 0; gy < g; gy++ {
		for gx := 0; gx < g; gx++ {
			pos := 1 + gy*g + gx
			for o := 0; o < d; o++ {
				var sum float64
				for c := 0; c < v.NumChannels; c++ {
					for y := 0; y < p; y++ {
						for x := 0; x < p; x++ {
							wt := w.Vision.PatchEmbedding[((o*v.NumChannels+c)*p+y)*p+x]
							sum += float64(wt) * float64(px[(c*s+gy*p+y)*s+gx*p+x])
						}
					}
				}
				out[pos*d+o] = float32(sum) + w.Vision.PositionEmbedding[pos*d+o]
			}
		}
	}
	return out
}

func TestConfigJSONRoundTrip(t *testing.T) {
	// otherConfigJSON is what TestOtherCheckpoint loads; make sure it says
	// what otherConfig says (so the loaded-config check is meaningful).
	c, err := ParseConfig([]byte(otherConfigJSON))
	if err != nil || c != otherConfig() {
		t.Errorf("ParseConfig = %+v, %v", c, err)
	}
}

func TestCancel(t *testing.T) {
	m := loadTiny(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.TextForward(ctx, [][]int{{49406, 49407}}, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("text: error %v, want context.Canceled", err)
	}
	if _, err := m.ImageForward(ctx, [][]float32{make([]float32, 3*224*224)}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("image: error %v, want context.Canceled", err)
	}
}

// FuzzLoadFromFile feeds arbitrary safetensors bytes to the weight loader
// of a small architecture: it must return an error or a working model,
// never panic.
func FuzzLoadFromFile(f *testing.F) {
	cfg := fuzzConfig()
	w, err := RandomWeights(cfg, 3)
	if err != nil {
		f.Fatal(err)
	}
	ts, err := w.Tensors(cfg)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := safetensors.Parse(data)
		if err != nil {
			return
		}
		m, err := LoadFromFile(cfg, sf)
		if err != nil {
			return
		}
		if _, err := m.TextFeatures([][]int{{1, 2, 3}}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.ImageFeatures([][]float32{make([]float32, 3*8*8)}); err != nil {
			t.Fatal(err)
		}
	})
}

func fuzzConfig() Config {
	c := DefaultConfig()
	c.Text = TextConfig{VocabSize: 16, HiddenSize: 4, IntermediateSize: 8, NumLayers: 1, NumHeads: 2,
		MaxPositions: 6, HiddenAct: "relu", LayerNormEps: 1e-5, EOS: 15}
	c.Vision = VisionConfig{HiddenSize: 4, IntermediateSize: 8, NumLayers: 1, NumHeads: 1, ImageSize: 8,
		PatchSize: 4, NumChannels: 3, HiddenAct: "gelu_new", LayerNormEps: 1e-5}
	c.ProjectionDim = 3
	return c
}
