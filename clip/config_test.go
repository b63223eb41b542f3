package clip

import (
	"os"
	"strings"
	"testing"
)

func TestLoadConfigLegacyFull(t *testing.T) {
	c, err := LoadConfig(tinyDir + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Text: TextConfig{VocabSize: 49408, HiddenSize: 64, IntermediateSize: 128, NumLayers: 2, NumHeads: 4,
			MaxPositions: 77, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, BOS: 0, EOS: 2, Pad: 1},
		Vision: VisionConfig{HiddenSize: 64, IntermediateSize: 128, NumLayers: 2, NumHeads: 4, ImageSize: 224,
			PatchSize: 32, NumChannels: 3, HiddenAct: "quick_gelu", LayerNormEps: 1e-5},
		ProjectionDim: 32, LogitScaleInit: 2.6592,
	}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	if !c.Text.LegacyEOS() || c.Vision.NumPositions() != 50 {
		t.Errorf("LegacyEOS %v NumPositions %d", c.Text.LegacyEOS(), c.Vision.NumPositions())
	}
}

func TestParseConfig(t *testing.T) {
	def := DefaultConfig()
	for _, tc := range []struct {
		name string
		json string
		want func(*Config)
	}{
		{"defaults only", `{"model_type":"clip"}`, func(c *Config) {}},
		{"minimal", `{"model_type":"clip","projection_dim":768,
			"text_config":{"hidden_size":768,"num_attention_heads":12,"intermediate_size":3072},
			"vision_config":{"hidden_size":1024,"num_hidden_layers":24,"num_attention_heads":16,"patch_size":14,"intermediate_size":4096}}`,
			func(c *Config) {
				c.ProjectionDim = 768
				c.Text.HiddenSize, c.Text.NumHeads, c.Text.IntermediateSize = 768, 12, 3072
				c.Vision.HiddenSize, c.Vision.NumLayers, c.Vision.NumHeads, c.Vision.PatchSize, c.Vision.IntermediateSize = 1024, 24, 16, 14, 4096
			}},
		{"text_config_dict replaces text_config", `{"model_type":"clip",
			"text_config":{"hidden_size":256,"num_attention_heads":4,"eos_token_id":2},
			"text_config_dict":{"hidden_size":640,"num_attention_heads":10,"hidden_act":"gelu"},
			"vision_config_dict":{"image_size":336,"patch_size":14,"layer_norm_eps":1e-6},
			"logit_scale_init_value":1.5}`,
			func(c *Config) {
				c.Text.HiddenSize, c.Text.NumHeads, c.Text.HiddenAct = 640, 10, "gelu"
				c.Vision.ImageSize, c.Vision.PatchSize, c.Vision.LayerNormEps = 336, 14, 1e-6
				c.LogitScaleInit = 1.5
			}},
		{"null dicts and null token ids", `{"model_type":"clip","text_config":{"bos_token_id":null,"eos_token_id":49407},
			"text_config_dict":null,"vision_config_dict":null}`, func(c *Config) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			want := def
			tc.want(&want)
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDefaultConfigIsViTB32(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Text.LegacyEOS() || c.Vision.NumPositions() != 50 || c.Text.EOS != 49407 || c.Text.BOS != 49406 || c.Text.Pad != 1 {
		t.Errorf("unexpected defaults %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"model_type":"siglip"}`, `unsupported model_type "siglip": Sight supports CLIP (model_type clip)`},
		{`{"model_type":"clip_vision_model"}`, `unsupported model_type "clip_vision_model"`},
		{`{"text_config":{}}`, "missing model_type"},
		{`{"model_type":"clip"`, "parse config"},
		{`{"model_type":"clip","text_config":{"hidden_size":"big"}}`, "hidden_size"},
		{`{"model_type":"clip","text_config":{"hidden_size":500}}`, "text_config.hidden_size 500 is not divisible by text_config.num_attention_heads 8"},
		{`{"model_type":"clip","vision_config":{"num_attention_heads":7}}`, "vision_config.hidden_size 768 is not divisible by vision_config.num_attention_heads 7"},
		{`{"model_type":"clip","vision_config":{"image_size":100}}`, "vision_config.image_size 100 is not divisible by vision_config.patch_size 32"},
		{`{"model_type":"clip","vision_config":{"patch_size":0}}`, "vision_config.patch_size must be positive"},
		{`{"model_type":"clip","text_config":{"num_hidden_layers":-1}}`, "text_config.num_hidden_layers must be positive"},
		{`{"model_type":"clip","projection_dim":0}`, "projection_dim must be positive"},
		{`{"model_type":"clip","text_config":{"vocab_size":100000000}}`, "text_config.vocab_size 100000000 is implausibly large"},
		{`{"model_type":"clip","text_config":{"hidden_act":"swish"}}`, `unsupported text_config.hidden_act "swish"`},
		{`{"model_type":"clip","vision_config":{"hidden_act":"silu"}}`, `unsupported vision_config.hidden_act "silu"`},
		{`{"model_type":"clip","vision_config":{"layer_norm_eps":0}}`, "vision_config.layer_norm_eps must be positive"},
		{`{"model_type":"clip","text_config":{"eos_token_id":50000}}`, "text_config.eos_token_id 50000 is outside the vocabulary"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) error = %v, want it to contain %q", tc.json, err, tc.want)
		}
	}
}

func TestLoadConfigErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/config.json"
	if err := os.WriteFile(path, []byte(`{"model_type":"bert"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"bert"`) {
		t.Errorf("error %v does not name the file and model type", err)
	}
	if _, err := LoadConfig(dir + "/absent.json"); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("missing file: error %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile(tinyDir + "/config.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"model_type":"clip","text_config_dict":{"hidden_size":64,"num_attention_heads":4}}`))
	f.Add([]byte(`{"model_type":"clip","vision_config":{"image_size":0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("ParseConfig accepted an invalid config: %v", err)
			}
		}
	})
}
