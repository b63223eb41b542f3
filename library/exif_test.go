package library

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"
)

// tinyEXIF returns a little-endian EXIF block with Make in IFD0 and
// DateTimeOriginal in the Exif IFD.
func tinyEXIF(maker, date string) []byte {
	le := binary.LittleEndian
	mk := append([]byte(maker), 0)
	dt := append([]byte(date), 0) // 20 bytes
	const ifd0 = 8
	exifIFD := ifd0 + 2 + 2*12 + 4
	data := exifIFD + 2 + 12 + 4 // where the values go
	b := make([]byte, data, data+len(mk)+len(dt))
	copy(b, "II*\x00")
	le.PutUint32(b[4:], ifd0)
	le.PutUint16(b[ifd0:], 2)
	entry := func(at int, tag, typ uint16, count, value uint32) {
		le.PutUint16(b[at:], tag)
		le.PutUint16(b[at+2:], typ)
		le.PutUint32(b[at+4:], count)
		le.PutUint32(b[at+8:], value)
	}
	entry(ifd0+2, 0x010F, 2, uint32(len(mk)), uint32(data)) // Make
	entry(ifd0+14, 0x8769, 4, 1, uint32(exifIFD))           // Exif IFD pointer
	le.PutUint16(b[exifIFD:], 1)
	entry(exifIFD+2, 0x9003, 2, uint32(len(dt)), uint32(data+len(mk))) // DateTimeOriginal
	b = append(b, mk...)
	return append(b, dt...)
}

// TestEXIFReachesCatalog: the date taken and the camera of a JPEG's EXIF
// block are stored in the catalog.
func TestEXIFReachesCatalog(t *testing.T) {
	ctx := context.Background()
	jpg := fixtureImage(t, "rocket.jpg")
	payload := append([]byte("Exif\x00\x00"), tinyEXIF("Sightcam", "2019:05:06 07:08:09")...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	withEXIF := append(append(append([]byte{}, jpg[:2]...), append(seg, payload...)...), jpg[2:]...)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "dated.jpg"), withEXIF)
	l := openLib(t, t.TempDir())
	defer l.Close()
	if _, err := l.Index(ctx, []string{dir}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	id, err := l.Resolve(ctx, filepath.Join(dir, "dated.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := l.local.cat.Image(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC); !im.TakenAt.Equal(want) || im.Camera != "Sightcam" {
		t.Fatalf("taken %v camera %q, want %v Sightcam", im.TakenAt, im.Camera, want)
	}
}
