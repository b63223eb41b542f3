//go:build unix

package library

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/clip/tokenizer"
	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/internal/testimg"
)

// BenchmarkIngest12MP indexes a folder of 12-megapixel camera-like JPEGs
// (4000x3000, 4:2:0, quality 90) with a full-size ViT-B/32 (random
// weights) and the library's default fast decoding (1/8 scale for these
// photos), at batch sizes 8 and 16, and at 8 with `--decode fine` (1/4) and
// the exact full-size decoding, for comparison, and compares
// the pipeline with the model alone. Metrics:
//
//   - pipeline-img/s: Summary.ImagesPerSecond, the whole run;
//   - infer-in-pipeline-img/s: Summary.PipelineInferenceImagesPerSecond,
//     time inside EmbedPixels while the decoders compete for the CPU;
//   - infer-alone-img/s: Summary.InferenceImagesPerSecond, the one batch
//     Index runs with the decoders paused (what `sight index --stats`
//     prints as the model's rate);
//   - pure-infer-img/s: ImageFeatures on batches of the same size with
//     nothing else running (mean of a measurement before and after);
//   - pipeline/pure: the target ratio (>= 0.8), wall clock;
//   - cpu-ms/img and infer-cpu-ms/img: process CPU time per image of the
//     pipeline and of pure inference, and cpu-ratio their quotient: the
//     ratio on an otherwise idle machine if both kept the cores busy,
//     unaffected by other load on a shared machine;
//   - MB/img: the JPEG size.
//
// SIGHT_BENCH_IMAGES overrides the number of photos (default 32).
func BenchmarkIngest12MP(b *testing.B) {
	n := 32
	if v := envInt("SIGHT_BENCH_IMAGES"); v > 0 {
		n = v
	}
	photos := b.TempDir()
	var bytes int64
	for i := range n {
		data := testimg.CameraJPEG(4000, 3000, uint64(i))
		bytes += int64(len(data))
		write(b, filepath.Join(photos, fmt.Sprintf("IMG_%04d.jpg", i)), data)
	}
	fast := benchEncoder(b)
	exact := &clip.Encoder{Model: fast.Model, Tokenizer: fast.Tokenizer, Processor: fast.Processor,
		Name: fast.Name, Fingerprint: fast.Fingerprint}
	fine := &clip.Encoder{Model: fast.Model, Tokenizer: fast.Tokenizer, Processor: fast.Processor,
		Name: fast.Name, Fingerprint: fast.Fingerprint, FastDecode: true, DecodeMargin: 2}
	ctx := context.Background()
	// Warm up (model buffers, the heap after generating the photos).
	warm := filepath.Join(b.TempDir(), "warm")
	for i := range 4 {
		write(b, filepath.Join(warm, fmt.Sprintf("IMG_%04d.jpg", i)), testimg.CameraJPEG(4000, 3000, uint64(1000+i)))
	}
	if l, err := Open(ctx, b.TempDir(), Options{Encoder: fast}); err != nil {
		b.Fatal(err)
	} else {
		_, err = l.Index(ctx, []string{warm}, IndexOptions{BatchSize: 2})
		l.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	// The encoders share one model: each case sets its precision.
	defer fast.Model.SetPrecision(clip.FP32)
	for _, c := range []struct {
		bs   int
		enc  *clip.Encoder
		prec clip.Precision
		name string
	}{{8, fast, clip.FP32, "batch=8"}, {16, fast, clip.FP32, "batch=16"}, {8, fine, clip.FP32, "batch=8/fine-decode"},
		{8, exact, clip.FP32, "batch=8/exact-decode"}, {8, fast, clip.BF16, "batch=8/bf16"}, {8, fast, clip.Int8, "batch=8/int8"}} {
		bs, enc := c.bs, c.enc
		b.Run(c.name, func(b *testing.B) {
			// Inside the case, so that a -bench filter that skips it
			// does not quantise the model for nothing.
			if err := enc.Model.SetPrecision(c.prec); err != nil {
				b.Fatal(err)
			}
			pure0, pureCPU0 := pureInference(b, enc, bs, max(n/bs, 2))
			var sum Summary
			var cpu time.Duration
			for b.Loop() {
				l, err := Open(ctx, b.TempDir(), Options{Encoder: enc})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				c0 := cpuTime()
				sum, err = l.Index(ctx, []string{photos}, IndexOptions{BatchSize: bs})
				cpu = cpuTime() - c0
				l.Close()
				if err != nil {
					b.Fatal(err)
				}
				if sum.Added != n {
					b.Fatalf("added %d of %d: %+v", sum.Added, n, sum)
				}
			}
			pure1, pureCPU1 := pureInference(b, enc, bs, max(n/bs, 2))
			pure, pureCPU := (pure0+pure1)/2, (pureCPU0+pureCPU1)/2
			cpuPerImg := cpu.Seconds() * 1000 / float64(n)
			b.ReportMetric(sum.ImagesPerSecond, "pipeline-img/s")
			b.ReportMetric(sum.PipelineInferenceImagesPerSecond, "infer-in-pipeline-img/s")
			b.ReportMetric(sum.InferenceImagesPerSecond, "infer-alone-img/s")
			b.ReportMetric(sum.ImagesPerSecond/sum.InferenceImagesPerSecond, "pipeline/alone")
			b.ReportMetric(pure, "pure-infer-img/s")
			b.ReportMetric(sum.ImagesPerSecond/pure, "pipeline/pure")
			b.ReportMetric(cpuPerImg, "cpu-ms/img")
			b.ReportMetric(pureCPU, "infer-cpu-ms/img")
			b.ReportMetric(pureCPU/cpuPerImg, "cpu-ratio")
			b.ReportMetric(float64(bytes)/float64(n)/1e6, "MB/img")
		})
	}
}

// BenchmarkPrepare12MP is the CPU work per photo outside the model
// (read, hash, fast decode, preprocess, thumbnail, EXIF), one at a time.
func BenchmarkPrepare12MP(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "IMG_0001.jpg")
	write(b, path, testimg.CameraJPEG(4000, 3000, 1))
	enc := benchEncoder(b)
	l, err := Open(context.Background(), filepath.Join(dir, "db"), Options{Encoder: enc})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c0 := cpuTime()
	for b.Loop() {
		if pr := l.prepare(context.Background(), path, 1<<30); pr.skip != "" || len(pr.pixels) == 0 {
			b.Fatalf("prepare: %s %s", pr.skip, pr.problem)
		}
	}
	b.ReportMetric((cpuTime()-c0).Seconds()*1000/float64(b.N), "cpu-ms/img")
}

// benchEncoder is a full-size ViT-B/32 with random weights, the fixture's
// tokenizer and preprocessing, and fast decoding as libraries use it.
func benchEncoder(b *testing.B) *clip.Encoder {
	b.Helper()
	m, err := clip.NewRandom(clip.DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokenizer.Load(tinyModel)
	if err != nil {
		b.Fatal(err)
	}
	pc, err := imageio.LoadProcessorConfig(filepath.Join(tinyModel, "preprocessor_config.json"))
	if err != nil {
		b.Fatal(err)
	}
	return &clip.Encoder{Model: m, Tokenizer: tok, Processor: pc, Name: "random-vit-b-32",
		Fingerprint: "random-vit-b-32-seed1", FastDecode: true}
}

// pureInference runs the image tower alone on batches random inputs of
// size bs (after one warm-up batch) and returns images/s and CPU
// milliseconds per image.
func pureInference(b *testing.B, enc *clip.Encoder, bs, batches int) (perSec, cpuMs float64) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	pix := make([][]float32, bs)
	for i := range pix {
		pix[i] = make([]float32, 3*224*224)
		for j := range pix[i] {
			pix[i][j] = float32(r.NormFloat64())
		}
	}
	if _, err := enc.Model.ImageFeatures(pix); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	t0, c0 := time.Now(), cpuTime()
	for range batches {
		if _, err := enc.Model.ImageFeatures(pix); err != nil {
			b.Fatal(err)
		}
	}
	imgs := float64(bs * batches)
	return imgs / time.Since(t0).Seconds(), (cpuTime() - c0).Seconds() * 1000 / imgs
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
