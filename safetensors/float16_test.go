package safetensors

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// Known binary16 values (bit patterns checked with NumPy's float16).
var float16Table = []struct {
	h uint16
	f float32
}{
	{0x0000, 0},
	{0x3c00, 1},
	{0x3c01, 1.0009765625},
	{0xc000, -2},
	{0x3555, 0.333251953125},
	{0x7bff, 65504},                  // largest finite
	{0x0400, 6.103515625e-05},        // smallest normal
	{0x03ff, 6.097555160522461e-05},  // largest subnormal
	{0x0001, 5.960464477539063e-08},  // smallest subnormal
	{0x8001, -5.960464477539063e-08}, // negative subnormal
	{0x7c00, float32(math.Inf(1))},   // +Inf
	{0xfc00, float32(math.Inf(-1))},  // -Inf
	{0x2e66, 0.0999755859375},        // nearest to 0.1
}

func TestFloat16Table(t *testing.T) {
	for _, tc := range float16Table {
		if got := float16ToFloat32(tc.h); got != tc.f {
			t.Errorf("float16ToFloat32(%#04x) = %g, want %g", tc.h, got, tc.f)
		}
		if got := float32ToFloat16(tc.f); got != tc.h {
			t.Errorf("float32ToFloat16(%g) = %#04x, want %#04x", tc.f, got, tc.h)
		}
	}
	if got := math.Float32bits(float16ToFloat32(0x8000)); got != 0x80000000 {
		t.Errorf("-0 decodes to %#x", got)
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00, 0x7fff} {
		f := float16ToFloat32(h)
		if !math.IsNaN(float64(f)) {
			t.Errorf("%#04x decodes to %g, want NaN", h, f)
		}
		if back := float32ToFloat16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 || back&0x8000 != h&0x8000 {
			t.Errorf("NaN %#04x re-encodes to %#04x", h, back)
		}
	}
}

// TestFloat16Exhaustive checks every binary16 value against an independent
// formula and checks that encoding it again gives the same bits.
func TestFloat16Exhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		exp := int(h>>10) & 0x1f
		mant := float64(h & 0x3ff)
		var want float64
		switch exp {
		case 0x1f:
			if mant != 0 {
				if !math.IsNaN(float64(float16ToFloat32(h))) {
					t.Errorf("%#04x: want NaN", h)
				}
				continue
			}
			want = math.Inf(1)
		case 0:
			want = math.Ldexp(mant, -24)
		default:
			want = math.Ldexp(1+mant/1024, exp-15)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		got := float16ToFloat32(h)
		if float64(got) != want || math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("float16ToFloat32(%#04x) = %g, want %g", h, got, want)
		}
		if back := float32ToFloat16(got); back != h {
			t.Fatalf("float32ToFloat16(float16ToFloat32(%#04x)) = %#04x", h, back)
		}
	}
}

// TestFloat16Golden compares rounding of 3320 float32 values (random bit
// patterns, values near the float16 range, exact ties, subnormal results,
// overflow) with NumPy's astype(float16); see testdata/gen_float16_golden.py.
func TestFloat16Golden(t *testing.T) {
	data, err := os.ReadFile("testdata/float16_golden.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(data)%6 != 0 || len(data) == 0 {
		t.Fatalf("golden file has %d bytes", len(data))
	}
	for i := 0; i < len(data); i += 6 {
		fbits := binary.LittleEndian.Uint32(data[i:])
		want := binary.LittleEndian.Uint16(data[i+4:])
		if got := float32ToFloat16(math.Float32frombits(fbits)); got != want {
			t.Errorf("float32ToFloat16(%#08x = %g) = %#04x, want %#04x", fbits, math.Float32frombits(fbits), got, want)
		}
	}
	t.Logf("%d values", len(data)/6)
}

func TestBFloat16(t *testing.T) {
	tests := []struct {
		f uint32 // float32 bits
		h uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x40490fdb, 0x4049}, // pi rounds down
		{0x3f808000, 0x3f80}, // tie, even below
		{0x3f818000, 0x3f82}, // tie, even above
		{0x3f808001, 0x3f81}, // just above the tie
		{0x3f807fff, 0x3f80}, // just below the tie
		{0x7f7fffff, 0x7f80}, // max float32 rounds to +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x80000000, 0x8000}, // -0
		{0x00000001, 0x0000}, // tiny subnormal rounds to 0
		{0x7fc00000, 0x7fc0}, // NaN
		{0x7f800001, 0x7fc0}, // signalling NaN made quiet, stays NaN
	}
	for _, tc := range tests {
		if got := float32ToBFloat16(math.Float32frombits(tc.f)); got != tc.h {
			t.Errorf("float32ToBFloat16(%#08x) = %#04x, want %#04x", tc.f, got, tc.h)
		}
	}
	// Random values: the result must be the nearer of the two neighbouring
	// bfloat16 values (ties to the even one), measured in float64.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := r.Uint32()
		f := math.Float32frombits(b)
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		lo := uint16(b >> 16)
		hi := lo + 1
		dlo := math.Abs(float64(f) - float64(math.Float32frombits(uint32(lo)<<16)))
		fhi := float64(math.Float32frombits(uint32(hi) << 16))
		if math.IsInf(fhi, 0) { // rounding treats Inf as 2^128
			fhi = math.Copysign(math.Ldexp(1, 128), fhi)
		}
		dhi := math.Abs(fhi - float64(f))
		want := lo
		if dhi < dlo || (dhi == dlo && lo&1 == 1) {
			want = hi
		}
		if got := float32ToBFloat16(f); got != want {
			t.Fatalf("float32ToBFloat16(%#08x) = %#04x, want %#04x", b, got, want)
		}
	}
}

func TestEncodeDecodeHalf(t *testing.T) {
	v := []float32{0.1, -3.75, 65519, 65520, 1e-8, 3e-8}
	want16 := []uint16{0x2e66, 0xc380, 0x7bff, 0x7c00, 0x0000, 0x0001}
	b := EncodeFloat16(v)
	for i, w := range want16 {
		if got := binary.LittleEndian.Uint16(b[2*i:]); got != w {
			t.Errorf("EncodeFloat16(%g) = %#04x, want %#04x", v[i], got, w)
		}
	}
	bf := EncodeBFloat16([]float32{1, -2})
	if binary.LittleEndian.Uint16(bf) != 0x3f80 || binary.LittleEndian.Uint16(bf[2:]) != 0xc000 {
		t.Errorf("EncodeBFloat16 = %x", bf)
	}
}
