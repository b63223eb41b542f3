package clip

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/sightsearch/sight/nn"
)

// Config is a CLIP model's architecture, as in Hugging Face's CLIPConfig.
type Config struct {
	Text           TextConfig
	Vision         VisionConfig
	ProjectionDim  int     // width of the shared embedding space
	LogitScaleInit float32 // logit_scale_init_value (the checkpoint's logit_scale is what is used)
}

// TextConfig is the text tower's architecture (CLIPTextConfig).
type TextConfig struct {
	VocabSize        int
	HiddenSize       int
	IntermediateSize int
	NumLayers        int
	NumHeads         int
	MaxPositions     int
	HiddenAct        string
	LayerNormEps     float64
	// BOS, EOS and Pad are the special token ids the config declares. An
	// EOS of 2 marks a legacy config: the text is then pooled at the
	// largest id (argmax of the ids), otherwise at the first EOS.
	BOS, EOS, Pad int
}

// VisionConfig is the vision tower's architecture (CLIPVisionConfig).
type VisionConfig struct {
	HiddenSize       int
	IntermediateSize int
	NumLayers        int
	NumHeads         int
	ImageSize        int
	PatchSize        int
	NumChannels      int
	HiddenAct        string
	LayerNormEps     float64
}

// DefaultConfig returns transformers' CLIPConfig defaults, which describe
// openai/clip-vit-base-patch32 (ViT-B/32).
func DefaultConfig() Config {
	return Config{
		Text: TextConfig{
			VocabSize:        49408,
			HiddenSize:       512,
			IntermediateSize: 2048,
			NumLayers:        12,
			NumHeads:         8,
			MaxPositions:     77,
			HiddenAct:        "quick_gelu",
			LayerNormEps:     1e-5,
			BOS:              49406,
			EOS:              49407,
			Pad:              1,
		},
		Vision: VisionConfig{
			HiddenSize:       768,
			IntermediateSize: 3072,
			NumLayers:        12,
			NumHeads:         12,
			ImageSize:        224,
			PatchSize:        32,
			NumChannels:      3,
			HiddenAct:        "quick_gelu",
			LayerNormEps:     1e-5,
		},
		ProjectionDim:  512,
		LogitScaleInit: 2.6592,
	}
}

// NumPatches returns the number of image patches ((ImageSize/PatchSize)²).
func (v VisionConfig) NumPatches() int {
	g := v.ImageSize / v.PatchSize
	return g * g
}

// NumPositions returns the vision sequence length: the patches plus CLS.
func (v VisionConfig) NumPositions() int { return v.NumPatches() + 1 }

// LegacyEOS reports whether the text tower pools at argmax(ids) because
// the config carries the legacy eos_token_id 2 (transformers' rule).
func (t TextConfig) LegacyEOS() bool { return t.EOS == 2 }

// LoadConfig reads and validates a Hugging Face CLIP config.json.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

type rawText struct {
	VocabSize        *int     `json:"vocab_size"`
	HiddenSize       *int     `json:"hidden_size"`
	IntermediateSize *int     `json:"intermediate_size"`
	NumLayers        *int     `json:"num_hidden_layers"`
	NumHeads         *int     `json:"num_attention_heads"`
	MaxPositions     *int     `json:"max_position_embeddings"`
	HiddenAct        *string  `json:"hidden_act"`
	LayerNormEps     *float64 `json:"layer_norm_eps"`
	BOS              *int     `json:"bos_token_id"`
	EOS              *int     `json:"eos_token_id"`
	Pad              *int     `json:"pad_token_id"`
}

type rawVision struct {
	HiddenSize       *int     `json:"hidden_size"`
	IntermediateSize *int     `json:"intermediate_size"`
	NumLayers        *int     `json:"num_hidden_layers"`
	NumHeads         *int     `json:"num_attention_heads"`
	ImageSize        *int     `json:"image_size"`
	PatchSize        *int     `json:"patch_size"`
	NumChannels      *int     `json:"num_channels"`
	HiddenAct        *string  `json:"hidden_act"`
	LayerNormEps     *float64 `json:"layer_norm_eps"`
}

type rawConfig struct {
	ModelType      *string    `json:"model_type"`
	Text           *rawText   `json:"text_config"`
	TextDict       *rawText   `json:"text_config_dict"`
	Vision         *rawVision `json:"vision_config"`
	VisionDict     *rawVision `json:"vision_config_dict"`
	ProjectionDim  *int       `json:"projection_dim"`
	LogitScaleInit *float64   `json:"logit_scale_init_value"`
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// ParseConfig parses and validates the JSON of a Hugging Face CLIP
// config.json. Absent fields take transformers' defaults (DefaultConfig).
// Both layouts are accepted: text_config / vision_config, and the legacy
// text_config_dict / vision_config_dict, which, as in transformers,
// replace text_config / vision_config when present.
func ParseConfig(data []byte) (Config, error) {
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	if r.ModelType == nil {
		return Config{}, fmt.Errorf("config: missing model_type: Sight supports CLIP (model_type clip)")
	}
	if *r.ModelType != "clip" {
		return Config{}, fmt.Errorf("config: unsupported model_type %q: Sight supports CLIP (model_type clip)", *r.ModelType)
	}
	c := DefaultConfig()
	t := r.Text
	if r.TextDict != nil {
		t = r.TextDict
	}
	if t != nil {
		set(&c.Text.VocabSize, t.VocabSize)
		set(&c.Text.HiddenSize, t.HiddenSize)
		set(&c.Text.IntermediateSize, t.IntermediateSize)
		set(&c.Text.NumLayers, t.NumLayers)
		set(&c.Text.NumHeads, t.NumHeads)
		set(&c.Text.MaxPositions, t.MaxPositions)
		set(&c.Text.HiddenAct, t.HiddenAct)
		set(&c.Text.LayerNormEps, t.LayerNormEps)
		set(&c.Text.BOS, t.BOS)
		set(&c.Text.EOS, t.EOS)
		set(&c.Text.Pad, t.Pad)
	}
	v := r.Vision
	if r.VisionDict != nil {
		v = r.VisionDict
	}
	if v != nil {
		set(&c.Vision.HiddenSize, v.HiddenSize)
		set(&c.Vision.IntermediateSize, v.IntermediateSize)
		set(&c.Vision.NumLayers, v.NumLayers)
		set(&c.Vision.NumHeads, v.NumHeads)
		set(&c.Vision.ImageSize, v.ImageSize)
		set(&c.Vision.PatchSize, v.PatchSize)
		set(&c.Vision.NumChannels, v.NumChannels)
		set(&c.Vision.HiddenAct, v.HiddenAct)
		set(&c.Vision.LayerNormEps, v.LayerNormEps)
	}
	set(&c.ProjectionDim, r.ProjectionDim)
	if r.LogitScaleInit != nil {
		c.LogitScaleInit = float32(*r.LogitScaleInit)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks that the sizes are positive and consistent and that the
// activations are known; the error names the offending field.
func (c Config) Validate() error {
	type field struct {
		name string
		v    int
	}
	for _, f := range []field{
		{"text_config.vocab_size", c.Text.VocabSize},
		{"text_config.hidden_size", c.Text.HiddenSize},
		{"text_config.intermediate_size", c.Text.IntermediateSize},
		{"text_config.num_hidden_layers", c.Text.NumLayers},
		{"text_config.num_attention_heads", c.Text.NumHeads},
		{"text_config.max_position_embeddings", c.Text.MaxPositions},
		{"vision_config.hidden_size", c.Vision.HiddenSize},
		{"vision_config.intermediate_size", c.Vision.IntermediateSize},
		{"vision_config.num_hidden_layers", c.Vision.NumLayers},
		{"vision_config.num_attention_heads", c.Vision.NumHeads},
		{"vision_config.image_size", c.Vision.ImageSize},
		{"vision_config.patch_size", c.Vision.PatchSize},
		{"vision_config.num_channels", c.Vision.NumChannels},
		{"projection_dim", c.ProjectionDim},
	} {
		if f.v <= 0 {
			return fmt.Errorf("config: %s must be positive, got %d", f.name, f.v)
		}
		// Keep every tensor size well inside int range on 32-bit targets.
		if f.v > 1<<20 {
			return fmt.Errorf("config: %s %d is implausibly large", f.name, f.v)
		}
	}
	if c.Text.HiddenSize%c.Text.NumHeads != 0 {
		return fmt.Errorf("config: text_config.hidden_size %d is not divisible by text_config.num_attention_heads %d",
			c.Text.HiddenSize, c.Text.NumHeads)
	}
	if c.Vision.HiddenSize%c.Vision.NumHeads != 0 {
		return fmt.Errorf("config: vision_config.hidden_size %d is not divisible by vision_config.num_attention_heads %d",
			c.Vision.HiddenSize, c.Vision.NumHeads)
	}
	if c.Vision.ImageSize%c.Vision.PatchSize != 0 {
		return fmt.Errorf("config: vision_config.image_size %d is not divisible by vision_config.patch_size %d",
			c.Vision.ImageSize, c.Vision.PatchSize)
	}
	if _, ok := nn.Activation(c.Text.HiddenAct); !ok {
		return fmt.Errorf("config: unsupported text_config.hidden_act %q (want quick_gelu, gelu, gelu_new, gelu_pytorch_tanh or relu)", c.Text.HiddenAct)
	}
	if _, ok := nn.Activation(c.Vision.HiddenAct); !ok {
		return fmt.Errorf("config: unsupported vision_config.hidden_act %q (want quick_gelu, gelu, gelu_new, gelu_pytorch_tanh or relu)", c.Vision.HiddenAct)
	}
	for _, e := range []struct {
		name string
		v    float64
	}{{"text_config.layer_norm_eps", c.Text.LayerNormEps}, {"vision_config.layer_norm_eps", c.Vision.LayerNormEps}} {
		if !(e.v > 0) || math.IsInf(e.v, 0) {
			return fmt.Errorf("config: %s must be positive, got %g", e.name, e.v)
		}
	}
	if c.Text.EOS < 0 || c.Text.EOS >= c.Text.VocabSize {
		return fmt.Errorf("config: text_config.eos_token_id %d is outside the vocabulary (size %d)", c.Text.EOS, c.Text.VocabSize)
	}
	return nil
}
