package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/clip/tokenizer"
	"github.com/sightsearch/sight/hub"
	"github.com/sightsearch/sight/imageio"
)

// modelFlags are the flags every command that loads a model shares.
type modelFlags struct {
	model     string
	maxPixels int64
	precision string
	warned    bool // the precision warning was printed
}

func (m *modelFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&m.model, "model", def, "CLIP checkpoint: a Hugging Face repo id (downloaded and cached) or a local directory")
	fs.Int64Var(&m.maxPixels, "max-pixels", imageio.DefaultMaxPixels, "refuse images with more pixels than this (decompression bombs)")
	fs.StringVar(&m.precision, "precision", envOr("SIGHT_PRECISION", "fp32"), "the model's arithmetic: fp32 (the reference numbers), or the faster bf16 (~2x) or int8 (~3.5x), whose embeddings keep a cosine >= 0.9995 to fp32's on ViT-B/32 (default $SIGHT_PRECISION, else fp32)")
}

// envOr returns the environment variable name, or def when it is unset or
// empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// encoderOptions are the clip.EncoderOptions the flags ask for.
func (m *modelFlags) encoderOptions(e *env) (clip.EncoderOptions, error) {
	p, err := clip.ParsePrecision(m.precision)
	if err != nil {
		return clip.EncoderOptions{}, usageError{"--precision: " + err.Error()}
	}
	if p != clip.FP32 && !p.Accelerated() && !m.warned {
		m.warned = true // once, however often the options are asked for
		fmt.Fprintf(e.stderr, "warning: --precision %s: this CPU lacks the instructions for it (AVX512_BF16 for bf16, AVX512_VNNI for int8), so it runs on portable kernels, slower than fp32\n", p)
	}
	return clip.EncoderOptions{
		Hub:       m.hubOptions(e),
		Limits:    imageio.Limits{MaxPixels: m.maxPixels},
		Precision: p,
	}, nil
}

func (m *modelFlags) hubOptions(e *env) hub.Options {
	return hub.Options{Progress: e.stderr, Logger: e.log}
}

func (m *modelFlags) open(ctx context.Context, e *env) (*clip.Encoder, error) {
	opts, err := m.encoderOptions(e)
	if err != nil {
		return nil, err
	}
	return clip.OpenEncoder(ctx, m.model, opts)
}

// embedInput is one --text or --image argument, in command-line order.
type embedInput struct {
	kind  string // "text" or "image"
	input string
}

// orderedInputs is a flag.Value that appends inputs of one kind to a shared
// list, so --text and --image keep their relative order.
type orderedInputs struct {
	kind string
	list *[]embedInput
}

func (o orderedInputs) String() string { return "" }

func (o orderedInputs) Set(v string) error {
	*o.list = append(*o.list, embedInput{o.kind, v})
	return nil
}

type embedLine struct {
	Kind      string    `json:"kind"`
	Input     string    `json:"input"`
	Embedding []float32 `json:"embedding"`
}

func runEmbed(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "embed", "[--model M] [--text T]... [--image PATH]... [--normalize]")
	var mf modelFlags
	mf.register(fs, clip.DefaultModel)
	var inputs []embedInput
	fs.Var(orderedInputs{"text", &inputs}, "text", "a text to embed (repeatable)")
	fs.Var(orderedInputs{"image", &inputs}, "image", "an image file to embed (repeatable)")
	normalize := fs.Bool("normalize", false, "L2-normalize the embeddings")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q: use --text or --image", pos[0])}
	}
	if len(inputs) == 0 {
		return usageError{"nothing to embed: give --text and/or --image"}
	}
	enc, err := mf.open(ctx, e)
	if err != nil {
		return err
	}
	// Embed all texts in one batch and the images in batches, then print in
	// the order given.
	var texts []string
	for _, in := range inputs {
		if in.kind == "text" {
			texts = append(texts, in.input)
		}
	}
	textVecs, err := enc.EmbedTexts(ctx, texts)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	jw := json.NewEncoder(out)
	failed := 0
	ti := 0
	for _, in := range inputs {
		var v []float32
		switch in.kind {
		case "text":
			v = textVecs[ti]
			ti++
		case "image":
			data, err := os.ReadFile(in.input)
			if err == nil {
				v, err = enc.EmbedImage(ctx, data)
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed++
				out.Flush()
				fmt.Fprintf(e.stderr, "sight embed: %s: %v\n", in.input, trimPrefix(err, in.input))
				continue
			}
		}
		if *normalize {
			v = append([]float32(nil), v...)
			clip.Normalize(v)
		}
		if err := jw.Encode(embedLine{in.kind, in.input, v}); err != nil {
			return err
		}
	}
	if failed > 0 {
		out.Flush()
		fmt.Fprintf(e.stderr, "sight embed: %d of %d inputs failed\n", failed, len(inputs))
		return exitError{1}
	}
	return nil
}

// trimPrefix drops a leading "path: " from an error message that already
// names the file, so it is not printed twice.
func trimPrefix(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}

func runTokenize(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "tokenize", "[--model M] [--pad] TEXT...")
	var mf modelFlags
	mf.register(fs, clip.DefaultModel)
	pad := fs.Bool("pad", false, "pad to the model's context length and print the attention mask too")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"give a text to tokenize"}
	}
	dir, err := hub.Resolve(ctx, mf.model, mf.hubOptions(e))
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return err
	}
	jw := json.NewEncoder(e.stdout)
	for _, text := range pos {
		ids := tok.Encode(text)
		line := map[string]any{"text": text, "ids": ids}
		if *pad {
			p, mask := tok.Pad(ids)
			line["ids"], line["attention_mask"] = p, mask
		}
		if err := jw.Encode(line); err != nil {
			return err
		}
	}
	return nil
}
