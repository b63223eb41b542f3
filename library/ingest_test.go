package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sightsearch/sight/clip"
	"github.com/sightsearch/sight/imageio"
	"github.com/sightsearch/sight/internal/testimg"
)

// TestOpenUsesFastDecode: a library loads its model with reduced-size
// decoding on, whatever the caller's encoder options say otherwise.
func TestOpenUsesFastDecode(t *testing.T) {
	var got clip.EncoderOptions
	open := func(ctx context.Context, model string, o clip.EncoderOptions) (*clip.Encoder, error) {
		got = o
		return clip.OpenEncoder(ctx, model, o)
	}
	l, err := Open(context.Background(), t.TempDir(), Options{Model: tinyModel,
		EncoderOptions: clip.EncoderOptions{Limits: imageio.Limits{MaxPixels: 1 << 30}}, openEncoder: open})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !got.FastDecode || got.Limits.MaxPixels != 1<<30 {
		t.Errorf("encoder options %+v: want FastDecode and the caller's limits", got)
	}
	if !l.enc.FastDecode {
		t.Error("library encoder without FastDecode")
	}
	l.Close()
	// --decode fine passes its margin through; --decode exact turns the
	// reduced decode off.
	l, err = Open(context.Background(), t.TempDir(), Options{Model: tinyModel,
		EncoderOptions: clip.EncoderOptions{DecodeMargin: 2}, openEncoder: open})
	if err != nil {
		t.Fatal(err)
	}
	if !l.enc.FastDecode || l.enc.DecodeMargin != 2 {
		t.Errorf("fine: FastDecode %v, DecodeMargin %v", l.enc.FastDecode, l.enc.DecodeMargin)
	}
	l.Close()
	l, err = Open(context.Background(), t.TempDir(), Options{Model: tinyModel, ExactDecode: true, openEncoder: open})
	if err != nil {
		t.Fatal(err)
	}
	if got.FastDecode || l.enc.FastDecode {
		t.Error("ExactDecode: the encoder still decodes reduced")
	}
}

// TestFastDecodeSearchSelf indexes large JPEGs (decoded reduced) and
// searches with each one's bytes and path: it must find itself first with
// a score of ~1, and the catalog keeps the original size.
func TestFastDecodeSearchSelf(t *testing.T) {
	ctx := context.Background()
	photos := t.TempDir()
	for i, size := range [][2]int{{1600, 1200}, {1200, 1600}, {2000, 1000}} {
		write(t, filepath.Join(photos, "p"+strconv.Itoa(i)+".jpg"), testimg.CameraJPEG(size[0], size[1], uint64(i)))
	}
	write(t, filepath.Join(photos, "rocket.jpg"), fixtureImage(t, "rocket.jpg"))
	l := openLib(t, t.TempDir())
	defer l.Close()
	sum, err := l.Index(ctx, []string{photos}, IndexOptions{BatchSize: 2})
	if err != nil || sum.Added != 4 {
		t.Fatalf("index: %+v, %v", sum, err)
	}
	// Two full batches: the second ran with the decoders paused.
	if !sum.InferenceMeasuredAlone || sum.InferenceImagesPerSecond <= 0 || sum.PipelineInferenceImagesPerSecond <= 0 || sum.ImagesPerSecond <= 0 {
		t.Errorf("throughput figures %+v", sum)
	}
	for i, size := range [][2]int{{1600, 1200}, {1200, 1600}, {2000, 1000}, {640, 427}} {
		path := filepath.Join(photos, "p"+strconv.Itoa(i)+".jpg")
		if i == 3 {
			path = filepath.Join(photos, "rocket.jpg")
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, term := range []Term{{Image: data, Weight: 1}, {Path: path, Weight: 1}} {
			hits, err := l.Search(ctx, Query{Terms: []Term{term}, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].Path != path || hits[0].Score < 0.9999 {
				t.Fatalf("%s: hits %+v, want itself first with score ~1", path, hits)
			}
			if hits[0].Width != size[0] || hits[0].Height != size[1] {
				t.Errorf("%s: stored %dx%d, want the original %dx%d", path, hits[0].Width, hits[0].Height, size[0], size[1])
			}
		}
	}
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// TestIndexStopsEarly: a cancellation or a failing commit in the middle of
// a run ends Index promptly with the error (no stage left blocked), keeps
// the batches committed before, and a next run indexes the rest.
func TestIndexStopsEarly(t *testing.T) {
	photos := t.TempDir()
	for i := range 12 {
		write(t, filepath.Join(photos, "s"+strconv.Itoa(i)+".png"), synthPNG(uint64(100+i), 40, 30))
	}
	for _, mode := range []string{"cancel", "commit fails"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db := t.TempDir()
			l := openLib(t, db)
			stop := func(p Progress) {
				if p.Added > 0 && !p.Finished {
					if mode == "cancel" {
						cancel()
					} else {
						l.local.cat.Close()
					}
				}
			}
			type result struct {
				sum Summary
				err error
			}
			done := make(chan result, 1)
			go func() {
				sum, err := l.Index(ctx, []string{photos}, IndexOptions{BatchSize: 2, Workers: 2, Progress: stop})
				done <- result{sum, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("Index did not return: a pipeline stage is blocked")
			}
			if r.err == nil || (mode == "cancel" && !errors.Is(r.err, context.Canceled)) {
				t.Fatalf("Index = %+v, %v; want an error", r.sum, r.err)
			}
			if r.sum.Added == 0 || r.sum.Added >= 12 {
				t.Errorf("added %d before stopping, want some but not all", r.sum.Added)
			}
			l.Close()
			if mode != "cancel" {
				return
			}
			l = openLib(t, db)
			defer l.Close()
			sum, err := l.Index(context.Background(), []string{photos}, IndexOptions{BatchSize: 2})
			if err != nil || sum.Added+sum.Unchanged != 12 || sum.Unchanged != r.sum.Added {
				t.Errorf("rerun: %+v, %v; want the other %d added", sum, err, 12-r.sum.Added)
			}
		})
	}
}

// TestNoAloneTiming: a run times the model alone on its second full batch
// unless told not to (queue workers index many short runs).
func TestNoAloneTiming(t *testing.T) {
	for _, skip := range []bool{false, true} {
		l := openLib(t, t.TempDir())
		sum, err := l.Index(context.Background(), []string{makeFolder(t)}, IndexOptions{BatchSize: 2, NoAloneTiming: skip})
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sum.InferenceMeasuredAlone == skip || sum.InferenceImagesPerSecond <= 0 {
			t.Errorf("NoAloneTiming %v: measured alone %v, %.1f img/s", skip, sum.InferenceMeasuredAlone, sum.InferenceImagesPerSecond)
		}
	}
}
