package hub

import (
	"fmt"
	"testing"
)

// FuzzParseContentRange checks that any Content-Range header is either
// rejected or yields a consistent range.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 100-199/*", "bytes 5-4/10", "bytes */100", "bytes -1-3/4", "bytes 9223372036854775807-9223372036854775807/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, total, ok := parseContentRange(s)
		if !ok {
			return
		}
		if start < 0 || (total != -1 && total <= start) {
			t.Fatalf("parseContentRange(%q) = %d, %d", s, start, total)
		}
		if total == -1 {
			return
		}
		var a, b, c int64
		if n, err := fmt.Sscanf(s, "bytes %d-%d/%d", &a, &b, &c); n != 3 || err != nil || a != start || c != total {
			t.Fatalf("parseContentRange(%q) = %d, %d; Sscanf gives %d %d %d (%v)", s, start, total, a, b, c, err)
		}
	})
}
