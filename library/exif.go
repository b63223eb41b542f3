package library

import (
	"bytes"
	"encoding/binary"

	"github.com/sightsearch/sight/imageio"
)

// readEXIF finds and parses the EXIF block of a JPEG (APP1), PNG (eXIf),
// WebP (EXIF chunk) or TIFF file.
func readEXIF(data []byte) (imageio.EXIF, bool) {
	block := exifBlock(data)
	if block == nil {
		return imageio.EXIF{}, false
	}
	ex, err := imageio.ParseEXIF(block)
	return ex, err == nil
}

func exifBlock(b []byte) []byte {
	switch f, _ := imageio.Sniff(b); f {
	case imageio.JPEG:
		for i := 2; i+4 <= len(b) && b[i] == 0xff; {
			marker := b[i+1]
			if marker == 0xda || marker == 0xd9 { // start of scan, end of image
				return nil
			}
			n := int(binary.BigEndian.Uint16(b[i+2:]))
			if n < 2 || i+2+n > len(b) {
				return nil
			}
			seg := b[i+4 : i+2+n]
			if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
				return seg
			}
			i += 2 + n
		}
	case imageio.PNG:
		for i := 8; i+12 <= len(b); {
			n := int(binary.BigEndian.Uint32(b[i:]))
			if n < 0 || i+12+n > len(b) {
				return nil
			}
			typ := string(b[i+4 : i+8])
			if typ == "eXIf" {
				return b[i+8 : i+8+n]
			}
			if typ == "IDAT" || typ == "IEND" {
				return nil
			}
			i += 12 + n
		}
	case imageio.WebP:
		for i := 12; i+8 <= len(b); {
			n := int(binary.LittleEndian.Uint32(b[i+4:]))
			if n < 0 || i+8+n > len(b) {
				return nil
			}
			if string(b[i:i+4]) == "EXIF" {
				return b[i+8 : i+8+n]
			}
			i += 8 + n + n&1
		}
	case imageio.TIFF:
		return b
	}
	return nil
}
