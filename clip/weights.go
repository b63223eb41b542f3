package clip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/sightsearch/sight/safetensors"
)

// Weights holds a CLIP model's parameters as plain row-major float32
// slices, in Hugging Face's layouts (Linear weights are [out×in]).
type Weights struct {
	Text             TextWeights
	Vision           VisionWeights
	TextProjection   []float32 // [ProjectionDim × Text.HiddenSize], no bias
	VisualProjection []float32 // [ProjectionDim × Vision.HiddenSize], no bias
	LogitScale       float32   // the stored logit_scale (a logarithm)
}

// TextWeights holds the text tower's parameters.
type TextWeights struct {
	TokenEmbedding    []float32 // [VocabSize × HiddenSize]
	PositionEmbedding []float32 // [MaxPositions × HiddenSize]
	Layers            []LayerWeights
	FinalNorm         NormWeights
}

// VisionWeights holds the vision tower's parameters.
type VisionWeights struct {
	ClassEmbedding    []float32 // [HiddenSize]
	PatchEmbedding    []float32 // [HiddenSize × NumChannels × PatchSize × PatchSize], no bias
	PositionEmbedding []float32 // [NumPositions × HiddenSize]
	PreNorm           NormWeights
	Layers            []LayerWeights
	PostNorm          NormWeights
}

// LayerWeights holds one pre-norm transformer encoder layer.
type LayerWeights struct {
	Norm1, Norm2 NormWeights
	Q, K, V, Out LinearWeights // [HiddenSize × HiddenSize]
	FC1          LinearWeights // [IntermediateSize × HiddenSize]
	FC2          LinearWeights // [HiddenSize × IntermediateSize]
}

// NormWeights holds a LayerNorm's gain ("weight") and bias.
type NormWeights struct{ Gain, Bias []float32 }

// LinearWeights holds a Linear layer's weight [out×in] and bias [out].
type LinearWeights struct{ W, B []float32 }

// tensorSpec ties a checkpoint tensor name to its expected shape and to
// the field of Weights that holds it.
type tensorSpec struct {
	name  string
	shape []int
	dst   *[]float32
}

func layerSpecs(prefix string, hidden, inter int, l *LayerWeights) []tensorSpec {
	lin := func(name string, out, in int, w *LinearWeights) []tensorSpec {
		return []tensorSpec{
			{prefix + name + ".weight", []int{out, in}, &w.W},
			{prefix + name + ".bias", []int{out}, &w.B},
		}
	}
	norm := func(name string, n *NormWeights) []tensorSpec {
		return []tensorSpec{
			{prefix + name + ".weight", []int{hidden}, &n.Gain},
			{prefix + name + ".bias", []int{hidden}, &n.Bias},
		}
	}
	return slices.Concat(
		norm("layer_norm1", &l.Norm1),
		lin("self_attn.q_proj", hidden, hidden, &l.Q),
		lin("self_attn.k_proj", hidden, hidden, &l.K),
		lin("self_attn.v_proj", hidden, hidden, &l.V),
		lin("self_attn.out_proj", hidden, hidden, &l.Out),
		norm("layer_norm2", &l.Norm2),
		lin("mlp.fc1", inter, hidden, &l.FC1),
		lin("mlp.fc2", hidden, inter, &l.FC2),
	)
}

// specs lists every tensor of cfg's architecture under its Hugging Face
// CLIPModel.state_dict name, except logit_scale (a scalar). It sizes
// w.Text.Layers and w.Vision.Layers to the configured layer counts.
func specs(cfg Config, w *Weights) []tensorSpec {
	t, v := cfg.Text, cfg.Vision
	if len(w.Text.Layers) != t.NumLayers {
		w.Text.Layers = make([]LayerWeights, t.NumLayers)
	}
	if len(w.Vision.Layers) != v.NumLayers {
		w.Vision.Layers = make([]LayerWeights, v.NumLayers)
	}
	s := []tensorSpec{
		{"text_model.embeddings.token_embedding.weight", []int{t.VocabSize, t.HiddenSize}, &w.Text.TokenEmbedding},
		{"text_model.embeddings.position_embedding.weight", []int{t.MaxPositions, t.HiddenSize}, &w.Text.PositionEmbedding},
	}
	for i := range w.Text.Layers {
		s = append(s, layerSpecs("text_model.encoder.layers."+strconv.Itoa(i)+".", t.HiddenSize, t.IntermediateSize, &w.Text.Layers[i])...)
	}
	s = append(s,
		tensorSpec{"text_model.final_layer_norm.weight", []int{t.HiddenSize}, &w.Text.FinalNorm.Gain},
		tensorSpec{"text_model.final_layer_norm.bias", []int{t.HiddenSize}, &w.Text.FinalNorm.Bias},
		tensorSpec{"vision_model.embeddings.class_embedding", []int{v.HiddenSize}, &w.Vision.ClassEmbedding},
		tensorSpec{"vision_model.embeddings.patch_embedding.weight", []int{v.HiddenSize, v.NumChannels, v.PatchSize, v.PatchSize}, &w.Vision.PatchEmbedding},
		tensorSpec{"vision_model.embeddings.position_embedding.weight", []int{v.NumPositions(), v.HiddenSize}, &w.Vision.PositionEmbedding},
		tensorSpec{"vision_model.pre_layrnorm.weight", []int{v.HiddenSize}, &w.Vision.PreNorm.Gain},
		tensorSpec{"vision_model.pre_layrnorm.bias", []int{v.HiddenSize}, &w.Vision.PreNorm.Bias},
	)
	for i := range w.Vision.Layers {
		s = append(s, layerSpecs("vision_model.encoder.layers."+strconv.Itoa(i)+".", v.HiddenSize, v.IntermediateSize, &w.Vision.Layers[i])...)
	}
	return append(s,
		tensorSpec{"vision_model.post_layernorm.weight", []int{v.HiddenSize}, &w.Vision.PostNorm.Gain},
		tensorSpec{"vision_model.post_layernorm.bias", []int{v.HiddenSize}, &w.Vision.PostNorm.Bias},
		tensorSpec{"text_projection.weight", []int{cfg.ProjectionDim, t.HiddenSize}, &w.TextProjection},
		tensorSpec{"visual_projection.weight", []int{cfg.ProjectionDim, v.HiddenSize}, &w.VisualProjection},
	)
}

const logitScaleName = "logit_scale"

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// check reports the first tensor of w whose size does not match cfg.
func (w *Weights) check(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if len(w.Text.Layers) != cfg.Text.NumLayers {
		return fmt.Errorf("weights: %d text layers, config says %d", len(w.Text.Layers), cfg.Text.NumLayers)
	}
	if len(w.Vision.Layers) != cfg.Vision.NumLayers {
		return fmt.Errorf("weights: %d vision layers, config says %d", len(w.Vision.Layers), cfg.Vision.NumLayers)
	}
	for _, s := range specs(cfg, w) {
		if n := numElements(s.shape); len(*s.dst) != n {
			return fmt.Errorf("weights: tensor %s has %d values, expected shape %v (%d values)", s.name, len(*s.dst), s.shape, n)
		}
	}
	if math.IsNaN(float64(w.LogitScale)) || math.IsInf(float64(w.LogitScale), 0) {
		return fmt.Errorf("weights: %s is %g", logitScaleName, w.LogitScale)
	}
	return nil
}

// ReadWeights reads every tensor of cfg's architecture from f, checking
// each shape against cfg and converting F16/BF16/F64 to float32. Other
// tensors in f (such as the position_ids buffers) are ignored.
func ReadWeights(cfg Config, f *safetensors.File) (Weights, error) {
	if err := cfg.Validate(); err != nil {
		return Weights{}, err
	}
	var w Weights
	for _, s := range specs(cfg, &w) {
		v, err := readTensor(f, s.name, s.shape)
		if err != nil {
			return Weights{}, err
		}
		*s.dst = v
	}
	v, err := readTensor(f, logitScaleName, nil)
	if err != nil {
		return Weights{}, err
	}
	w.LogitScale = v[0]
	return w, nil
}

func readTensor(f *safetensors.File, name string, shape []int) ([]float32, error) {
	info, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("missing tensor %s (expected shape %v)", name, shape)
	}
	got := info.Shape
	if name == logitScaleName && slices.Equal(got, []int{1}) {
		got = nil // some exports store the scalar as [1]
	}
	if !slices.Equal(got, shape) && !(len(got) == 0 && len(shape) == 0) {
		return nil, fmt.Errorf("tensor %s has shape %v, expected %v", name, info.Shape, shape)
	}
	switch info.DType {
	case safetensors.F32, safetensors.F16, safetensors.BF16, safetensors.F64:
	default:
		return nil, fmt.Errorf("tensor %s has dtype %s, expected a float type", name, info.DType)
	}
	v, err := f.Float32(name)
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", name, err)
	}
	if len(v) != max(numElements(shape), 1) {
		return nil, fmt.Errorf("tensor %s has %d values, expected shape %v", name, len(v), shape)
	}
	return v, nil
}

// Tensors returns w as float32 safetensors tensors under Hugging Face's
// CLIPModel.state_dict names, ready for safetensors.WriteFile. cfg must
// describe w.
func (w *Weights) Tensors(cfg Config) ([]safetensors.Tensor, error) {
	if err := w.check(cfg); err != nil {
		return nil, err
	}
	var out []safetensors.Tensor
	for _, s := range specs(cfg, w) {
		out = append(out, safetensors.Tensor{Name: s.name, DType: safetensors.F32, Shape: s.shape,
			Data: safetensors.EncodeFloat32(*s.dst)})
	}
	out = append(out, safetensors.Tensor{Name: logitScaleName, DType: safetensors.F32, Shape: []int{},
		Data: safetensors.EncodeFloat32([]float32{w.LogitScale})})
	return out, nil
}

// RandomWeights returns deterministic random weights for cfg drawn like
// transformers' CLIP initialisation (initializer_factor 1): normal
// embeddings and projections scaled by 1/√width, unit LayerNorm gains and
// zero biases, logit_scale = cfg.LogitScaleInit. The same seed gives the
// same weights. They are meant for benchmarks and tests.
func RandomWeights(cfg Config, seed uint64) (Weights, error) {
	if err := cfg.Validate(); err != nil {
		return Weights{}, err
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	normal := func(n int, std float64) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64() * std)
		}
		return s
	}
	fill := func(n int, v float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	layer := func(d, inter, layers int) LayerWeights {
		attn := 1 / math.Sqrt(float64(d))
		deep := attn / math.Sqrt(2*float64(layers))
		return LayerWeights{
			Norm1: NormWeights{fill(d, 1), fill(d, 0)},
			Norm2: NormWeights{fill(d, 1), fill(d, 0)},
			Q:     LinearWeights{normal(d*d, deep), fill(d, 0)},
			K:     LinearWeights{normal(d*d, deep), fill(d, 0)},
			V:     LinearWeights{normal(d*d, deep), fill(d, 0)},
			Out:   LinearWeights{normal(d*d, attn), fill(d, 0)},
			FC1:   LinearWeights{normal(inter*d, 1/math.Sqrt(2*float64(d))), fill(inter, 0)},
			FC2:   LinearWeights{normal(d*inter, deep), fill(d, 0)},
		}
	}
	t, v := cfg.Text, cfg.Vision
	var w Weights
	w.Text.TokenEmbedding = normal(t.VocabSize*t.HiddenSize, 0.02)
	w.Text.PositionEmbedding = normal(t.MaxPositions*t.HiddenSize, 0.01)
	for range t.NumLayers {
		w.Text.Layers = append(w.Text.Layers, layer(t.HiddenSize, t.IntermediateSize, t.NumLayers))
	}
	w.Text.FinalNorm = NormWeights{fill(t.HiddenSize, 1), fill(t.HiddenSize, 0)}
	w.Vision.ClassEmbedding = normal(v.HiddenSize, 1/math.Sqrt(float64(v.HiddenSize)))
	w.Vision.PatchEmbedding = normal(v.HiddenSize*v.NumChannels*v.PatchSize*v.PatchSize, 0.02)
	w.Vision.PositionEmbedding = normal(v.NumPositions()*v.HiddenSize, 0.02)
	w.Vision.PreNorm = NormWeights{fill(v.HiddenSize, 1), fill(v.HiddenSize, 0)}
	for range v.NumLayers {
		w.Vision.Layers = append(w.Vision.Layers, layer(v.HiddenSize, v.IntermediateSize, v.NumLayers))
	}
	w.Vision.PostNorm = NormWeights{fill(v.HiddenSize, 1), fill(v.HiddenSize, 0)}
	w.TextProjection = normal(cfg.ProjectionDim*t.HiddenSize, 1/math.Sqrt(float64(t.HiddenSize)))
	w.VisualProjection = normal(cfg.ProjectionDim*v.HiddenSize, 1/math.Sqrt(float64(v.HiddenSize)))
	w.LogitScale = cfg.LogitScaleInit
	return w, nil
}
