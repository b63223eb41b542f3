package clip

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestConcurrentCalls runs both towers from several goroutines at once on
// one model (they share its worker pool) and checks every result against
// a serial run.
func TestConcurrentCalls(t *testing.T) {
	fx := loadFixture(t)
	m := loadTiny(t)
	defer m.Close()
	px := [][]float32{fx.pixels(fx.images[0]), fx.pixels(fx.images[1])}
	ids := fx.ids[:6]
	wantImg, err := m.ImageFeatures(px)
	if err != nil {
		t.Fatal(err)
	}
	wantTxt, err := m.TextFeatures(ids)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if g%2 == 0 {
					got, err := m.ImageFeatures(px)
					if err != nil || maxAbs(got[1], wantImg[1]) > 1e-6 {
						errs <- "image result differs under concurrency"
					}
				} else {
					got, err := m.TextFeatures(ids)
					if err != nil || maxAbs(got[5], wantTxt[5]) > 1e-6 {
						errs <- "text result differs under concurrency"
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	m.Close()
	got, err := m.ImageFeatures(px) // still works after Close, serially
	if err != nil || maxAbs(got[0], wantImg[0]) > 1e-6 {
		t.Errorf("after Close: %v, max abs %g", err, maxAbs(got[0], wantImg[0]))
	}
}

// TestWorkersStop checks that a model's worker goroutines end with Close,
// and also when the model is dropped without Close.
func TestWorkersStop(t *testing.T) {
	base := runtime.NumGoroutine()
	m := loadTiny(t)
	if runtime.NumGoroutine() <= base {
		t.Skip("GOMAXPROCS=1: no worker goroutines")
	}
	m.Close()
	waitGoroutines(t, base, "after Close")
	m = loadTiny(t)
	if _, err := m.TextFeatures([][]int{{49406, 320, 49407}}); err != nil {
		t.Fatal(err)
	}
	m = nil
	waitGoroutines(t, base, "after dropping the model")
}

func waitGoroutines(t *testing.T, want int, when string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines, want %d", when, runtime.NumGoroutine(), want)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
