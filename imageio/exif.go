package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// EXIF holds the metadata Sight uses from an EXIF block.
type EXIF struct {
	// Orientation is tag 0x0112 of IFD0, 1..8; 1 when absent or invalid.
	Orientation int
	// Make and Model are the camera maker and model (tags 0x010F, 0x0110).
	Make, Model string
	// DateTimeOriginal is tag 0x9003 of the Exif IFD. The wall clock is
	// interpreted in the zone of OffsetTimeOriginal (0x9011) when present,
	// otherwise in UTC. HasDateTimeOriginal reports whether it was found.
	DateTimeOriginal    time.Time
	HasDateTimeOriginal bool
	// Latitude and Longitude are decimal degrees (south and west negative)
	// from the GPS IFD; HasGPS reports whether both were present and valid.
	Latitude, Longitude float64
	HasGPS              bool
}

// EXIF/TIFF tags read by ParseEXIF.
const (
	tagOrientation      = 0x0112
	tagMake             = 0x010F
	tagModel            = 0x0110
	tagExifIFD          = 0x8769
	tagGPSIFD           = 0x8825
	tagDateTimeOriginal = 0x9003
	tagOffsetTimeOrig   = 0x9011
	tagGPSLatRef        = 1
	tagGPSLat           = 2
	tagGPSLonRef        = 3
	tagGPSLon           = 4
)

// maxIFDEntries bounds the work done on one (possibly hostile) IFD.
const maxIFDEntries = 1000

// ifdEntry is one 12-byte directory entry with its value bytes resolved.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	val      []byte
}

type tiffReader struct {
	b  []byte
	bo binary.ByteOrder
}

// typeSize is the byte size of one value of a TIFF field type, 0 if unknown.
func typeSize(t uint16) int64 {
	switch t {
	case 1, 2, 6, 7: // BYTE ASCII SBYTE UNDEFINED
		return 1
	case 3, 8: // SHORT SSHORT
		return 2
	case 4, 9, 11, 13: // LONG SLONG FLOAT IFD
		return 4
	case 5, 10, 12: // RATIONAL SRATIONAL DOUBLE
		return 8
	}
	return 0
}

// ifd reads the directory at off. Entries whose values lie outside the
// data are skipped, as Pillow does; a directory that does not fit is an error.
func (r tiffReader) ifd(off uint32) ([]ifdEntry, error) {
	if int64(off)+2 > int64(len(r.b)) {
		return nil, fmt.Errorf("IFD offset %d beyond %d bytes", off, len(r.b))
	}
	n := int(r.bo.Uint16(r.b[off:]))
	if n > maxIFDEntries {
		return nil, fmt.Errorf("IFD with %d entries", n)
	}
	p := int64(off) + 2
	var out []ifdEntry
	for k := 0; k < n; k++ {
		if p+12 > int64(len(r.b)) {
			if k == 0 {
				return nil, errors.New("truncated IFD")
			}
			break // keep what was read, as Pillow does
		}
		e := r.b[p : p+12]
		p += 12
		ent := ifdEntry{tag: r.bo.Uint16(e), typ: r.bo.Uint16(e[2:]), count: r.bo.Uint32(e[4:])}
		size := typeSize(ent.typ) * int64(ent.count)
		if size == 0 {
			continue
		}
		if size <= 4 {
			ent.val = e[8 : 8+size]
		} else {
			vo := int64(r.bo.Uint32(e[8:]))
			if vo+size > int64(len(r.b)) {
				continue
			}
			ent.val = r.b[vo : vo+size]
		}
		out = append(out, ent)
	}
	return out, nil
}

// uint returns the first value of an integer entry.
func (r tiffReader) uint(e ifdEntry) (uint32, bool) {
	if e.count != 1 {
		return 0, false
	}
	switch e.typ {
	case 1:
		return uint32(e.val[0]), true
	case 3:
		return uint32(r.bo.Uint16(e.val)), true
	case 4:
		return r.bo.Uint32(e.val), true
	case 8:
		return uint32(int32(int16(r.bo.Uint16(e.val)))), true
	case 9:
		return r.bo.Uint32(e.val), true
	}
	return 0, false
}

func asciiValue(e ifdEntry) string {
	if e.typ != 2 && e.typ != 7 && e.typ != 1 {
		return ""
	}
	s := e.val
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(s), ""))
}

// degrees converts three RATIONALs (degrees, minutes, seconds).
func (r tiffReader) degrees(e ifdEntry) (float64, bool) {
	if e.typ != 5 || e.count < 3 {
		return 0, false
	}
	v := 0.0
	for k, div := range [3]float64{1, 60, 3600} {
		num := r.bo.Uint32(e.val[8*k:])
		den := r.bo.Uint32(e.val[8*k+4:])
		if den == 0 {
			if num == 0 {
				continue
			}
			return 0, false
		}
		v += float64(num) / float64(den) / div
	}
	return v, true
}

// ParseEXIF parses an EXIF block: a TIFF structure, optionally preceded by
// "Exif\x00\x00" as in a JPEG APP1 segment. It also accepts a whole TIFF
// file (its first IFD). Malformed optional fields are ignored; an error is
// returned only when there is no readable TIFF header and first IFD.
func ParseEXIF(data []byte) (EXIF, error) {
	ex, _, err := parseEXIF(data)
	return ex, err
}

// parseEXIF is ParseEXIF that also reports whether IFD0 has an Orientation
// tag at all (Pillow consults XMP only when it does not).
func parseEXIF(data []byte) (ex EXIF, hasOrientation bool, err error) {
	ex = EXIF{Orientation: 1}
	data = bytes.TrimPrefix(data, []byte("Exif\x00\x00"))
	if len(data) < 8 {
		return ex, false, errors.New("exif: short TIFF header")
	}
	var r tiffReader
	switch string(data[:4]) {
	case "II*\x00":
		r = tiffReader{data, binary.LittleEndian}
	case "MM\x00*":
		r = tiffReader{data, binary.BigEndian}
	default:
		return ex, false, fmt.Errorf("exif: bad TIFF header % x", data[:4])
	}
	ifd0, err := r.ifd(r.bo.Uint32(data[4:]))
	if err != nil {
		return ex, false, fmt.Errorf("exif: IFD0: %w", err)
	}
	var exifOff, gpsOff uint32
	for _, e := range ifd0 {
		switch e.tag {
		case tagOrientation:
			hasOrientation = true
			if v, ok := r.uint(e); ok && v >= 1 && v <= 8 {
				ex.Orientation = int(v)
			} else {
				ex.Orientation = 1
			}
		case tagMake:
			ex.Make = asciiValue(e)
		case tagModel:
			ex.Model = asciiValue(e)
		case tagExifIFD:
			exifOff, _ = r.uint(e)
		case tagGPSIFD:
			gpsOff, _ = r.uint(e)
		}
	}
	if exifOff != 0 {
		if ents, err := r.ifd(exifOff); err == nil {
			var dt, tz string
			for _, e := range ents {
				switch e.tag {
				case tagDateTimeOriginal:
					dt = asciiValue(e)
				case tagOffsetTimeOrig:
					tz = asciiValue(e)
				}
			}
			ex.DateTimeOriginal, ex.HasDateTimeOriginal = parseEXIFTime(dt, tz)
		}
	}
	if gpsOff != 0 {
		if ents, err := r.ifd(gpsOff); err == nil {
			var latRef, lonRef string
			var lat, lon float64
			var okLat, okLon bool
			for _, e := range ents {
				switch e.tag {
				case tagGPSLatRef:
					latRef = asciiValue(e)
				case tagGPSLonRef:
					lonRef = asciiValue(e)
				case tagGPSLat:
					lat, okLat = r.degrees(e)
				case tagGPSLon:
					lon, okLon = r.degrees(e)
				}
			}
			if latRef == "S" {
				lat = -lat
			}
			if lonRef == "W" {
				lon = -lon
			}
			if okLat && okLon && math.Abs(lat) <= 90 && math.Abs(lon) <= 180 {
				ex.Latitude, ex.Longitude, ex.HasGPS = lat, lon, true
			}
		}
	}
	return ex, hasOrientation, nil
}

// parseEXIFTime parses "2006:01:02 15:04:05" with an optional "+07:00" offset.
func parseEXIFTime(dt, tz string) (time.Time, bool) {
	if len(dt) < 19 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006:01:02 15:04:05", dt[:19])
	if err != nil {
		return time.Time{}, false
	}
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		if z, err := time.Parse("-07:00", tz); err == nil {
			_, off := z.Zone()
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone(tz, off))
		}
	}
	return t, true
}
