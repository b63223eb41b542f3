package jpeg

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

const clipDir = "../../testdata/clip"

// readU8Tensor reads one U8 tensor from a safetensors file (8-byte header
// length, JSON header, data).
func readU8Tensor(path, name string) ([]uint8, []int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("%s: too short", path)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("%s: bad header length", path)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	raw, ok := hdr[name]
	if !ok {
		return nil, nil, fmt.Errorf("%s: no tensor %q", path, name)
	}
	var info struct {
		Dtype   string
		Shape   []int
		Offsets [2]uint64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, nil, err
	}
	if info.Dtype != "U8" {
		return nil, nil, fmt.Errorf("%s: %s is %s, not U8", path, name, info.Dtype)
	}
	data := b[8+n:]
	if info.Offsets[0] > info.Offsets[1] || info.Offsets[1] > uint64(len(data)) {
		return nil, nil, fmt.Errorf("%s: %s: bad offsets", path, name)
	}
	return data[info.Offsets[0]:info.Offsets[1]], info.Shape, nil
}

// rotate90CW rotates an interleaved image 90 degrees clockwise (EXIF
// orientation 6), returning the new pixels (size h x w).
func rotate90CW(img *Image) []uint8 {
	w, h, c := img.Width, img.Height, img.Components
	out := make([]uint8, len(img.Pix))
	// Output is h wide, w tall: out(x', y') = in(x=y', y=h-1-x').
	for y2 := 0; y2 < w; y2++ {
		for x2 := 0; x2 < h; x2++ {
			src := ((h-1-x2)*w + y2) * c
			dst := (y2*h + x2) * c
			copy(out[dst:dst+c], img.Pix[src:src+c])
		}
	}
	return out
}

// TestCLIPFixtures compares the decoder with the Pillow 9.4 / libjpeg-turbo
// 2.1.5 pixels stored as decoded_rgb.<file> in the CLIP fixtures.
func TestCLIPFixtures(t *testing.T) {
	tests := []struct {
		file   string
		rotate bool // EXIF orientation 6 is applied to the expected tensor
	}{
		{"astronaut.jpg", false},
		{"rocket.jpg", false},
		{"coffee_exif6.jpg", true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			want, shape, err := readU8Tensor(clipDir+"/expected.safetensors", "decoded_rgb."+tc.file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(clipDir + "/images/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := Decode(f, nil)
			if err != nil {
				t.Fatalf("Decode(%s): %v", tc.file, err)
			}
			got, gw, gh := img.Pix, img.Width, img.Height
			if tc.rotate {
				got, gw, gh = rotate90CW(img), img.Height, img.Width
			}
			if len(shape) != 3 || shape[0] != gh || shape[1] != gw || shape[2] != 3 || img.Components != 3 {
				t.Fatalf("shape %v, decoded %dx%dx%d", shape, gw, gh, img.Components)
			}
			maxd, mean := diffStats(got, want)
			t.Logf("%s: max diff %d, mean %.5f", tc.file, maxd, mean)
			if maxd != 0 {
				t.Errorf("%s: max diff %d, mean %.5f (want exact)", tc.file, maxd, mean)
			}
		})
	}
}
