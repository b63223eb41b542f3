package clip

import (
	"testing"
)

// TestSteadyStateAllocs checks that repeated forward passes allocate only
// their results: the returned [][]float32 and its backing array (2
// allocations per call). Everything else comes from the model's reused
// workspaces and worker pool.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool items on purpose")
	}
	fx := loadFixture(t)
	m := loadTiny(t)
	defer m.Close()
	px := [][]float32{fx.pixels(fx.images[0]), fx.pixels(fx.images[1]), fx.pixels(fx.images[2])}
	ids := fx.ids[:5]
	for _, p := range []Precision{FP32, BF16, Int8} {
		if err := m.SetPrecision(p); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			run  func() error
		}{
			{"image", func() error { _, err := m.ImageFeatures(px); return err }},
			{"text", func() error { _, err := m.TextFeatures(ids); return err }},
		} {
			var err error
			allocs := testing.AllocsPerRun(20, func() {
				if e := tc.run(); e != nil {
					err = e
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: %.1f allocations per call", p, tc.name, allocs)
			if allocs > 2 {
				t.Errorf("%s %s: %.1f allocations per call, want ≤ 2 (the result)", p, tc.name, allocs)
			}
		}
	}
}
