package jpeg

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPNM parses a binary PGM (P5) or PPM (P6) file with maxval 255.
func readPNM(b []byte) (w, h, comps int, pix []uint8, err error) {
	var magic string
	var maxval int
	r := bytes.NewReader(b)
	if _, err = fmt.Fscan(r, &magic, &w, &h, &maxval); err != nil {
		return
	}
	if _, err = r.ReadByte(); err != nil { // single whitespace
		return
	}
	switch magic {
	case "P5":
		comps = 1
	case "P6":
		comps = 3
	default:
		err = fmt.Errorf("unsupported PNM magic %q", magic)
		return
	}
	if maxval != 255 {
		err = fmt.Errorf("unsupported maxval %d", maxval)
		return
	}
	pix = make([]uint8, w*h*comps)
	_, err = io.ReadFull(r, pix)
	return
}

func readGolden(t *testing.T, path string) (w, h, comps int, pix []uint8) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	w, h, comps, pix, err = readPNM(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return
}

// diffStats returns the maximum and mean absolute difference.
func diffStats(a, b []uint8) (maxd int, mean float64) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
		maxd = max(maxd, d)
	}
	if len(a) > 0 {
		mean = float64(sum) / float64(len(a))
	}
	return
}

// TestGolden decodes every testdata/*.jpg and requires exact equality with
// libjpeg-turbo's output (djpeg, or Pillow for CMYK).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("found only %d golden JPEGs", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jpg")
		t.Run(name, func(t *testing.T) {
			gold, _ := filepath.Glob("testdata/" + name + ".p?m.gz")
			if len(gold) != 1 {
				t.Fatalf("no golden output for %s", f)
			}
			w, h, comps, want := readGolden(t, gold[0])
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			img, err := Decode(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatalf("Decode(%s): %v", f, err)
			}
			if img.Width != w || img.Height != h || img.Components != comps {
				t.Fatalf("got %dx%dx%d, want %dx%dx%d", img.Width, img.Height, img.Components, w, h, comps)
			}
			maxd, mean := diffStats(img.Pix, want)
			if maxd != 0 {
				t.Errorf("%s: max diff %d, mean %.4f (want exact)", name, maxd, mean)
			}
			// Reduced-size decodes against djpeg -scale 1/N.
			for _, n := range []int{2, 4, 8} {
				if strings.HasPrefix(name, "corrupt_") {
					break // full size only
				}
				gold, _ := filepath.Glob(fmt.Sprintf("testdata/%s.s%d.p?m.gz", name, n))
				if len(gold) != 1 {
					t.Fatalf("no 1/%d golden output for %s", n, f)
				}
				w, h, comps, want := readGolden(t, gold[0])
				img, err := Decode(bytes.NewReader(data), &Options{Scale: n})
				if err != nil {
					t.Fatalf("Decode(%s, 1/%d): %v", f, n, err)
				}
				if img.Width != w || img.Height != h || img.Components != comps {
					t.Fatalf("1/%d: got %dx%dx%d, want %dx%dx%d", n, img.Width, img.Height, img.Components, w, h, comps)
				}
				if maxd, mean := diffStats(img.Pix, want); maxd != 0 {
					t.Errorf("%s 1/%d: max diff %d, mean %.4f (want exact)", name, n, maxd, mean)
				}
			}
		})
	}
}
