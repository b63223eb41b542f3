package jpeg

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sightsearch/sight/internal/testimg"
)

// sameAsLegacy checks that data decodes at scale to the same pixels, or the
// same error, with the fast decoder as with the legacy one, which refills
// its bit buffer exactly where libjpeg does.
func sameAsLegacy(t *testing.T, data []byte, scale int) {
	t.Helper()
	fast, errFast := decode(&decoder{data: data, scale: scale, maxPixels: 1 << 22})
	legacy, errLegacy := decode(&decoder{data: data, scale: scale, maxPixels: 1 << 22, noFast: true})
	if fmt.Sprint(errFast) != fmt.Sprint(errLegacy) {
		t.Fatalf("scale 1/%d: fast decoder error %v, legacy %v", scale, errFast, errLegacy)
	}
	if errFast != nil {
		return
	}
	if fast.Width != legacy.Width || fast.Height != legacy.Height || fast.Components != legacy.Components {
		t.Fatalf("scale 1/%d: fast decoder %dx%dx%d, legacy %dx%dx%d", scale,
			fast.Width, fast.Height, fast.Components, legacy.Width, legacy.Height, legacy.Components)
	}
	if i := firstDiff(fast.Pix, legacy.Pix); i >= 0 {
		t.Fatalf("scale 1/%d: fast decoder differs from legacy at byte %d of %d", scale, i, len(fast.Pix))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestFastDecoderMatchesLegacy compares the fast decoder with the legacy one
// on every test file, on a camera-like photo, and on damaged versions of
// them: cut at many points (with and without an EOI marker after the cut,
// so that the data ends without a marker or runs into one), with the end
// of the entropy-coded data but no EOI, with bytes flipped, with stray
// 0xFF bytes, and with runs of sixteen one bits (invalid Huffman codes,
// which make the fast decoder hand the scan back).
func TestFastDecoderMatchesLegacy(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	inputs := map[string][]byte{"camera_640x480": testimg.CameraJPEG(640, 480, 7)}
	for _, f := range files {
		inputs[filepath.Base(f)] = mustRead(t, f)
	}
	eoi := []byte{0xFF, 0xD9}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			for _, scale := range []int{1, 2, 4, 8} {
				sameAsLegacy(t, data, scale)
				step := max(len(data)/23, 1)
				for cut := len(data) / 3; cut < len(data); cut += step {
					sameAsLegacy(t, data[:cut], scale)
					sameAsLegacy(t, append(bytes.Clone(data[:cut]), eoi...), scale)
				}
				// The end of the data, without the EOI marker: whether the
				// decoder reads past it depends on when it refills.
				if bytes.HasSuffix(data, eoi) {
					for k := 2; k < 40 && k < len(data); k++ {
						sameAsLegacy(t, data[:len(data)-k], scale)
					}
				}
				for i, pos := 0, len(data)/2; i < 8 && pos < len(data)-2; i, pos = i+1, pos+len(data)/17+1 {
					bad := bytes.Clone(data)
					bad[pos] ^= 0xA5
					sameAsLegacy(t, bad, scale)
					bad[pos] = 0xFF
					sameAsLegacy(t, bad, scale)
					// Sixteen one bits: no Huffman code matches.
					ones := append(append(bytes.Clone(data[:pos]), 0xFF, 0, 0xFF, 0), data[pos:]...)
					sameAsLegacy(t, ones, scale)
				}
			}
		})
	}
}

// TestIDCT2x2Low checks the shortcut for blocks with coefficients 0, 1 and
// 8 only against idct2x2, over random and extreme coefficients and
// quantization values (which wrap around in libjpeg's int32 arithmetic).
func TestIDCT2x2Low(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	extremes := []int32{0, 1, -1, 255, -256, 32767, -32768}
	pick := func() int32 {
		if r.IntN(4) == 0 {
			return extremes[r.IntN(len(extremes))]
		}
		return int32(r.IntN(2048) - 1024)
	}
	for i := 0; i < 20000; i++ {
		var c [64]int16
		var q [64]int32
		for k := range q {
			q[k] = int32(int16(r.IntN(1 << 16)))
			if r.IntN(2) == 0 {
				q[k] = int32(r.IntN(100) + 1)
			}
		}
		c[0], c[1], c[8] = int16(pick()), int16(pick()), int16(pick())
		var want, got [2*3 + 2]uint8
		idct2x2(c[:], &q, want[:], 3)
		idct2x2Low(&c, &q, got[:], 3)
		if want != got {
			t.Fatalf("coefficients %d %d %d, quant %d %d %d: idct2x2Low %v, idct2x2 %v",
				c[0], c[1], c[8], q[0], q[1], q[8], got, want)
		}
	}
}
