package library

import (
	"context"
	"errors"
	"math"
	"testing"
)

// TestQueryWeights checks that only the ratios of weights matter, however
// large, and that weights that cannot make a direction are bad queries.
func TestQueryWeights(t *testing.T) {
	ctx := context.Background()
	l := openLib(t, t.TempDir())
	defer l.Close()
	ref, err := l.QueryVector(ctx, []Term{{Text: "red", Weight: 2}, {Text: "a dog", Weight: 1}, {Text: "blurry", Weight: -1}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		weights [3]float64
		bad     bool
	}{
		{"scaled down", [3]float64{2e-300, 1e-300, -1e-300}, false},
		{"huge", [3]float64{1.6e308, 0.8e308, -0.8e308}, false},
		{"all zero", [3]float64{0, 0, 0}, true},
		{"NaN", [3]float64{1, math.NaN(), 1}, true},
		{"infinite", [3]float64{math.Inf(1), 1, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := l.QueryVector(ctx, []Term{{Text: "red", Weight: tt.weights[0]}, {Text: "a dog", Weight: tt.weights[1]}, {Text: "blurry", Weight: tt.weights[2]}})
			if tt.bad {
				if !errors.Is(err, ErrBadQuery) {
					t.Fatalf("err = %v, want ErrBadQuery", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range q {
				if math.Abs(float64(q[i]-ref[i])) > 1e-6 {
					t.Fatalf("component %d: %g, want %g", i, q[i], ref[i])
				}
			}
		})
	}
}
