package clip

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/sightsearch/sight/nn"
	"github.com/sightsearch/sight/safetensors"
)

// Model is a CLIP model ready to run. Its methods are safe for concurrent
// use, except SetPrecision and SetTowerPrecision, which must not run
// concurrently with anything else.
//
// The forward passes run on a pool of worker goroutines that the model
// owns (GOMAXPROCS at load; concurrent calls take turns on it), with their
// memory taken from per-call workspaces that are reused: in steady state a
// call allocates only its result.
type Model struct {
	cfg Config

	tokenEmbedding []float32
	textPosition   []float32
	text           encoder
	finalNorm      nn.Norm
	textProj       nn.Linear

	classEmbedding []float32
	patch          nn.Linear // the patch convolution as a [hidden × C·P·P] matrix
	visionPosition []float32
	preNorm        nn.Norm
	vision         encoder
	postNorm       nn.Norm
	visualProj     nn.Linear

	logitScale float32 // stored (log) value

	pool                *nn.Pool
	textPrec, imagePrec Precision
	workspaces          sync.Pool // *workspace
}

// workspace is the memory of one forward pass.
type workspace struct {
	ar   nn.Arena
	ints []int
}

// intsOf returns n ints from the workspace (contents undefined).
func (w *workspace) intsOf(n int) []int {
	if cap(w.ints) < n {
		w.ints = make([]int, n)
	}
	return w.ints[:n]
}

type layer struct {
	norm1, norm2 nn.Norm
	qkv          nn.Linear // q, k and v projections stacked: [3·hidden × hidden]
	out          nn.Linear
	fc1, fc2     nn.Linear
}

type encoder struct {
	layers               []layer
	hidden, inter, heads int
	act                  func([]float32)
}

// poolSpin is how long the model's idle workers spin before parking.
const poolSpin = 100 * time.Microsecond

// Load reads dir/config.json and dir/model.safetensors (a Hugging Face CLIP
// checkpoint directory).
func Load(dir string) (*Model, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	defer f.Close()
	m, err := LoadFromFile(cfg, f)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

// LoadFromFile builds a model of architecture cfg from the tensors in f.
// The weights are copied, so f may be closed afterwards.
func LoadFromFile(cfg Config, f *safetensors.File) (*Model, error) {
	w, err := ReadWeights(cfg, f)
	if err != nil {
		return nil, err
	}
	return New(cfg, w)
}

// NewRandom returns a model of architecture cfg with RandomWeights(cfg,
// seed): for benchmarks and tests without a checkpoint.
func NewRandom(cfg Config, seed uint64) (*Model, error) {
	w, err := RandomWeights(cfg, seed)
	if err != nil {
		return nil, err
	}
	return New(cfg, w)
}

// New builds a model from cfg and w after checking every tensor's size.
// The model keeps references to w's embeddings, biases and norms: do not
// modify them afterwards. The linear layers' weight matrices it packs and
// does not keep (a packed float32 copy is its only copy of those, from
// which SetPrecision derives the other precisions): once the caller drops
// w, their memory is freed, and the model holds about one float32 copy of
// the weights instead of two.
func New(cfg Config, w Weights) (*Model, error) {
	if err := w.check(cfg); err != nil {
		return nil, err
	}
	t, v := cfg.Text, cfg.Vision
	m := &Model{
		cfg:            cfg,
		tokenEmbedding: w.Text.TokenEmbedding,
		textPosition:   w.Text.PositionEmbedding,
		text:           newEncoder(w.Text.Layers, t.HiddenSize, t.IntermediateSize, t.NumHeads, t.HiddenAct, t.LayerNormEps),
		finalNorm:      norm(w.Text.FinalNorm, t.LayerNormEps),
		textProj:       linear(LinearWeights{W: w.TextProjection}, t.HiddenSize, cfg.ProjectionDim),
		classEmbedding: w.Vision.ClassEmbedding,
		patch: linear(LinearWeights{W: w.Vision.PatchEmbedding},
			v.NumChannels*v.PatchSize*v.PatchSize, v.HiddenSize),
		visionPosition: w.Vision.PositionEmbedding,
		preNorm:        norm(w.Vision.PreNorm, v.LayerNormEps),
		vision:         newEncoder(w.Vision.Layers, v.HiddenSize, v.IntermediateSize, v.NumHeads, v.HiddenAct, v.LayerNormEps),
		postNorm:       norm(w.Vision.PostNorm, v.LayerNormEps),
		visualProj:     linear(LinearWeights{W: w.VisualProjection}, v.HiddenSize, cfg.ProjectionDim),
		logitScale:     w.LogitScale,
	}
	m.workspaces.New = func() any { return new(workspace) }
	m.pool = nn.NewPool(0)
	// A forward pass is ~100 parallel loops a few µs apart: the workers
	// spin between them instead of parking (which costs a wake-up of tens
	// of µs each time). The pool stops spinning by itself when the
	// machine has no CPU to spare.
	m.pool.SetSpin(poolSpin)
	// The workers reference only the pool, so an unreachable model can be
	// collected; its workers stop then (or at Close).
	runtime.AddCleanup(m, func(p *nn.Pool) { p.Close() }, m.pool)
	return m, nil
}

// Close stops the model's worker goroutines. The model still works
// afterwards, on the calling goroutine only. Close is idempotent;
// calling it is optional (an unreachable model stops its workers).
func (m *Model) Close() { m.pool.Close() }

func norm(w NormWeights, eps float64) nn.Norm {
	return nn.Norm{Gain: w.Gain, Bias: w.Bias, Eps: float32(eps)}
}

func linear(w LinearWeights, in, out int) nn.Linear {
	l := nn.Linear{W: w.W, B: w.B, In: in, Out: out}
	l.ReleaseW()
	return l
}

func newEncoder(ws []LayerWeights, hidden, inter, heads int, act string, eps float64) encoder {
	f, _ := nn.Activation(act) // validated with the config
	e := encoder{hidden: hidden, inter: inter, heads: heads, act: f}
	for _, w := range ws {
		qkv := LinearWeights{W: slices.Concat(w.Q.W, w.K.W, w.V.W), B: slices.Concat(w.Q.B, w.K.B, w.V.B)}
		e.layers = append(e.layers, layer{
			norm1: norm(w.Norm1, eps),
			norm2: norm(w.Norm2, eps),
			qkv:   linear(qkv, hidden, 3*hidden),
			out:   linear(w.Out, hidden, hidden),
			fc1:   linear(w.FC1, hidden, inter),
			fc2:   linear(w.FC2, inter, hidden),
		})
	}
	return e
}

// Config returns the model's architecture.
func (m *Model) Config() Config { return m.cfg }

// LogitScale returns exp(logit_scale), the factor CLIP applies to cosine
// similarities to get logits.
func (m *Model) LogitScale() float32 { return float32(math.Exp(float64(m.logitScale))) }

// Normalize scales v to unit L2 norm in place (a zero vector stays zero).
func Normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// Trace records the intermediate tensors of a forward pass, one entry per
// input, each row-major [positions × hidden] unless noted.
type Trace struct {
	// Embeddings are the token/patch plus position embeddings, before any
	// normalisation.
	Embeddings [][]float32
	// HiddenStates has NumLayers+1 entries per input: [0] is the encoder
	// input (vision: after pre_layrnorm), [k] the output of layer k.
	HiddenStates [][][]float32
	// LastHidden is the text tower's output after final_layer_norm, or the
	// vision encoder's output (before post_layernorm).
	LastHidden [][]float32
	// Pooled is [hidden] per input: the text at its end token, or
	// post_layernorm of the vision CLS position.
	Pooled [][]float32
}

func (tr *Trace) reset(n int) {
	*tr = Trace{
		Embeddings:   make([][]float32, n),
		HiddenStates: make([][][]float32, n),
		LastHidden:   make([][]float32, n),
		Pooled:       make([][]float32, n),
	}
}

// rowsOf returns copies of the n consecutive blocks of x.
func rowsOf(x []float32, n int) [][]float32 {
	out := make([][]float32, n)
	size := len(x) / max(n, 1)
	for i := range out {
		out[i] = slices.Clone(x[i*size : (i+1)*size])
	}
	return out
}

// forward runs the encoder layers on x [batch·seq × hidden] in place.
// lengths, if not nil, masks padded keys. record, if not nil, is called
// with each layer's output. pooled holds one position per sequence: the
// last layer computes only those rows after attention (the only ones the
// pooled output depends on; attention still reads every key and value),
// and forward returns them as [batch × hidden]. With record, the last
// layer also runs on every row for the record (the returned rows still
// come from the pooled-only computation, so a trace does not change the
// result). It stops early with ctx's error.
func (e *encoder) forward(ctx context.Context, p *nn.Pool, ar *nn.Arena, x []float32, batch, seq int, causal bool, lengths, pooled []int, record func([]float32)) ([]float32, error) {
	rows, d := batch*seq, e.hidden
	h := ar.Alloc(rows * d)
	qkv := ar.Alloc(rows * 3 * d)
	att := ar.Alloc(rows * d)
	mlp := ar.Alloc(rows * e.inter)
	shape := nn.AttentionShape{Batch: batch, Seq: seq, Heads: e.heads, HeadDim: d / e.heads,
		Stride: 3 * d, Causal: causal, Lengths: lengths}
	xp := ar.Alloc(batch * d)
	pending := false // h holds the last MLP output, not yet added to x
	for i := range e.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l := &e.layers[i]
		if pending {
			l.norm1.AddForward(h, x, h, rows, p)
		} else {
			l.norm1.Forward(h, x, rows, p)
		}
		pending = false
		l.qkv.Forward(qkv, h, rows, p)
		if i == len(e.layers)-1 {
			for b, q := range pooled {
				copy(xp[b*d:(b+1)*d], x[(b*seq+q)*d:])
			}
			qs := shape
			qs.Query = pooled
			nn.Attention(att, qkv, qkv[d:], qkv[2*d:], qs, p)
			e.mlp(p, l, xp, h, att, mlp, batch)
			nn.Add(xp, h[:batch*d])
			if record == nil {
				break
			}
		}
		nn.Attention(att, qkv, qkv[d:], qkv[2*d:], shape, p)
		e.mlp(p, l, x, h, att, mlp, rows)
		if record != nil {
			nn.Add(x[:rows*d], h)
			record(x)
		} else {
			pending = true
		}
	}
	return xp, nil
}

// mlp continues a layer on rows of x: the attention output projection of
// att and its residual, then the MLP block, whose output it leaves in h
// (the caller adds that residual). mlp is scratch.
func (e *encoder) mlp(p *nn.Pool, l *layer, x, h, att, mlp []float32, rows int) {
	l.out.Forward(h, att, rows, p)
	l.norm2.AddForward(h, x, h, rows, p)
	l.fc1.Forward(mlp, h, rows, p)
	p.Apply(mlp[:rows*e.inter], e.act)
	l.fc2.Forward(h, mlp, rows, p)
}

func (m *Model) workspace() *workspace {
	w := m.workspaces.Get().(*workspace)
	w.ar.Reset()
	return w
}

// TextFeatures returns the projected (not normalised) text embedding of
// each token sequence, like transformers' get_text_features. Each sequence
// holds token ids including the begin and end tokens, unpadded, at most
// MaxPositions long. The batch runs only up to its longest sequence.
func (m *Model) TextFeatures(ids [][]int) ([][]float32, error) {
	return m.TextForward(context.Background(), ids, nil, nil)
}

// TextForward is TextFeatures with cancellation, Hugging Face's
// attention_mask and an optional trace. mask, if not nil, gives each
// sequence's mask (1 for real tokens, then 0 for padding, the same length
// as the sequence); padded keys are masked in attention. Sequences shorter than the batch's longest
// are padded internally (and masked). The text is pooled at the first end
// token (eos_token_id), or, for legacy configs with eos_token_id 2, at the
// largest id, as transformers does; a sequence without an end token is
// pooled at position 0, again as transformers does.
func (m *Model) TextForward(ctx context.Context, ids [][]int, mask [][]int, trace *Trace) ([][]float32, error) {
	tc := m.cfg.Text
	if mask != nil && len(mask) != len(ids) {
		return nil, fmt.Errorf("text: %d attention masks for %d sequences", len(mask), len(ids))
	}
	batch := len(ids)
	if trace != nil {
		trace.reset(batch)
	}
	if batch == 0 {
		return [][]float32{}, nil
	}
	ws := m.workspace()
	defer m.workspaces.Put(ws)
	ar := &ws.ar
	seq := 0
	ints := ws.intsOf(2 * batch)
	lengths, pool := ints[:batch], ints[batch:]
	padded := false
	for r, row := range ids {
		if len(row) == 0 || len(row) > tc.MaxPositions {
			return nil, fmt.Errorf("text: sequence %d has %d tokens, want 1 to %d", r, len(row), tc.MaxPositions)
		}
		for p, id := range row {
			if id < 0 || id >= tc.VocabSize {
				return nil, fmt.Errorf("text: sequence %d position %d: token id %d outside the vocabulary (size %d)", r, p, id, tc.VocabSize)
			}
		}
		lengths[r] = len(row)
		if mask != nil {
			n, err := maskLength(mask[r], len(row))
			if err != nil {
				return nil, fmt.Errorf("text: attention mask %d: %w", r, err)
			}
			if n < len(row) {
				padded = true
			}
			lengths[r] = n
		}
		seq = max(seq, len(row))
		pool[r] = m.poolPosition(row)
	}
	for r := range ids {
		if len(ids[r]) < seq {
			padded = true
		}
	}
	if !padded {
		lengths = nil
	}

	d := tc.HiddenSize
	x := ar.Alloc(batch * seq * d)
	for r, row := range ids {
		for p := 0; p < seq; p++ {
			id := tc.EOS // internal padding: masked, and never pooled
			if p < len(row) {
				id = row[p]
			}
			dst := x[(r*seq+p)*d : (r*seq+p+1)*d]
			tok := m.tokenEmbedding[id*d : (id+1)*d]
			pos := m.textPosition[p*d : (p+1)*d]
			for i := range dst {
				dst[i] = tok[i] + pos[i]
			}
		}
	}
	var record func([]float32)
	if trace != nil {
		trace.Embeddings = rowsOf(x, batch)
		for r := range batch {
			trace.HiddenStates[r] = [][]float32{slices.Clone(x[r*seq*d : (r+1)*seq*d])}
		}
		record = func(x []float32) {
			for r := range batch {
				trace.HiddenStates[r] = append(trace.HiddenStates[r], slices.Clone(x[r*seq*d:(r+1)*seq*d]))
			}
		}
	}
	pooled, err := m.text.forward(ctx, m.pool, ar, x, batch, seq, true, lengths, pool, record)
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	m.finalNorm.Forward(pooled, pooled, batch, m.pool)
	if trace != nil {
		m.finalNorm.Forward(x, x, batch*seq, m.pool)
		trace.LastHidden = rowsOf(x, batch)
		trace.Pooled = make([][]float32, batch)
		for r := range batch {
			trace.Pooled[r] = slices.Clone(x[(r*seq+pool[r])*d : (r*seq+pool[r]+1)*d])
		}
	}
	out := make([]float32, batch*m.cfg.ProjectionDim)
	m.textProj.Forward(out, pooled, batch, m.pool)
	return split(out, batch), nil
}

// maskLength checks that mask is n entries of 1s followed by 0s (at least
// one 1) and returns the number of 1s.
func maskLength(mask []int, n int) (int, error) {
	if len(mask) != n {
		return 0, fmt.Errorf("has %d entries for %d tokens", len(mask), n)
	}
	ones := 0
	for ones < n && mask[ones] == 1 {
		ones++
	}
	for p := ones; p < n; p++ {
		if mask[p] != 0 {
			return 0, fmt.Errorf("position %d: want 1s followed by 0s (right padding), got %d", p, mask[p])
		}
	}
	if ones == 0 {
		return 0, fmt.Errorf("masks every token")
	}
	return ones, nil
}

// poolPosition returns where transformers' CLIPTextTransformer pools row.
func (m *Model) poolPosition(row []int) int {
	if m.cfg.Text.LegacyEOS() {
		best := 0
		for p, id := range row {
			if id > row[best] {
				best = p
			}
		}
		return best
	}
	for p, id := range row {
		if id == m.cfg.Text.EOS {
			return p
		}
	}
	return 0
}

// split returns n slices sharing out, one per consecutive block.
func split(out []float32, n int) [][]float32 {
	rows := make([][]float32, n)
	size := len(out) / n
	for i := range rows {
		rows[i] = out[i*size : (i+1)*size : (i+1)*size]
	}
	return rows
}

// ImageFeatures returns the projected (not normalised) image embedding of
// each preprocessed image, like transformers' get_image_features. Each
// image is [NumChannels × ImageSize × ImageSize] channel-first float32.
func (m *Model) ImageFeatures(pixels [][]float32) ([][]float32, error) {
	return m.ImageForward(context.Background(), pixels, nil)
}

// ImageForward is ImageFeatures with cancellation and an optional trace.
func (m *Model) ImageForward(ctx context.Context, pixels [][]float32, trace *Trace) ([][]float32, error) {
	vc := m.cfg.Vision
	batch := len(pixels)
	if trace != nil {
		trace.reset(batch)
	}
	if batch == 0 {
		return [][]float32{}, nil
	}
	c, s, p := vc.NumChannels, vc.ImageSize, vc.PatchSize
	for i, px := range pixels {
		if len(px) != c*s*s {
			return nil, fmt.Errorf("image %d: %d values, want %d×%d×%d = %d", i, len(px), c, s, s, c*s*s)
		}
	}
	ws := m.workspace()
	defer m.workspaces.Put(ws)
	ar := &ws.ar

	// im2col: one row per patch, in the weight's [C, P, P] order.
	g := s / p
	np := g * g
	k := c * p * p
	patches := ar.Alloc(batch * np * k)
	for b, px := range pixels {
		for gy := 0; gy < g; gy++ {
			for gx := 0; gx < g; gx++ {
				dst := patches[(b*np+gy*g+gx)*k : (b*np+gy*g+gx+1)*k]
				for ch := 0; ch < c; ch++ {
					for py := 0; py < p; py++ {
						src := px[ch*s*s+(gy*p+py)*s+gx*p:]
						copy(dst[(ch*p+py)*p:(ch*p+py+1)*p], src[:p])
					}
				}
			}
		}
	}
	d := vc.HiddenSize
	pe := ar.Alloc(batch * np * d)
	m.patch.Forward(pe, patches, batch*np, m.pool)

	seq := np + 1
	x := ar.Alloc(batch * seq * d)
	for b := range batch {
		for q := 0; q < seq; q++ {
			src := m.classEmbedding
			if q > 0 {
				src = pe[(b*np+q-1)*d : (b*np+q)*d]
			}
			dst := x[(b*seq+q)*d : (b*seq+q+1)*d]
			pos := m.visionPosition[q*d : (q+1)*d]
			for i := range dst {
				dst[i] = src[i] + pos[i]
			}
		}
	}
	var record func([]float32)
	if trace != nil {
		trace.Embeddings = rowsOf(x, batch)
	}
	m.preNorm.Forward(x, x, batch*seq, m.pool)
	if trace != nil {
		for b := range batch {
			trace.HiddenStates[b] = [][]float32{slices.Clone(x[b*seq*d : (b+1)*seq*d])}
		}
		record = func(x []float32) {
			for b := range batch {
				trace.HiddenStates[b] = append(trace.HiddenStates[b], slices.Clone(x[b*seq*d:(b+1)*seq*d]))
			}
		}
	}
	cls := ws.intsOf(batch) // the class position is pooled
	clear(cls)
	pooled, err := m.vision.forward(ctx, m.pool, ar, x, batch, seq, false, nil, cls, record)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	m.postNorm.Forward(pooled, pooled, batch, m.pool)
	if trace != nil {
		trace.LastHidden = rowsOf(x, batch)
		full := ar.Alloc(batch * d)
		for b := range batch {
			copy(full[b*d:(b+1)*d], x[b*seq*d:])
		}
		m.postNorm.Forward(full, full, batch, m.pool)
		trace.Pooled = rowsOf(full, batch)
	}
	out := make([]float32, batch*m.cfg.ProjectionDim)
	m.visualProj.Forward(out, pooled, batch, m.pool)
	return split(out, batch), nil
}
