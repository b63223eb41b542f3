package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// pngHeaderOnly returns a PNG signature, an IHDR for w x h RGB 8-bit, and
// optionally one IDAT chunk with the given payload and IEND.
func pngWithIHDR(w, h uint32, idat []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		start := b.Len()
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(b.Bytes()[start:]))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk("IHDR", ihdr)
	if idat != nil {
		chunk("IDAT", idat)
		chunk("IEND", nil)
	}
	return b.Bytes()
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clipDir, "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInput(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	chelsea := fixture(t, "chelsea.png")
	astro := fixture(t, "astronaut.jpg")
	gif := fixture(t, "astronaut_palette.gif")
	bmpRGB := readTestdata(t, "rgb24.bmp")
	webpLossy := readTestdata(t, "lossy.webp")
	tiffRGB := readTestdata(t, "rgb.tiff")
	// A BMP whose header claims 8000x8000 but has no pixel data.
	bigBMP := append([]byte{}, bmpRGB[:54]...)
	binary.LittleEndian.PutUint32(bigBMP[18:], 8000)
	binary.LittleEndian.PutUint32(bigBMP[22:], 8000)
	// A GIF logical screen of 65535x65535.
	bigGIF := append([]byte{}, gif...)
	bigGIF[6], bigGIF[7], bigGIF[8], bigGIF[9] = 0xFF, 0xFF, 0xFF, 0xFF
	// A JPEG whose SOF claims 60000x60000.
	bigJPEG := append([]byte{}, astro...)
	if i := bytes.Index(bigJPEG, []byte{0xFF, 0xC0}); i > 0 {
		binary.BigEndian.PutUint16(bigJPEG[i+5:], 60000)
		binary.BigEndian.PutUint16(bigJPEG[i+7:], 60000)
	} else {
		t.Fatal("no SOF0 in astronaut.jpg")
	}

	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrNotImage},
		{"random bytes", random, Limits{}, ErrNotImage},
		{"text file", []byte("Hello, this is a text file.\nNot an image.\n"), Limits{}, ErrNotImage},
		{"PNG signature only", chelsea[:8], Limits{}, ErrNotImage},
		{"truncated PNG", chelsea[:len(chelsea)/2], Limits{}, ErrNotImage},
		{"PNG without IEND", chelsea[:len(chelsea)-12], Limits{}, nil}, // Go and Pillow both accept this
		{"truncated JPEG header", astro[:100], Limits{}, ErrNotImage},
		{"truncated JPEG data", astro[:len(astro)/2], Limits{}, ErrNotImage},
		{"truncated GIF", gif[:len(gif)/3], Limits{}, ErrNotImage},
		{"truncated BMP", bmpRGB[:len(bmpRGB)-10], Limits{}, ErrNotImage},
		{"truncated WebP", webpLossy[:len(webpLossy)/2], Limits{}, ErrNotImage},
		{"truncated TIFF", tiffRGB[:len(tiffRGB)/2], Limits{}, ErrNotImage},
		{"PNG 100000x100000", pngWithIHDR(100000, 100000, nil), Limits{}, ErrTooLarge},
		{"PNG 100000x100000 with IDAT", pngWithIHDR(100000, 100000, []byte{1, 2, 3}), Limits{}, ErrTooLarge},
		{"PNG 9000x9000, 3 IDAT bytes", pngWithIHDR(9000, 9000, []byte{1, 2, 3}), Limits{}, ErrNotImage},
		{"BMP 8000x8000 without pixels", bigBMP, Limits{}, ErrNotImage},
		{"GIF 65535x65535", bigGIF, Limits{}, ErrTooLarge},
		{"JPEG 60000x60000", bigJPEG, Limits{}, ErrTooLarge},
		{"PNG over small limit", chelsea, Limits{MaxPixels: 1000}, ErrTooLarge},
		{"JPEG over small limit", astro, Limits{MaxPixels: 1000}, ErrTooLarge},
		{"GIF over small limit", gif, Limits{MaxPixels: 1000}, ErrTooLarge},
		{"BMP over small limit", bmpRGB, Limits{MaxPixels: 100}, ErrTooLarge},
		{"WebP over small limit", webpLossy, Limits{MaxPixels: 100}, ErrTooLarge},
		{"TIFF over small limit", tiffRGB, Limits{MaxPixels: 100}, ErrTooLarge},
		{"CMYK TIFF", readTestdata(t, "cmyk.tiff"), Limits{}, ErrUnsupported},
		{"HEIC", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), Limits{}, ErrUnsupported},
		{"AVIF", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1"), Limits{}, ErrUnsupported},
		{"JPEG XL", []byte("\xff\x0a\xfa\x7f"), Limits{}, ErrUnsupported},
		{"MP4 is not an image", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), Limits{}, ErrNotImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			img, _, err := Decode(tc.data, tc.lim)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || img != nil {
				t.Fatalf("Decode = %v, %v; want %v", img != nil, err, tc.want)
			}
			t.Logf("%v", err)
			if tc.want == ErrTooLarge || tc.name == "BMP 8000x8000 without pixels" || tc.name == "PNG 9000x9000, 3 IDAT bytes" {
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
					t.Errorf("refusal allocated %d bytes", alloc)
				}
				if elapsed > 250*time.Millisecond { // generous: the machine is shared
					t.Errorf("refusal took %v", elapsed)
				}
			}
			if _, err := DecodeConfig(tc.data); tc.want == ErrTooLarge && err != nil {
				t.Errorf("DecodeConfig of a valid but large header: %v", err)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		head string
		want Format
		ok   bool
	}{
		{"\xff\xd8\xff\xe0", JPEG, true},
		{"\x89PNG\r\n\x1a\n", PNG, true},
		{"GIF87a", GIF, true},
		{"GIF89a", GIF, true},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", WebP, true},
		{"RIFF\x00\x00\x00\x00WAVEfmt ", "", false},
		{"BM", BMP, true},
		{"II*\x00", TIFF, true},
		{"MM\x00*", TIFF, true},
		{"\xff\xd8", "", false},
		{"GIF88a", "", false},
		{"", "", false},
		{"<svg", "", false},
	} {
		if f, ok := Sniff([]byte(tc.head)); f != tc.want || ok != tc.ok {
			t.Errorf("Sniff(%q) = %q, %v; want %q, %v", tc.head, f, ok, tc.want, tc.ok)
		}
	}
}
