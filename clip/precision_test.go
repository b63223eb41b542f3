package clip

import (
	"math"
	"slices"
	"testing"

	"github.com/sightsearch/sight/nn"
	"github.com/sightsearch/sight/safetensors"
)

// minCosine is the accuracy a reduced precision must keep against float32
// on every embedding to count as usable.
const minCosine = 0.9995

// Int8 falls short of minCosine on the tiny checkpoint (whose 64-wide
// layers average quantisation errors out less); the test holds it to this
// bound instead. On the full-size model it must reach minCosine on both
// towers.
const int8TinyCosine = 0.998

// worstCosine returns the smallest row cosine of got against want.
func worstCosine(got, want [][]float32) float64 {
	worst := 1.0
	for i := range got {
		worst = math.Min(worst, cosine(got[i], want[i]))
	}
	return worst
}

type towers struct{ img, txt [][]float32 }

func runTowers(t *testing.T, m *Model, px [][]float32, ids [][]int) towers {
	t.Helper()
	img, err := m.ImageFeatures(px)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := m.TextFeatures(ids)
	if err != nil {
		t.Fatal(err)
	}
	return towers{img, txt}
}

// precisionCosines runs m in each reduced precision and returns the worst
// image and text cosine against float32, leaving m in FP32.
func precisionCosines(t *testing.T, m *Model, px [][]float32, ids [][]int) map[Precision][2]float64 {
	t.Helper()
	defer m.SetPrecision(FP32)
	if err := m.SetPrecision(FP32); err != nil {
		t.Fatal(err)
	}
	ref := runTowers(t, m, px, ids)
	out := map[Precision][2]float64{}
	res := map[Precision]towers{}
	for _, p := range []Precision{BF16, Int8} {
		if err := m.SetPrecision(p); err != nil {
			t.Fatal(err)
		}
		if tp, ip := m.Precision(); tp != p || ip != p {
			t.Fatalf("Precision() = %v, %v after SetPrecision(%v)", tp, ip, p)
		}
		res[p] = runTowers(t, m, px, ids)
		out[p] = [2]float64{worstCosine(res[p].img, ref.img), worstCosine(res[p].txt, ref.txt)}
		t.Logf("%v: worst image cosine %.6f, worst text cosine %.6f (vs fp32; %d images, %d texts)",
			p, out[p][0], out[p][1], len(px), len(ids))
	}
	// Mixed: each tower is exactly as in its own precision.
	if err := m.SetTowerPrecision(BF16, Int8); err != nil {
		t.Fatal(err)
	}
	if tp, ip := m.Precision(); tp != BF16 || ip != Int8 {
		t.Fatalf("Precision() = %v, %v after SetTowerPrecision(bf16, int8)", tp, ip)
	}
	mixed := runTowers(t, m, px, ids)
	for i := range mixed.img {
		if !slices.Equal(mixed.img[i], res[Int8].img[i]) {
			t.Errorf("image %d: the int8 image tower differs when the text tower is bf16", i)
		}
	}
	for i := range mixed.txt {
		if !slices.Equal(mixed.txt[i], res[BF16].txt[i]) {
			t.Errorf("text %d: the bf16 text tower differs when the image tower is int8", i)
		}
	}
	return out
}

// TestPrecisionTiny measures the reduced precisions on the golden tiny
// checkpoint, and that switching back to FP32 restores the exact result.
func TestPrecisionTiny(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	defer m.Close()
	var px [][]float32
	for _, name := range fx.images {
		px = append(px, fx.pixels(name))
	}
	for p, c := range precisionCosines(t, m, px, fx.ids) {
		limit := minCosine
		if p == Int8 {
			limit = int8TinyCosine
		}
		if c[0] < limit || c[1] < limit {
			t.Errorf("%v: worst cosines %.6f (image), %.6f (text) < %g", p, c[0], c[1], limit)
		}
	}
	checkSensitive(t, m)
	got, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	embedCheck(t, "text_embeds after switching back to fp32", got, fx.tensor("text_embeds"))
	if err := m.SetPrecision(Precision(9)); err == nil {
		t.Error("SetPrecision(9) accepted")
	}
	if err := m.SetTowerPrecision(FP32, Precision(9)); err == nil {
		t.Error("SetTowerPrecision(fp32, 9) accepted")
	}
	if _, err := ParsePrecision("fp16"); err == nil {
		t.Error(`ParsePrecision("fp16") accepted`)
	}
	for _, p := range []Precision{FP32, BF16, Int8} {
		if q, err := ParsePrecision(p.String()); err != nil || q != p {
			t.Errorf("ParsePrecision(%q) = %v, %v", p.String(), q, err)
		}
	}
}

// checkSensitive checks which layers Int8 keeps in a wider precision: the
// text tower's first layer and projection, and nothing in the image tower.
func checkSensitive(t *testing.T, m *Model) {
	t.Helper()
	defer m.SetPrecision(FP32)
	if err := m.SetPrecision(Int8); err != nil {
		t.Fatal(err)
	}
	wide := BF16
	if !BF16.Accelerated() {
		wide = FP32
	}
	for _, tc := range []struct {
		name string
		l    *nn.Linear
		want Precision
	}{
		{"text layer 0 q/k/v", &m.text.layers[0].qkv, wide},
		{"text layer 0 fc2", &m.text.layers[0].fc2, wide},
		{"text projection", &m.textProj, wide},
		{"text layer 1 q/k/v", &m.text.layers[1].qkv, Int8},
		{"text last layer fc2", &m.text.layers[len(m.text.layers)-1].fc2, Int8},
		{"image layer 0 q/k/v", &m.vision.layers[0].qkv, Int8},
		{"visual projection", &m.visualProj, Int8},
		{"patch embedding", &m.patch, Int8},
	} {
		if got := tc.l.Precision(); got != tc.want {
			t.Errorf("int8 model: %s runs in %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPrecisionViTB32 measures the reduced precisions on a full-size
// ViT-B/32 with random weights, with the fixture's real photos and texts
// as inputs.
func TestPrecisionViTB32(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size model")
	}
	fx := loadFixture(t)
	m, err := NewRandom(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var px [][]float32
	for _, name := range fx.images {
		px = append(px, fx.pixels(name))
	}
	for p, c := range precisionCosines(t, m, px, fx.ids) {
		if c[0] < minCosine || c[1] < minCosine {
			t.Errorf("%v: worst cosines %.6f (image), %.6f (text) < %g", p, c[0], c[1], minCosine)
		}
	}
}

// TestSetPrecisionFailure: int8 refuses non-finite weights, naming the
// tower, and leaves the model in its previous precision.
func TestSetPrecisionFailure(t *testing.T) {
	fx := loadFixture(t)
	cfg, err := LoadConfig(tinyDir + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(tinyDir + "/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := ReadWeights(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	w.Vision.Layers[1].FC1.W[7] = float32(math.NaN())
	m, err := New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = m.SetPrecision(Int8)
	if err == nil {
		t.Fatal("SetPrecision(Int8) accepted a NaN weight")
	}
	t.Log(err)
	if tp, ip := m.Precision(); tp != FP32 || ip != FP32 {
		t.Errorf("Precision() = %v, %v after a failed SetPrecision, want fp32, fp32", tp, ip)
	}
	got, err := m.TextFeatures(fx.ids)
	if err != nil {
		t.Fatal(err)
	}
	embedCheck(t, "text_embeds after a failed SetPrecision", got, fx.tensor("text_embeds"))
}
