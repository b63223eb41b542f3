package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/index/indexbench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"bench what? sight bench embed | sight bench index | sight bench store"}
	}
	switch args[0] {
	case "embed":
		return runBenchEmbed(ctx, e, args[1:])
	case "index":
		return runBenchIndex(ctx, e, args[1:])
	case "store":
		return runBenchStore(ctx, e, args[1:])
	}
	return usageError{fmt.Sprintf("unknown benchmark %q: use embed, index or store", args[0])}
}

// benchRow is one line of `sight bench embed --json`. The field names are
// a stable interface: figures are compared from outside the project.
type benchRow struct {
	Tower     string  `json:"tower"`
	Batch     int     `json:"batch"`
	Tokens    int     `json:"tokens,omitempty"`
	PerSecond float64 `json:"per_second"`
	LatencyMS float64 `json:"latency_ms"`
	GFLOPS    float64 `json:"gflops"`
	Precision string  `json:"precision"`
	Runs      int     `json:"runs"`
}

func runBenchEmbed(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench embed", "[--model DIR|REPO] [--json] [--batches 1,8,32] [--seconds 3]")
	model := fs.String("model", "", "checkpoint to measure (default: a full-size ViT-B/32 with deterministic random weights, built in memory)")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	batches := fs.String("batches", "1,8,32", "image batch sizes")
	seconds := fs.Float64("seconds", 3, "measuring time per row (after one warm-up run)")
	runs := fs.Int("runs", 5, "repeat each row this many times and report the median")
	textOnly := fs.Bool("text-only", false, "measure only the text tower")
	imageOnly := fs.Bool("image-only", false, "measure only the image tower")
	precisions := fs.String("precision", "fp32", "comma-separated precisions to measure: fp32, bf16, int8 (reduced ones are opt-in; see BENCHMARKS.md for their accuracy)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	var bs []int
	for _, s := range strings.Split(*batches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return usageError{fmt.Sprintf("bad --batches entry %q", s)}
		}
		bs = append(bs, n)
	}
	var m *clip.Model
	if *model == "" {
		var err error
		if m, err = clip.NewRandom(clip.DefaultConfig(), 1); err != nil {
			return err
		}
	} else {
		enc, err := clip.OpenEncoder(ctx, *model, clip.EncoderOptions{Hub: (&modelFlags{}).hubOptions(e)})
		if err != nil {
			return err
		}
		m = enc.Model
	}
	var precs []clip.Precision
	for _, s := range strings.Split(*precisions, ",") {
		p, err := clip.ParsePrecision(strings.TrimSpace(s))
		if err != nil {
			return usageError{err.Error()}
		}
		precs = append(precs, p)
	}
	cfg := m.Config()
	imgFlops := imageFLOPs(cfg)
	var rows []benchRow
	emit := func(r benchRow) error {
		rows = append(rows, r)
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(r)
		}
		return nil
	}
	measure := func(work func() error) (perRun time.Duration, n int, err error) {
		if err := work(); err != nil { // warm-up: buffers, caches
			return 0, 0, err
		}
		var samples []time.Duration
		for r := 0; r < *runs; r++ {
			deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second) / float64(*runs)))
			start := time.Now()
			k := 0
			for k == 0 || time.Now().Before(deadline) {
				if err := ctx.Err(); err != nil {
					return 0, 0, err
				}
				if err := work(); err != nil {
					return 0, 0, err
				}
				k++
			}
			samples = append(samples, time.Since(start)/time.Duration(k))
			n += k
		}
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		return samples[len(samples)/2], n, nil
	}
	for _, prec := range precs {
		if err := m.SetPrecision(prec); err != nil {
			return err
		}
		pname := prec.String()
		rng := rand.New(rand.NewPCG(1, 2))
		if !*textOnly {
			size := cfg.Vision.ImageSize
			for _, b := range bs {
				pix := make([][]float32, b)
				for i := range pix {
					pix[i] = make([]float32, 3*size*size)
					for j := range pix[i] {
						pix[i][j] = float32(rng.NormFloat64())
					}
				}
				d, n, err := measure(func() error { _, err := m.ImageFeatures(pix); return err })
				if err != nil {
					return err
				}
				perSec := float64(b) / d.Seconds()
				if err := emit(benchRow{Tower: "image", Batch: b, PerSecond: perSec, LatencyMS: ms(d),
					GFLOPS: perSec * imgFlops / 1e9, Precision: pname, Runs: n}); err != nil {
					return err
				}
			}
		}
		if !*imageOnly {
			for _, tc := range []struct{ batch, tokens int }{{1, 10}, {32, cfg.Text.MaxPositions}} {
				ids := make([][]int, tc.batch)
				for i := range ids {
					ids[i] = make([]int, tc.tokens)
					ids[i][0] = cfg.Text.BOS
					for j := 1; j < tc.tokens-1; j++ {
						ids[i][j] = 1000 + rng.IntN(cfg.Text.VocabSize-2000)
					}
					ids[i][tc.tokens-1] = cfg.Text.EOS
				}
				d, n, err := measure(func() error { _, err := m.TextFeatures(ids); return err })
				if err != nil {
					return err
				}
				perSec := float64(tc.batch) / d.Seconds()
				if err := emit(benchRow{Tower: "text", Batch: tc.batch, Tokens: tc.tokens, PerSecond: perSec, LatencyMS: ms(d),
					GFLOPS: perSec * textFLOPs(cfg, tc.tokens) / 1e9, Precision: pname, Runs: n}); err != nil {
					return err
				}
			}
		}
	}
	if *asJSON {
		return nil
	}
	name := *model
	if name == "" {
		name = "ViT-B/32 architecture, random weights"
	}
	fmt.Fprintf(e.stdout, "model: %s; GOMAXPROCS=%d; median of %d runs\n", name, runtime.GOMAXPROCS(0), *runs)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tower\tbatch\ttokens\tper second\tlatency ms\tGFLOP/s\tprecision\t")
	for _, r := range rows {
		tok := ""
		if r.Tokens > 0 {
			tok = strconv.Itoa(r.Tokens)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.2f\t%.2f\t%.1f\t%s\t\n", r.Tower, r.Batch, tok, r.PerSecond, r.LatencyMS, r.GFLOPS, r.Precision)
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// encoderFLOPs counts the multiply-adds (×2) of one transformer encoder pass
// over seq positions.
func encoderFLOPs(layers, seq, hidden, inter int) float64 {
	s, d, f := float64(seq), float64(hidden), float64(inter)
	perLayer := 2*s*4*d*d + 2*s*2*d*f + 2*2*s*s*d
	return float64(layers) * perLayer
}

// imageFLOPs is the cost of one image through the vision tower.
func imageFLOPs(c clip.Config) float64 {
	v := c.Vision
	patches := float64(v.NumPatches())
	f := 2 * patches * float64(v.NumChannels*v.PatchSize*v.PatchSize) * float64(v.HiddenSize)
	f += encoderFLOPs(v.NumLayers, v.NumPositions(), v.HiddenSize, v.IntermediateSize)
	return f + 2*float64(v.HiddenSize*c.ProjectionDim)
}

// textFLOPs is the cost of one text of n tokens through the text tower.
func textFLOPs(c clip.Config, n int) float64 {
	t := c.Text
	return encoderFLOPs(t.NumLayers, n, t.HiddenSize, t.IntermediateSize) + 2*float64(t.HiddenSize*c.ProjectionDim)
}

func runBenchIndex(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench index", "--base base.fvecs --query query.fvecs --gt groundtruth.ivecs [--m 16 --ef-construction 200] [--quant int8]")
	var cfg indexbench.Config
	cfg.RegisterFlags(fs)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if (cfg.Base == "" && !cfg.Reuse) || cfg.Query == "" || cfg.GroundTruth == "" {
		return usageError{"give --base (not needed with --reuse), --query and --gt (TEXMEX .fvecs/.ivecs files)"}
	}
	return indexbench.Run(ctx, cfg, e.stdout)
}
