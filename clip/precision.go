package clip

import (
	"fmt"

	"github.com/sightsearch/sight/nn"
)

// Precision selects the arithmetic of the model's linear layers (the
// matrix products with weights: more than 95% of the work). Attention,
// normalisation, activations and sums stay float32.
type Precision = nn.Precision

// The precisions. FP32 is the default and reproduces the reference; BF16
// and Int8 trade accuracy for speed (see BENCHMARKS.md for both). They are
// fast only with the matching instructions (gemm.KernelBF16 and
// qgemm.Kernel name the kernels in use): AVX512-BF16 and AVX512-VNNI;
// elsewhere their portable kernels are slower than FP32.
//
// Int8 in the text tower keeps its first encoder layer and the text
// projection in bf16 (in float32 where the CPU has no bf16 kernel): the
// first layer writes into a residual stream that is still small (token
// plus position embeddings), so its quantisation errors weigh most, and
// the projection's errors reach the embedding unaveraged. Measured on
// ViT-B/32, all-int8 text embeddings have cosine 0.99931 against float32,
// with these two kept 0.99966, for 9% more weight bytes.
const (
	FP32 = nn.FP32 // float32 products
	BF16 = nn.BF16 // bfloat16 weights and inputs, float32 sums
	Int8 = nn.Int8 // int8 weights per output channel, uint8 inputs per row, int32 sums
)

// ParsePrecision parses "fp32", "bf16" or "int8".
func ParsePrecision(s string) (Precision, error) { return nn.ParsePrecision(s) }

// Precision returns the precision of the text and of the image tower's
// linear layers.
func (m *Model) Precision() (text, image Precision) { return m.textPrec, m.imagePrec }

// SetPrecision repacks every linear layer for precision p:
// SetTowerPrecision(p, p).
func (m *Model) SetPrecision(p Precision) error { return m.SetTowerPrecision(p, p) }

// SetTowerPrecision repacks the linear layers of the text tower (with the
// text projection) for precision text and those of the image tower (with
// the patch embedding and the visual projection) for precision image. It
// takes a moment (the weights are converted) and must not run concurrently
// with any other method. The float32 weights are kept, so the precision
// can be changed back. Int8 fails on weights holding Inf or NaN; the tower
// then keeps its precision.
func (m *Model) SetTowerPrecision(text, image Precision) error {
	for _, p := range []Precision{text, image} {
		if p != FP32 && p != BF16 && p != Int8 {
			return fmt.Errorf("clip: set precision: %v is not a precision", p)
		}
	}
	towers := []struct {
		name    string
		p, old  Precision
		linears []named
	}{
		{"text", text, m.textPrec, m.text.linears(true, named{"text_projection", &m.textProj, true})},
		{"image", image, m.imagePrec, m.vision.linears(false, named{"patch_embedding", &m.patch, false}, named{"visual_projection", &m.visualProj, false})},
	}
	for ti, tower := range towers {
		for _, l := range tower.linears {
			if err := l.SetPrecision(l.precision(tower.p)); err != nil {
				// Put the model back as it was (those precisions worked).
				for _, done := range towers[:ti+1] {
					for _, l := range done.linears {
						_ = l.SetPrecision(l.precision(done.old))
					}
				}
				return fmt.Errorf("clip: set the %s tower to %v: %s: %w", tower.name, tower.p, l.name, err)
			}
		}
	}
	m.textPrec, m.imagePrec = text, image
	return nil
}

// named is a linear layer with a name for errors.
type named struct {
	name string
	*nn.Linear
	// sensitive: Int8 runs this layer in bf16 (see the precisions).
	sensitive bool
}

// precision returns the precision l runs in when its tower is set to p.
func (l named) precision(p Precision) Precision {
	if p != Int8 || !l.sensitive {
		return p
	}
	if !BF16.Accelerated() {
		return FP32 // the portable bf16 kernel is slower than float32
	}
	return BF16
}

// linears lists the encoder's linear layers after extra; with
// firstSensitive, those of the first layer are marked sensitive.
func (e *encoder) linears(firstSensitive bool, extra ...named) []named {
	ls := extra
	for i := range e.layers {
		l := &e.layers[i]
		for _, n := range []named{{"q/k/v", &l.qkv, false}, {"out_proj", &l.out, false}, {"fc1", &l.fc1, false}, {"fc2", &l.fc2, false}} {
			ls = append(ls, named{fmt.Sprintf("layer %d %s", i, n.name), n.Linear, firstSensitive && i == 0})
		}
	}
	return ls
}
