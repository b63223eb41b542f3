package imageio

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

type goldenManifest struct {
	Decode []struct {
		File, RGB, Mode, Note string
		Width, Height         int
	}
	Resize []struct {
		SrcOffset        int `json:"src_offset"`
		SrcWidth         int `json:"src_width"`
		SrcHeight        int `json:"src_height"`
		Width, Height    int
		Resample, Offset int
	}
	CMYK struct {
		Src, RGB string
		N        int
	}
}

func loadManifest(t testing.TB) goldenManifest {
	t.Helper()
	var m goldenManifest
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodePillowGoldens decodes every image made by gen_goldens.py and
// compares with Pillow's ImageOps.exif_transpose(...).convert("RGB").
func TestDecodePillowGoldens(t *testing.T) {
	m := loadManifest(t)
	if len(m.Decode) < 20 {
		t.Fatalf("manifest lists %d images", len(m.Decode))
	}
	for _, g := range m.Decode {
		t.Run(g.File, func(t *testing.T) {
			data := readTestdata(t, g.File)
			want := readTestdata(t, g.RGB)
			img, info, err := Decode(data, Limits{})
			if err != nil {
				t.Fatalf("%s (%s): %v", g.File, g.Note, err)
			}
			if img.Width != g.Width || img.Height != g.Height || info.Width != g.Width || info.Height != g.Height {
				t.Fatalf("size %dx%d (info %dx%d), want %dx%d", img.Width, img.Height, info.Width, info.Height, g.Width, g.Height)
			}
			cfg, err := DecodeConfig(data)
			if err != nil || cfg != info {
				t.Fatalf("DecodeConfig = %+v, %v; Decode info %+v", cfg, err, info)
			}
			mx, mean := pixelDiff(img.Pix, want)
			if mx > 0 {
				t.Errorf("%s (%s, mode %s): max |diff| %d, mean %.4f", g.File, g.Note, g.Mode, mx, mean)
			}
		})
	}
}

// TestResizePillowGoldens compares Resize with Pillow's Image.resize for
// every filter, upscaling, downscaling and one-axis changes.
func TestResizePillowGoldens(t *testing.T) {
	m := loadManifest(t)
	blob := readTestdata(t, "resize.bin")
	if len(m.Resize) < 60 {
		t.Fatalf("manifest lists %d resize cases", len(m.Resize))
	}
	for _, r := range m.Resize {
		src := &RGB{Width: r.SrcWidth, Height: r.SrcHeight, Pix: blob[r.SrcOffset : r.SrcOffset+3*r.SrcWidth*r.SrcHeight]}
		want := blob[r.Offset : r.Offset+3*r.Width*r.Height]
		got, err := Resize(src, r.Width, r.Height, r.Resample)
		if err != nil {
			t.Fatalf("%dx%d -> %dx%d r%d: %v", r.SrcWidth, r.SrcHeight, r.Width, r.Height, r.Resample, err)
		}
		if mx, mean := pixelDiff(got.Pix, want); mx != 0 {
			t.Errorf("%dx%d -> %dx%d resample %d: max |diff| %d, mean %.4f", r.SrcWidth, r.SrcHeight, r.Width, r.Height, r.Resample, mx, mean)
		}
	}
}

// TestCMYKToRGB compares with Pillow's CMYK -> RGB conversion.
func TestCMYKToRGB(t *testing.T) {
	m := loadManifest(t)
	src := readTestdata(t, m.CMYK.Src)
	want := readTestdata(t, m.CMYK.RGB)
	if len(src) != 4*m.CMYK.N || len(want) != 3*m.CMYK.N {
		t.Fatalf("bad cmyk golden sizes %d %d", len(src), len(want))
	}
	bad := 0
	for i := 0; i < m.CMYK.N; i++ {
		r, g, b := cmykToRGB(src[4*i], src[4*i+1], src[4*i+2], src[4*i+3])
		if r != want[3*i] || g != want[3*i+1] || b != want[3*i+2] {
			if bad++; bad < 5 {
				t.Errorf("cmyk %v -> %d,%d,%d, want %v", src[4*i:4*i+4], r, g, b, want[3*i:3*i+3])
			}
		}
	}
}

// TestGray16HighByte documents the one deliberate difference from Pillow
// for PNG: 16-bit grayscale keeps the high byte (Pillow clips to 255).
func TestGray16HighByte(t *testing.T) {
	g := image.NewGray16(image.Rect(0, 0, 3, 1))
	for i, v := range []uint16{0x0000, 0x12ff, 0xfe01} {
		g.SetGray16(i, 0, color.Gray16{Y: v})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{0, 0, 0, 0x12, 0x12, 0x12, 0xfe, 0xfe, 0xfe}; !bytes.Equal(img.Pix, want) {
		t.Errorf("got % x, want % x", img.Pix, want)
	}
}
