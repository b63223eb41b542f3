package jpeg

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that arbitrary input never panics, that the fast and
// legacy entropy decoders agree, that a successful decode has consistent
// dimensions, and that DecodeConfig agrees with it.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, name := range files {
		data := mustRead(f, name)
		if len(data) <= 8<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		scale := []int{1, 2, 4, 8}[len(data)%4]
		img, err := Decode(bytes.NewReader(data), &Options{MaxPixels: 1 << 20, Scale: scale})
		// The fast decoder must behave exactly like the legacy one.
		legacy, errLegacy := decode(&decoder{data: data, maxPixels: 1 << 20, scale: scale, noFast: true})
		if fmt.Sprint(err) != fmt.Sprint(errLegacy) {
			t.Fatalf("fast decoder error %v, legacy %v", err, errLegacy)
		}
		if err == nil && !bytes.Equal(img.Pix, legacy.Pix) {
			t.Fatalf("fast decoder pixels differ from the legacy decoder's")
		}
		if err != nil {
			return
		}
		if img.Width <= 0 || img.Height <= 0 || (img.Components != 1 && img.Components != 3) ||
			len(img.Pix) != img.Width*img.Height*img.Components {
			t.Fatalf("inconsistent image %dx%dx%d with %d bytes", img.Width, img.Height, img.Components, len(img.Pix))
		}
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Decode succeeded but DecodeConfig failed: %v", err)
		}
		if (cfg.Width+scale-1)/scale != img.Width || (cfg.Height+scale-1)/scale != img.Height || cfg.Components != img.Components {
			t.Fatalf("DecodeConfig %+v disagrees with Decode %dx%dx%d", cfg, img.Width, img.Height, img.Components)
		}
	})
}
