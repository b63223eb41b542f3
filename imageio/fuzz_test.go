package imageio

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzMaxPixels keeps fuzzed decodes small.
const fuzzMaxPixels = 1 << 16

func addSeeds(f *testing.F) {
	for _, dir := range []string{"testdata", filepath.Join(clipDir, "images")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && len(b) < 64<<10 {
				if _, ok := Sniff(b); ok {
					f.Add(b)
				}
			}
		}
	}
	f.Add(pngWithIHDR(3, 2, []byte{0x78, 0x9c, 0x63, 0x60, 0x00, 0x00}))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\x08\x00\x00\x00"))
}

// FuzzDecode: Decode and DecodeConfig never panic, agree with each other, and
// return well-formed images within the limit.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		info, cerr := DecodeConfig(data)
		img, dinfo, err := Decode(data, Limits{MaxPixels: fuzzMaxPixels})
		if err != nil {
			if !errors.Is(err, ErrNotImage) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if cerr != nil || info != dinfo {
			t.Fatalf("DecodeConfig %+v, %v; Decode info %+v", info, cerr, dinfo)
		}
		if img.Width != info.Width || img.Height != info.Height || len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("image %dx%d with %d bytes, info %+v", img.Width, img.Height, len(img.Pix), info)
		}
		if int64(img.Width)*int64(img.Height) > fuzzMaxPixels {
			t.Fatalf("limit ignored: %dx%d", img.Width, img.Height)
		}
	})
}

// FuzzEXIF: ParseEXIF never panics and returns sane values.
func FuzzEXIF(f *testing.F) {
	f.Add(fullEXIF(binary.LittleEndian, 6, "N", "E"))
	f.Add(fullEXIF(binary.BigEndian, 3, "S", "W"))
	f.Add([]byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"))
	f.Add(readTestdata(f, "orient6.tiff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEXIF(data)
		if e.Orientation < 1 || e.Orientation > 8 {
			t.Fatalf("orientation %d (err %v)", e.Orientation, err)
		}
		if e.HasGPS && (e.Latitude < -90 || e.Latitude > 90 || e.Longitude < -180 || e.Longitude > 180) {
			t.Fatalf("GPS %v %v", e.Latitude, e.Longitude)
		}
		if err != nil && (e.HasGPS || e.HasDateTimeOriginal || e.Make != "") {
			t.Fatalf("error %v with data %+v", err, e)
		}
	})
}

// FuzzParseProcessorConfig: accepted configs are valid and usable.
func FuzzParseProcessorConfig(f *testing.F) {
	f.Add([]byte(`{"size": 224, "crop_size": 224}`))
	f.Add([]byte(`{"size": {"height": 7, "width": 9}, "crop_size": [3, 4], "resample": 0, "image_mean": 0.5}`))
	f.Add([]byte(`{"size": {"shortest_edge": 5}, "do_center_crop": false, "resample": 1}`))
	img := NewRGB(9, 5)
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseProcessorConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted invalid config: %v", err)
		}
		w, h := c.OutputSize(img.Width, img.Height)
		if int64(w)*int64(h) > 1<<16 || w > 1<<12 || h > 1<<12 {
			return // valid but too big to run here
		}
		if rw, rh := c.ResizeSize(img.Width, img.Height); int64(rw)*int64(rh) > 1<<16 {
			return
		}
		if out := c.Preprocess(img, nil); len(out) != 3*w*h {
			t.Fatalf("output %d values, want 3*%d*%d", len(out), w, h)
		}
	})
}
