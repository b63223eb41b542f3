//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-openapi/strfmt"
)

// ImageID returns the id of the image with content hash h: the hash's
// first 8 bytes as a big-endian integer shifted right by one (so that it is
// positive), with 0 mapped to 1. The hash must have at least 8 bytes.
func ImageID(h []byte) (int64, error) {
	if len(h) < 8 {
		return 0, fmt.Errorf("weaviate: content hash of %d bytes: want at least 8", len(h))
	}
	id := int64(binary.BigEndian.Uint64(h[:8]) >> 1)
	if id == 0 {
		id = 1
	}
	return id, nil
}

// imageUUIDSuffix ends every image UUID ("SIGHT" in ASCII, then zeros).
const imageUUIDSuffix = "-5349-474854000000"

// imageUUID returns the object UUID of image id: its 16 hex digits, then a
// constant suffix.
func imageUUID(id int64) string {
	x := fmt.Sprintf("%016x", uint64(id))
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + imageUUIDSuffix
}

// parseImageUUID inverts imageUUID.
func parseImageUUID(u string) (int64, error) {
	u = strings.ToLower(u)
	if len(u) != 36 || !strings.HasSuffix(u, imageUUIDSuffix) || u[8] != '-' || u[13] != '-' {
		return 0, fmt.Errorf("weaviate: %q is not a Sight image UUID", u)
	}
	n, err := strconv.ParseUint(u[:8]+u[9:13]+u[14:18], 16, 64)
	if err != nil || n == 0 || n > 1<<63-1 {
		return 0, fmt.Errorf("weaviate: %q is not a Sight image UUID", u)
	}
	return int64(n), nil
}

// keyUUID returns a UUID (version 8, RFC 9562) made of the SHA-256 of kind
// and key, for path and meta objects.
func keyUUID(kind, key string) string {
	h := sha256.New()
	h.Write([]byte("sight\x00" + kind + "\x00"))
	h.Write([]byte(key))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func pathUUID(p string) string { return keyUUID("path", p) }
func metaUUID(k string) string { return keyUUID("meta", k) }

func strfmtUUID(u string) strfmt.UUID { return strfmt.UUID(u) }
