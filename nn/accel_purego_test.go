//go:build purego

package nn

import "testing"

// TestAcceleratedPurego: with the assembly kernels compiled out, no
// precision is accelerated, so the CLI warns before a reduced precision
// that would run slower than fp32.
func TestAcceleratedPurego(t *testing.T) {
	for _, p := range []Precision{FP32, BF16, Int8} {
		if p.Accelerated() {
			t.Errorf("%s: Accelerated with -tags purego", p)
		}
	}
}
