package jpeg

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrossCheckDir compares every *.jpg in $JPEG_CROSSCHECK_DIR with the
// .ppm/.pgm of the same name (made offline by djpeg or Pillow). It is skipped
// when the variable is unset; testdata/ holds the committed goldens.
func TestCrossCheckDir(t *testing.T) {
	dir := os.Getenv("JPEG_CROSSCHECK_DIR")
	if dir == "" {
		t.Skip("JPEG_CROSSCHECK_DIR not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(files) == 0 {
		t.Fatalf("no JPEGs in %s", dir)
	}
	worst, scaled := 0, 0
	for _, f := range files {
		base := strings.TrimSuffix(f, ".jpg")
		if strings.Contains(filepath.Base(base), ".") {
			continue
		}
		var want []byte
		var err error
		for _, ext := range []string{".ppm", ".pgm"} {
			if want, err = os.ReadFile(base + ext); err == nil {
				break
			}
		}
		if err != nil {
			t.Errorf("%s: no expected output", f)
			continue
		}
		w, h, comps, pix, err := readPNM(want)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		data, _ := os.ReadFile(f)
		img, err := Decode(bytes.NewReader(data), nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if img.Width != w || img.Height != h || img.Components != comps {
			t.Errorf("%s: got %dx%dx%d want %dx%dx%d", f, img.Width, img.Height, img.Components, w, h, comps)
			continue
		}
		maxd, mean := diffStats(img.Pix, pix)
		worst = max(worst, maxd)
		if maxd != 0 {
			t.Errorf("%s: max diff %d mean %.4f", f, maxd, mean)
		}
		// Scaled outputs (djpeg -scale 1/N) named base.sN.ppm/pgm.
		for _, n := range []int{2, 4, 8} {
			var want []byte
			for _, ext := range []string{".ppm", ".pgm"} {
				if want, err = os.ReadFile(fmt.Sprintf("%s.s%d%s", base, n, ext)); err == nil {
					break
				}
			}
			if err != nil {
				continue
			}
			scaled++
			w, h, comps, pix, err := readPNM(want)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			img, err := Decode(bytes.NewReader(data), &Options{Scale: n})
			if err != nil {
				t.Errorf("%s 1/%d: %v", f, n, err)
				continue
			}
			if img.Width != w || img.Height != h || img.Components != comps {
				t.Errorf("%s 1/%d: got %dx%dx%d want %dx%dx%d", f, n, img.Width, img.Height, img.Components, w, h, comps)
				continue
			}
			maxd, mean := diffStats(img.Pix, pix)
			worst = max(worst, maxd)
			if maxd != 0 {
				t.Errorf("%s 1/%d: max diff %d mean %.4f", f, n, maxd, mean)
			}
		}
	}
	t.Logf("%d scaled outputs checked", scaled)
	t.Logf("%d files, worst max diff %d", len(files), worst)
}
