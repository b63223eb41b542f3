package clip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/sightsearch/sight/clip/tokenizer"
	"github.com/sightsearch/sight/hub"
	"github.com/sightsearch/sight/imageio"
)

// DefaultModel is the checkpoint Sight uses when none is named: the model
// behind sentence-transformers' clip-ViT-B-32.
const DefaultModel = "openai/clip-vit-base-patch32"

// Encoder turns texts and image files into CLIP embeddings: it bundles a
// checkpoint's model, tokenizer and image preprocessing. It is safe for
// concurrent use.
type Encoder struct {
	Model     *Model
	Tokenizer *tokenizer.Tokenizer
	Processor imageio.ProcessorConfig
	// Name identifies the checkpoint: the Hub repo id, or the directory.
	Name string
	// Fingerprint changes whenever the checkpoint's weights or configuration
	// change; libraries store it to never mix vectors of two models.
	Fingerprint string
	// Limits bounds decoded image sizes.
	Limits imageio.Limits
	// FastDecode makes Decode use imageio.DecodeReduced: large JPEGs are
	// decoded at 1/2, 1/4 or 1/8 size in the DCT domain, keeping a short
	// side of at least DecodeMargin times the model's input size (see
	// DecodeMinSide). With the default margin a 12-megapixel photo is
	// decoded at 1/8 size (375 pixels for a 224-pixel model, as Pillow's
	// draft mode and libvips' shrink-on-load would), in about a tenth of
	// the CPU time of a full decode; with DecodeMargin 2 at 1/4 size.
	// Embeddings differ slightly from the reference pipeline: see
	// TestFastDecodeMargin for the cosines at each margin. Off by default.
	FastDecode bool
	// DecodeMargin is how many times the model's input size a reduced
	// decode keeps of the short side (FastDecode only); 0 means
	// DefaultDecodeMargin.
	DecodeMargin float64
	dir          string
	stats        encoderStats
}

type encoderStats struct {
	images, texts         atomic.Int64
	imageNanos, textNanos atomic.Int64
}

// EncoderStats counts the work an Encoder has done.
type EncoderStats struct {
	Images, Texts             int64
	ImageSeconds, TextSeconds float64
}

// Stats returns the counts of embedded images and texts and the time spent
// in each tower.
func (e *Encoder) Stats() EncoderStats {
	return EncoderStats{Images: e.stats.images.Load(), Texts: e.stats.texts.Load(),
		ImageSeconds: float64(e.stats.imageNanos.Load()) / 1e9, TextSeconds: float64(e.stats.textNanos.Load()) / 1e9}
}

// EncoderOptions configures [OpenEncoder].
type EncoderOptions struct {
	Hub    hub.Options
	Limits imageio.Limits
	// FastDecode sets Encoder.FastDecode: reduced-size JPEG decoding,
	// faster but not bit-exact with the reference preprocessing.
	FastDecode bool
	// DecodeMargin sets Encoder.DecodeMargin.
	DecodeMargin float64
	// Precision is the model's precision (Model.SetPrecision): FP32, the
	// default, gives the reference embeddings; BF16 and Int8 are faster
	// and keep a cosine of at least 0.9995 to them on a full-size model
	// (see BENCHMARKS.md).
	Precision Precision
}

// OpenEncoder loads the checkpoint named by model: a local directory in
// Hugging Face layout, or a Hub repository id (downloaded into the cache on
// first use).
func OpenEncoder(ctx context.Context, model string, opts EncoderOptions) (*Encoder, error) {
	if model == "" {
		model = DefaultModel
	}
	dir, err := hub.Resolve(ctx, model, opts.Hub)
	if err != nil {
		return nil, err
	}
	// The cheap checks first: quantising a model takes a while.
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	pc, err := imageio.LoadProcessorConfig(filepath.Join(dir, "preprocessor_config.json"))
	if err != nil {
		return nil, err
	}
	fp, err := fingerprint(dir)
	if err != nil {
		return nil, err
	}
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if opts.Precision != FP32 {
		if err := m.SetPrecision(opts.Precision); err != nil {
			m.Close()
			return nil, err
		}
	}
	name := model
	if st, err := os.Stat(model); err == nil && st.IsDir() {
		if abs, err := filepath.Abs(model); err == nil {
			name = abs
		}
	}
	return &Encoder{Model: m, Tokenizer: tok, Processor: pc, Name: name, Fingerprint: fp, Limits: opts.Limits,
		FastDecode: opts.FastDecode, DecodeMargin: opts.DecodeMargin, dir: dir}, nil
}

// fingerprint hashes the configuration files and the safetensors header and
// size: enough to tell checkpoints apart without reading gigabytes.
func fingerprint(dir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"config.json", "preprocessor_config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", dir, err)
		}
		h.Write(b)
	}
	f, err := os.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "size=%d", st.Size())
	if _, err := io.CopyN(h, f, 1<<20); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("fingerprint %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Dim returns the embedding dimension.
func (e *Encoder) Dim() int { return e.Model.Config().ProjectionDim }

// Dir returns the checkpoint's local directory.
func (e *Encoder) Dir() string { return e.dir }

// textBatch is how many texts go through the text tower at once.
const textBatch = 32

// EmbedTexts returns the projected text features (as get_text_features
// gives them: not normalised) of texts, in order.
func (e *Encoder) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += textBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+textBatch, len(texts))
		ids := e.Tokenizer.EncodeBatch(texts[start:end])
		t0 := time.Now()
		v, err := e.Model.TextFeatures(ids)
		if err != nil {
			return nil, err
		}
		e.stats.textNanos.Add(int64(time.Since(t0)))
		e.stats.texts.Add(int64(len(v)))
		out = append(out, v...)
	}
	return out, nil
}

// DefaultDecodeMargin is the DecodeMargin used when none is set: a reduced
// decode keeps at least 1.5 times the model's input size, so that images
// barely larger than the input are not reduced at all (a 512-pixel photo
// halved to 256 pixels for a 224-pixel model would lose more than it saves).
const DefaultDecodeMargin = 1.5

// Decode decodes an image file's bytes to upright RGB, refusing images over
// the encoder's pixel limit. With FastDecode the image may come out reduced
// (see imageio.DecodeReduced); Info always has the original size.
func (e *Encoder) Decode(data []byte) (*imageio.RGB, imageio.Info, error) {
	if e.FastDecode {
		m := e.DecodeMargin
		if !(m > 0) || math.IsInf(m, 1) { // 0, negative, NaN, +Inf
			m = DefaultDecodeMargin
		}
		return imageio.DecodeReduced(data, e.Limits, int(math.Ceil(float64(e.DecodeMinSide())*m)))
	}
	return imageio.Decode(data, e.Limits)
}

// DecodeMinSide is the short side a decoded image needs for the processor's
// resize to lose nothing: the shortest-edge target, or for an explicit
// height x width resize the larger of the two. It is 0 (no reduction) when
// the processor does not resize.
func (e *Encoder) DecodeMinSide() int {
	p := e.Processor
	switch {
	case !p.DoResize:
		return 0
	case p.ShortestEdge > 0:
		return p.ShortestEdge
	}
	return max(p.Height, p.Width)
}

// Pixels preprocesses a decoded image into the model's input tensor.
func (e *Encoder) Pixels(img *imageio.RGB) []float32 {
	return e.Processor.Preprocess(img, nil)
}

// EmbedPixels returns the projected image features of preprocessed images.
func (e *Encoder) EmbedPixels(ctx context.Context, pixels [][]float32) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	v, err := e.Model.ImageFeatures(pixels)
	if err != nil {
		return nil, err
	}
	e.stats.imageNanos.Add(int64(time.Since(t0)))
	e.stats.images.Add(int64(len(v)))
	return v, nil
}

// EmbedImage decodes, preprocesses and embeds one image file's bytes.
func (e *Encoder) EmbedImage(ctx context.Context, data []byte) ([]float32, error) {
	img, _, err := e.Decode(data)
	if err != nil {
		return nil, err
	}
	v, err := e.EmbedPixels(ctx, [][]float32{e.Pixels(img)})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}
