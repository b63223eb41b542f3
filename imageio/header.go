package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// jpegHeader is what scanJPEG finds before the first SOS marker.
type jpegHeader struct {
	width, height, components int
	exif                      []byte // first APP1 "Exif\0" payload, nil if none
	adobe                     bool   // an Adobe APP14 segment is present
	adobeTransform            int
}

// scanJPEG walks the marker segments of a JPEG up to the first SOS and
// returns the frame size (from the first SOFn) and the first EXIF block.
func scanJPEG(b []byte) (jpegHeader, error) {
	var h jpegHeader
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return h, errors.New("missing SOI marker")
	}
	seenSOF := false
	for i := 2; ; {
		// Skip to the next marker, allowing fill bytes.
		if i >= len(b) {
			return h, errors.New("truncated before SOS")
		}
		if b[i] != 0xFF {
			return h, fmt.Errorf("expected marker at offset %d, found 0x%02x", i, b[i])
		}
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return h, errors.New("truncated marker")
		}
		m := b[i]
		i++
		switch {
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue // no payload
		case m == 0xD9:
			return h, errors.New("EOI before SOS")
		}
		if i+2 > len(b) {
			return h, fmt.Errorf("truncated marker 0xFF%02X", m)
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			return h, fmt.Errorf("marker 0xFF%02X: bad length %d", m, n)
		}
		seg := b[i+2 : i+n]
		i += n
		switch {
		case m == 0xDA: // SOS
			if !seenSOF {
				return h, errors.New("SOS before SOF")
			}
			return h, nil
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			if seenSOF {
				continue
			}
			if len(seg) < 6 {
				return h, errors.New("short SOF segment")
			}
			h.height = int(binary.BigEndian.Uint16(seg[1:]))
			h.width = int(binary.BigEndian.Uint16(seg[3:]))
			h.components = int(seg[5])
			if h.height == 0 {
				return h, fmt.Errorf("SOF height 0 (DNL) unsupported: %w", ErrUnsupported)
			}
			seenSOF = true
		case m == 0xE1:
			if h.exif == nil && bytes.HasPrefix(seg, []byte("Exif\x00")) {
				h.exif = seg
			}
		case m == 0xEE:
			if len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")) {
				h.adobe = true
				h.adobeTransform = int(seg[11])
			}
		}
	}
}

// pngHeader is what scanPNG finds in the chunk list.
type pngHeader struct {
	width, height int
	bitsPerPixel  int
	idatBytes     int64 // total IDAT payload
	// orientation as Pillow's PngImageFile.getexif finds it, and the eXIf
	// block it comes from (nil if none).
	orientation int
	exif        []byte
	// cleanEnd: the chunk list ends exactly at the end of the file without
	// IEND. Pillow accepts such files; image/png wants IEND.
	cleanEnd bool
}

// maxDeflateRatio bounds how many bytes deflate can expand one byte into
// (a 258-byte match coded in 2 bits).
const maxDeflateRatio = 1032

// checkPNGData refuses a PNG whose IDAT data cannot possibly hold its pixels
// before the decoder allocates the image (a tiny file claiming a large size).
func (h pngHeader) checkData() error {
	need := int64(h.width) * int64(h.height) * int64(h.bitsPerPixel) / 8
	if h.idatBytes*maxDeflateRatio+4096 < need {
		return fmt.Errorf("png: %d bytes of IDAT cannot hold %dx%d pixels (truncated or corrupt)", h.idatBytes, h.width, h.height)
	}
	return nil
}

// scanPNG reads IHDR and locates the eXIf chunk without decompressing any
// image data. As in Pillow, an eXIf chunk before IDAT wins; otherwise the
// last one after IDAT is used.
func scanPNG(b []byte) (pngHeader, error) {
	var h pngHeader
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(b, []byte(sig)) {
		return h, errors.New("missing PNG signature")
	}
	i := len(sig)
	if i+8+13 > len(b) || string(b[i+4:i+8]) != "IHDR" || binary.BigEndian.Uint32(b[i:]) != 13 {
		return h, errors.New("missing or short IHDR chunk")
	}
	w := binary.BigEndian.Uint32(b[i+8:])
	ht := binary.BigEndian.Uint32(b[i+12:])
	if w > 1<<31-1 || ht > 1<<31-1 {
		return h, fmt.Errorf("IHDR size %dx%d out of range", w, ht)
	}
	h.width, h.height = int(w), int(ht)
	depth, ctype := int(b[i+16]), b[i+17]
	channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
	if channels == 0 || depth == 0 {
		return h, fmt.Errorf("IHDR: bad colour type %d or bit depth %d", ctype, depth)
	}
	h.bitsPerPixel = depth * channels
	seenIDAT := false
	var cur, pre pngMeta
	budget := maxTextInflate
	sawIEND := false
	for i < len(b) {
		if i+8 > len(b) {
			break
		}
		n := int64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			break // truncated: the pixel decoder will report it
		}
		data := b[i+8 : end]
		switch typ {
		case "IDAT":
			if !seenIDAT {
				pre = cur
			}
			seenIDAT = true
			h.idatBytes += n
		case "eXIf":
			cur.exif = data
		case "tEXt", "zTXt", "iTXt":
			cur.text(typ, data, &budget)
		}
		if typ == "IEND" {
			sawIEND = true
			break
		}
		i = int(end) + 4 // skip CRC
	}
	h.cleanEnd = !sawIEND && i == len(b)
	if !seenIDAT {
		pre = cur
	}
	// Pillow's getexif uses the chunks read by Image.open (those before
	// IDAT) when they include eXIf; otherwise it loads the image, which also
	// reads the chunks after IDAT (later ones replacing earlier ones).
	if pre.exif != nil {
		h.orientation, h.exif = pre.orientation(), pre.exif
	} else {
		h.orientation, h.exif = cur.orientation(), cur.exif
	}
	return h, nil
}

// pngMeta is the part of Pillow's PNG info dict that decides orientation.
type pngMeta struct {
	exif       []byte // eXIf chunk, or tEXt "exif"
	rawProfile []byte // "Raw profile type exif" text (ImageMagick)
	xmp        []byte // "XML:com.adobe.xmp" text
}

// maxTextChunk is Pillow's MAX_TEXT_CHUNK limit on decompressed text.
const maxTextChunk = 1 << 20

// maxTextInflate bounds the text decompressed while scanning one PNG header
// (a file could repeat a compressed 1 MB text chunk many times).
const maxTextInflate = 8 << 20

// text records a tEXt, zTXt or iTXt chunk the way Pillow's PngStream does
// for the keys that matter here, inflating at most *budget bytes in all.
func (m *pngMeta) text(typ string, data []byte, budget *int) {
	k, v, _ := bytes.Cut(data, []byte{0})
	switch string(k) {
	case "exif", "Raw profile type exif", "XML:com.adobe.xmp":
	default:
		return
	}
	inflate := func(z []byte) []byte {
		if *budget <= 0 {
			return nil
		}
		out := inflateText(z)
		*budget -= len(out) + 1
		return out
	}
	switch typ {
	case "zTXt":
		if len(v) > 0 && v[0] != 0 {
			return
		}
		if len(v) > 0 {
			v = v[1:]
		}
		v = inflate(v)
	case "iTXt":
		if len(v) < 2 {
			return
		}
		cf, cm, r := v[0], v[1], v[2:]
		parts := bytes.SplitN(r, []byte{0}, 3)
		if len(parts) != 3 {
			return
		}
		v = parts[2]
		if cf != 0 {
			if cm != 0 {
				return
			}
			v = inflate(v)
			if v == nil {
				return
			}
		}
	}
	switch string(k) {
	case "exif":
		if typ == "tEXt" {
			m.exif = v
		}
	case "Raw profile type exif":
		m.rawProfile = v
	case "XML:com.adobe.xmp":
		m.xmp = v
	}
}

// inflateText decompresses a zlib text payload (nil on error or when the
// result exceeds maxTextChunk).
func inflateText(z []byte) []byte {
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxTextChunk+1))
	if err != nil || len(out) > maxTextChunk {
		return nil
	}
	return out
}

// orientation mirrors Pillow 9.4's Image.getexif + exif_transpose lookup.
func (m pngMeta) orientation() int {
	data := m.exif
	if data == nil && m.rawProfile != nil {
		// bytes.fromhex("".join(v.split("\n")[3:]))
		lines := bytes.Split(m.rawProfile, []byte("\n"))
		if len(lines) > 3 {
			data = decodeHexSpaces(bytes.Join(lines[3:], nil))
		}
	}
	present := false
	o := 1
	if data != nil {
		if e, has, err := parseEXIF(data); err == nil {
			o, present = e.Orientation, has
		}
	}
	if !present && m.xmp != nil {
		if v, ok := xmpOrientation(m.xmp); ok {
			o = v
		}
	}
	return o
}

// decodeHexSpaces is Python's bytes.fromhex: hex pairs, ASCII whitespace
// allowed between them; nil if malformed.
func decodeHexSpaces(s []byte) []byte {
	var out []byte
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil
		}
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi < 0 || lo < 0 {
			return nil
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return out
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// xmpOrientation finds the first `tiff:Orientation="D` or
// `tiff:Orientation>D` (Pillow's regex); values outside 1..8 mean 1.
func xmpOrientation(x []byte) (int, bool) {
	const key = "tiff:Orientation"
	for i := 0; ; {
		j := bytes.Index(x[i:], []byte(key))
		if j < 0 {
			return 0, false
		}
		p := i + j + len(key)
		if p+1 < len(x) && x[p] == '>' && isDigit(x[p+1]) {
			return clampOrientation(int(x[p+1] - '0')), true
		}
		if p+2 < len(x) && x[p] == '=' && x[p+1] == '"' && isDigit(x[p+2]) {
			return clampOrientation(int(x[p+2] - '0')), true
		}
		i = p
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func clampOrientation(o int) int {
	if o < 1 || o > 8 {
		return 1
	}
	return o
}

// checkBMPData refuses an uncompressed BMP whose file is too short for the
// rows its header announces, before the decoder allocates the image.
func checkBMPData(b []byte, width, height int) error {
	if len(b) < 30 {
		return errors.New("bmp: short header")
	}
	off := int64(binary.LittleEndian.Uint32(b[10:]))
	bpp := int64(binary.LittleEndian.Uint16(b[28:]))
	row := (int64(width)*bpp + 31) / 32 * 4
	if need := off + row*int64(height); int64(len(b)) < need {
		return fmt.Errorf("bmp: %d bytes, but %dx%d at %d bits per pixel needs %d (truncated)", len(b), width, height, bpp, need)
	}
	return nil
}

// webpEXIF returns the payload of the first EXIF chunk of a RIFF/WebP file.
func webpEXIF(b []byte) []byte {
	if len(b) < 12 {
		return nil
	}
	for i := 12; i+8 <= len(b); {
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			return nil
		}
		if string(b[i:i+4]) == "EXIF" {
			return b[i+8 : end]
		}
		i = int(end + end&1)
	}
	return nil
}

// gifFrame describes the first image of a GIF as the file stores it.
type gifFrame struct {
	palette     []byte // RGB triplets of the colour table the frame uses
	transparent int    // transparent index, -1 if none
	flagsAt     int    // offset of the flags byte declaring that table
	tableAt     int    // offset of that table
}

// scanGIF finds the colour table and transparent index of the first frame,
// which image/gif hides (it zeroes the transparent palette entry).
func scanGIF(b []byte) (gifFrame, error) {
	f := gifFrame{transparent: -1}
	if len(b) < 13 {
		return f, errors.New("short GIF header")
	}
	flags := b[10]
	i := 13
	var global []byte
	if flags&0x80 != 0 {
		n := 3 << (flags&7 + 1)
		if i+n > len(b) {
			return f, errors.New("truncated global colour table")
		}
		global = b[i : i+n]
		i += n
	}
	globalAt := 13
	for i < len(b) {
		switch b[i] {
		case 0x21: // extension
			if i+2 > len(b) {
				return f, errors.New("truncated extension")
			}
			label := b[i+1]
			i += 2
			first := true
			for {
				if i >= len(b) {
					return f, errors.New("truncated extension")
				}
				n := int(b[i])
				i++
				if n == 0 {
					break
				}
				if i+n > len(b) {
					return f, errors.New("truncated extension block")
				}
				if label == 0xF9 && first && n >= 4 {
					if b[i]&1 != 0 {
						f.transparent = int(b[i+3])
					} else {
						f.transparent = -1
					}
				}
				first = false
				i += n
			}
		case 0x2C: // image descriptor
			if i+10 > len(b) {
				return f, errors.New("truncated image descriptor")
			}
			fl := b[i+9]
			f.palette, f.flagsAt, f.tableAt = global, 10, globalAt
			if fl&0x80 != 0 {
				f.flagsAt, f.tableAt = i+9, i+10
				n := 3 << (fl&7 + 1)
				if i+10+n > len(b) {
					return f, errors.New("truncated local colour table")
				}
				f.palette = b[i+10 : i+10+n]
			}
			return f, nil
		default:
			return f, fmt.Errorf("unexpected GIF block 0x%02x", b[i])
		}
	}
	return f, errors.New("no image in GIF")
}
