package imageio

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// field is one TIFF directory entry for the test EXIF builder.
type field struct {
	tag, typ uint16
	count    uint32
	val      []byte // encoded in the builder's byte order
}

// exifBuilder writes a TIFF structure: IFD0, an optional Exif IFD and GPS IFD.
type exifBuilder struct {
	bo                 binary.ByteOrder
	ifd0, exif, gpsIFD []field
}

func (b exifBuilder) short(tag uint16, v uint16) field {
	val := make([]byte, 2)
	b.bo.PutUint16(val, v)
	return field{tag, 3, 1, val}
}

func ascii(tag uint16, s string) field {
	return field{tag, 2, uint32(len(s) + 1), append([]byte(s), 0)}
}

func (b exifBuilder) rationals(tag uint16, v ...uint32) field {
	val := make([]byte, 4*len(v))
	for i, x := range v {
		b.bo.PutUint32(val[4*i:], x)
	}
	return field{tag, 5, uint32(len(v) / 2), val}
}

func (b exifBuilder) bytes() []byte {
	ifdSize := func(n int) int { return 2 + 12*n + 4 }
	n0 := len(b.ifd0)
	if b.exif != nil {
		n0++
	}
	if b.gpsIFD != nil {
		n0++
	}
	off0 := 8
	offExif := off0 + ifdSize(n0)
	offGPS := offExif
	if b.exif != nil {
		offGPS += ifdSize(len(b.exif))
	}
	dataOff := offGPS
	if b.gpsIFD != nil {
		dataOff += ifdSize(len(b.gpsIFD))
	}
	ifd0 := append([]field(nil), b.ifd0...)
	long := func(tag uint16, v int) field {
		val := make([]byte, 4)
		b.bo.PutUint32(val, uint32(v))
		return field{tag, 4, 1, val}
	}
	if b.exif != nil {
		ifd0 = append(ifd0, long(tagExifIFD, offExif))
	}
	if b.gpsIFD != nil {
		ifd0 = append(ifd0, long(tagGPSIFD, offGPS))
	}
	var head, data bytes.Buffer
	if b.bo == binary.LittleEndian {
		head.WriteString("II*\x00")
	} else {
		head.WriteString("MM\x00*")
	}
	u16 := func(w *bytes.Buffer, v uint16) { var t [2]byte; b.bo.PutUint16(t[:], v); w.Write(t[:]) }
	u32 := func(w *bytes.Buffer, v uint32) { var t [4]byte; b.bo.PutUint32(t[:], v); w.Write(t[:]) }
	u32(&head, uint32(off0))
	writeIFD := func(fs []field) {
		u16(&head, uint16(len(fs)))
		for _, f := range fs {
			u16(&head, f.tag)
			u16(&head, f.typ)
			u32(&head, f.count)
			if len(f.val) <= 4 {
				var v [4]byte
				copy(v[:], f.val)
				head.Write(v[:])
			} else {
				u32(&head, uint32(dataOff+data.Len()))
				data.Write(f.val)
			}
		}
		u32(&head, 0)
	}
	writeIFD(ifd0)
	if b.exif != nil {
		writeIFD(b.exif)
	}
	if b.gpsIFD != nil {
		writeIFD(b.gpsIFD)
	}
	return append(head.Bytes(), data.Bytes()...)
}

func fullEXIF(bo binary.ByteOrder, orientation uint16, latRef, lonRef string) []byte {
	b := exifBuilder{bo: bo}
	b.ifd0 = []field{ascii(tagMake, "Canon"), ascii(tagModel, "EOS 5D Mark IV"), b.short(tagOrientation, orientation)}
	b.exif = []field{ascii(tagDateTimeOriginal, "2021:07:04 12:34:56"), ascii(tagOffsetTimeOrig, "+02:00")}
	b.gpsIFD = []field{
		ascii(tagGPSLatRef, latRef), b.rationals(tagGPSLat, 48, 1, 51, 1, 296, 10),
		ascii(tagGPSLonRef, lonRef), b.rationals(tagGPSLon, 2, 1, 17, 1, 402, 10),
	}
	return b.bytes()
}

func TestParseEXIF(t *testing.T) {
	lat := 48 + 51.0/60 + 29.6/3600
	lon := 2 + 17.0/60 + 40.2/3600
	when := time.Date(2021, 7, 4, 12, 34, 56, 0, time.FixedZone("", 2*3600))
	for _, tc := range []struct {
		name   string
		data   []byte
		orient int
		lat    float64
		lon    float64
	}{
		{"little-endian with prefix", append([]byte("Exif\x00\x00"), fullEXIF(binary.LittleEndian, 6, "N", "E")...), 6, lat, lon},
		{"big-endian no prefix", fullEXIF(binary.BigEndian, 3, "S", "W"), 3, -lat, -lon},
		{"orientation 8", fullEXIF(binary.BigEndian, 8, "N", "W"), 8, lat, -lon},
		{"orientation 0 is 1", fullEXIF(binary.LittleEndian, 0, "N", "E"), 1, lat, lon},
		{"orientation 9 is 1", fullEXIF(binary.LittleEndian, 9, "N", "E"), 1, lat, lon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseEXIF(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if e.Orientation != tc.orient || e.Make != "Canon" || e.Model != "EOS 5D Mark IV" {
				t.Errorf("got orientation %d make %q model %q", e.Orientation, e.Make, e.Model)
			}
			if !e.HasDateTimeOriginal || !e.DateTimeOriginal.Equal(when) {
				t.Errorf("DateTimeOriginal %v (ok %v), want %v", e.DateTimeOriginal, e.HasDateTimeOriginal, when)
			}
			if !e.HasGPS || math.Abs(e.Latitude-tc.lat) > 1e-9 || math.Abs(e.Longitude-tc.lon) > 1e-9 {
				t.Errorf("GPS %v %v (ok %v), want %v %v", e.Latitude, e.Longitude, e.HasGPS, tc.lat, tc.lon)
			}
		})
	}
}

func TestParseEXIFMinimalAndBroken(t *testing.T) {
	b := exifBuilder{bo: binary.LittleEndian}
	b.ifd0 = []field{b.short(tagOrientation, 5)}
	minimal := b.bytes()
	e, err := ParseEXIF(minimal)
	if err != nil || e.Orientation != 5 || e.HasGPS || e.HasDateTimeOriginal || e.Make != "" {
		t.Errorf("minimal: %+v, %v", e, err)
	}
	// A string whose value lies beyond the data is skipped, not fatal.
	b.ifd0 = []field{b.short(tagOrientation, 2), ascii(tagMake, "A long maker name")}
	trunc := b.bytes()
	trunc = trunc[:len(trunc)-5]
	if e, err := ParseEXIF(trunc); err != nil || e.Orientation != 2 || e.Make != "" {
		t.Errorf("truncated value: %+v, %v", e, err)
	}
	for _, bad := range [][]byte{nil, []byte("Exif\x00\x00"), []byte("hello world, not exif"), []byte("II*\x00\xff\xff\xff\xff"), minimal[:9]} {
		if e, err := ParseEXIF(bad); err == nil || e.Orientation != 1 {
			t.Errorf("ParseEXIF(%q) = %+v, %v; want error and orientation 1", bad, e, err)
		}
	}
}

// insertAPP1 returns a JPEG with an EXIF APP1 segment right after SOI.
func insertAPP1(jpg, exif []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), exif...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// insertEXIf returns a PNG with an eXIf chunk after IHDR.
func insertEXIf(p, exif []byte) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4
	var c bytes.Buffer
	binary.Write(&c, binary.BigEndian, uint32(len(exif)))
	c.WriteString("eXIf")
	c.Write(exif)
	binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(c.Bytes()[4:]))
	out := append([]byte{}, p[:ihdrEnd]...)
	out = append(out, c.Bytes()...)
	return append(out, p[ihdrEnd:]...)
}

// TestOrientationAllFormats checks all 8 orientations for JPEG (APP1) and
// PNG (eXIf) with EXIF written by the test: the result must equal Orient of
// the unrotated decode, with Info giving the displayed size. orient*.png
// goldens (TestDecodePillowGoldens) tie Orient itself to Pillow.
func TestOrientationAllFormats(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 11, 6))
	for y := 0; y < 6; y++ {
		for x := 0; x < 11; x++ {
			src.Set(x, y, color.NRGBA{uint8(x * 23), uint8(y * 40), uint8(x*y + 7), 255})
		}
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, src); err != nil {
		t.Fatal(err)
	}
	jpg, err := os.ReadFile(filepath.Join(clipDir, "images", "rocket.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []struct {
		name string
		data []byte
		add  func(img, exif []byte) []byte
	}{{"png", pngBuf.Bytes(), insertEXIf}, {"jpeg", jpg, insertAPP1}} {
		plain, _, err := Decode(base.data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for o := 1; o <= 8; o++ {
			for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				b := exifBuilder{bo: bo}
				b.ifd0 = []field{b.short(tagOrientation, uint16(o))}
				data := base.add(base.data, b.bytes())
				got, info, err := Decode(data, Limits{})
				if err != nil {
					t.Fatalf("%s orientation %d: %v", base.name, o, err)
				}
				want := Orient(plain, o)
				if info.Orientation != o || info.Width != want.Width || info.Height != want.Height ||
					got.Width != want.Width || !bytes.Equal(got.Pix, want.Pix) {
					t.Errorf("%s orientation %d (%v): info %+v, got %dx%d", base.name, o, bo, info, got.Width, got.Height)
				}
				if (o >= 5) != (want.Width == plain.Height && want.Width != plain.Width) {
					t.Errorf("orientation %d: size %dx%d from %dx%d", o, want.Width, want.Height, plain.Width, plain.Height)
				}
			}
		}
	}
}

// TestCoffeeEXIF6 checks the fixture stored 240x360 with orientation 6, and
// that ignoring EXIF would give the reference's diagnostic tensor instead.
func TestCoffeeEXIF6(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(clipDir, "images", "coffee_exif6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := DecodeConfig(data)
	if err != nil || info.Width != 360 || info.Height != 240 || info.Orientation != 6 || info.Format != JPEG {
		t.Fatalf("DecodeConfig = %+v, %v", info, err)
	}
	img, _, err := Decode(data, Limits{})
	if err != nil || img.Width != 360 || img.Height != 240 {
		t.Fatalf("Decode: %v", err)
	}
	raw, err := decodeJPEG(data, 0, 1)
	if err != nil || raw.Width != 240 || raw.Height != 360 {
		t.Fatalf("raw decode: %v", err)
	}
	f := openGolden(t)
	cfg := loadCLIPConfig(t)
	noEXIF, err := f.Float32("pixel_values_ignoring_exif.coffee_exif6.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(cfg.Preprocess(raw, nil), noEXIF); d > 1e-5 {
		t.Errorf("unrotated pipeline vs pixel_values_ignoring_exif: %.3g", d)
	}
	if d := maxAbsDiff(cfg.Preprocess(img, nil), noEXIF); d < 0.5 {
		t.Errorf("rotated output is too close to the unrotated one (%.3g): orientation not applied?", d)
	}
}

// TestDecodeReportsEXIF: Decode hands back the metadata of the EXIF block
// it found while reading the header, for JPEG and PNG, and none for a file
// without one.
func TestDecodeReportsEXIF(t *testing.T) {
	ex := fullEXIF(binary.LittleEndian, 1, "N", "E")
	jpg := insertAPP1(fixture(t, "astronaut.jpg"), ex)
	pngData := insertEXIf(fixture(t, "chelsea.png"), ex)
	for name, data := range map[string][]byte{"jpeg": jpg, "png": pngData} {
		_, info, err := Decode(data, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := info.EXIF
		if !info.HasEXIF || e.Make != "Canon" || e.Model != "EOS 5D Mark IV" || !e.HasDateTimeOriginal || !e.HasGPS {
			t.Errorf("%s: info %+v", name, info)
		}
	}
	if _, info, err := Decode(fixture(t, "chelsea.png"), Limits{}); err != nil || info.HasEXIF {
		t.Fatalf("chelsea.png: HasEXIF %v, %v", info.HasEXIF, err)
	}
}
