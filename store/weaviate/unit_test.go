//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sightsearch/sight/catalog"
	"github.com/sightsearch/sight/store"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		want   []string
		bad    string // a part the error must name
	}{
		{in: "weaviate://127.0.0.1:8080", scheme: "http", want: []string{"127.0.0.1:8080"}},
		{in: "weaviate://a:1,b.example:2/", scheme: "http", want: []string{"a:1", "b.example:2"}},
		{in: "weaviate://[::1]:8080,127.0.0.1:9", scheme: "http", want: []string{"[::1]:8080", "127.0.0.1:9"}},
		{in: "weaviate+https://x.weaviate.cloud", scheme: "https", want: []string{"x.weaviate.cloud:443"}},
		{in: "weaviate+https://a:8443,b,[::1],[::2]:9", scheme: "https", want: []string{"a:8443", "b:443", "[::1]:443", "[::2]:9"}},
		{in: "http://a:1", bad: "weaviate://"},
		{in: "weaviate://", bad: "names no host"},
		{in: "weaviate+https://", bad: "names no host"},
		{in: "weaviate://host", bad: `"host"`},
		{in: "weaviate://a:1,,b:2", bad: `""`},
		{in: "weaviate+https://a,,b", bad: `""`},
		{in: "weaviate://a:0", bad: `"0"`},
		{in: "weaviate://a:99999", bad: `"99999"`},
		{in: "weaviate://a:x1", bad: `"x1"`},
		{in: "weaviate://user@a:1", bad: "user@a:1"},
		{in: "weaviate+https://user@a", bad: "user@a"},
		{in: "weaviate://:80", bad: ":80"},
	}
	for _, tc := range tests {
		got, err := ParseURL(tc.in)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ParseURL(%q) = %v, %v; want an error naming %s", tc.in, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got.Scheme != tc.scheme || fmt.Sprint(got.Hosts) != fmt.Sprint(tc.want) {
			t.Errorf("ParseURL(%q) = %+v, %v; want %s %v", tc.in, got, err, tc.scheme, tc.want)
		}
		if again, err := ParseURL(got.String()); err != nil || again.String() != got.String() {
			t.Errorf("ParseURL(%q).String() = %q does not parse back: %+v, %v", tc.in, got, again, err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"weaviate://a:1", "weaviate://[::1]:80,b:2", "weaviate://a", "x", "weaviate+https://a,[::1],b:9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseURL(s)
		if err != nil {
			return
		}
		if len(a.Hosts) == 0 || (a.Scheme != "http" && a.Scheme != "https") {
			t.Fatalf("ParseURL(%q) = %+v and no error", s, a)
		}
		for _, h := range a.Hosts {
			if _, _, err := net.SplitHostPort(h); err != nil {
				t.Fatalf("ParseURL(%q) gave %q: %v", s, h, err)
			}
		}
		if again, err := ParseURL(a.String()); err != nil || again.String() != a.String() {
			t.Fatalf("ParseURL(%q) = %q does not parse back: %v", s, a, err)
		}
	})
}

func TestImageID(t *testing.T) {
	h := sha256.Sum256([]byte("x"))
	id, err := ImageID(h[:])
	if err != nil || id <= 0 {
		t.Fatalf("ImageID = %d, %v", id, err)
	}
	if want := int64(binary.BigEndian.Uint64(h[:8]) >> 1); id != want {
		t.Fatalf("ImageID = %d, want %d", id, want)
	}
	tests := []struct {
		hash []byte
		want int64
	}{
		{make([]byte, 32), 1},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 1}, 1},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 2}, 1},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 4, 9}, 2},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1<<63 - 1},
	}
	for _, tc := range tests {
		if got, err := ImageID(tc.hash); err != nil || got != tc.want {
			t.Errorf("ImageID(%x) = %d, %v; want %d", tc.hash, got, err, tc.want)
		}
	}
	if _, err := ImageID([]byte{1, 2, 3}); err == nil {
		t.Error("ImageID of a 3-byte hash: no error")
	}
}

func TestImageUUID(t *testing.T) {
	for _, id := range []int64{1, 2, 255, 1 << 40, 1<<63 - 1} {
		u := imageUUID(id)
		if len(u) != 36 || strings.Count(u, "-") != 4 {
			t.Fatalf("imageUUID(%d) = %q", id, u)
		}
		got, err := parseImageUUID(strings.ToUpper(u))
		if err != nil || got != id {
			t.Fatalf("parseImageUUID(imageUUID(%d)) = %d, %v", id, got, err)
		}
	}
	for _, u := range []string{"", "00000000-0000-0000-5349-474854000000", keyUUID("path", "/a"),
		"0000000g-0000-0001-5349-474854000000", "80000000-0000-0000-5349-474854000000"} {
		if id, err := parseImageUUID(u); err == nil {
			t.Errorf("parseImageUUID(%q) = %d, want an error", u, id)
		}
	}
	a, b := keyUUID("path", "/x"), keyUUID("meta", "/x")
	if a == b || a != keyUUID("path", "/x") || len(a) != 36 || a[14] != '8' {
		t.Errorf("keyUUID: %q %q", a, b)
	}
}

func FuzzParseImageUUID(f *testing.F) {
	f.Add(imageUUID(12345))
	f.Add("zzzzzzzz-zzzz-zzzz-5349-474854000000")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseImageUUID(s)
		if err == nil && (id <= 0 || !strings.EqualFold(imageUUID(id), s)) {
			t.Fatalf("parseImageUUID(%q) = %d", s, id)
		}
	})
}

func TestPushdown(t *testing.T) {
	day := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		f    catalog.Filter
		want []string
	}{
		{catalog.Filter{}, nil},
		{catalog.Filter{PathGlob: "*.jpg"}, nil},
		{catalog.Filter{Formats: []string{"PNG", "Jpeg"}}, []string{`valueText:["png","jpeg"]`}},
		{catalog.Filter{MinWidth: 10}, []string{`{path:["width"], operator:GreaterThanEqual, valueInt:10}`}},
		{catalog.Filter{MinHeight: 5, Formats: []string{"png", `a"b`}}, []string{"operator:And", `valueInt:5`, `valueText:["png","a\"b"]`}},
		{catalog.Filter{After: day, Before: day.Add(time.Hour)}, []string{"operator:Or", "valueBoolean:false",
			fmt.Sprintf("GreaterThanEqual, valueInt:%d", day.Unix()), fmt.Sprintf("LessThanEqual, valueInt:%d", day.Add(time.Hour).Unix())}},
		{catalog.Filter{After: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}, nil}, // past 32 bits: checked in memory only
	}
	for _, tc := range tests {
		got := pushdown(tc.f)
		if tc.want == nil && got != "" {
			t.Errorf("pushdown(%+v) = %s, want none", tc.f, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("pushdown(%+v) = %s, want it to contain %s", tc.f, got, w)
			}
		}
	}
}

func TestOpenBadOptions(t *testing.T) {
	ctx := context.Background()
	for _, o := range []Options{
		{Collection: "lower"}, {Collection: "Bad-Name"}, {Quantizer: "zz"},
		{ReadConsistency: "TWO"}, {WriteConsistency: "one"}, {Shards: -1}, {Replication: -2},
	} {
		if _, err := Open(ctx, "weaviate://127.0.0.1:1", o); err == nil {
			t.Errorf("Open with %+v: no error", o)
		}
	}
	if _, err := Open(ctx, "weaviate:/x", Options{}); err == nil {
		t.Error("Open of a bad address: no error")
	}
}

// TestOddResponses runs every method against a server that answers
// nonsense: each must return an error, never panic.
func TestOddResponses(t *testing.T) {
	bodies := map[string]string{
		"garbage":   `not json{`,
		"null":      `{"data":{"Get":{"SightImage":null,"SightImagePath":null,"SightImageMeta":null}}}`,
		"errors":    `{"errors":[{"message":"boom"}]}`,
		"wrongtype": `{"data":{"Get":{"SightImage":[{"hash":5,"width":"w","_additional":{"id":"nope"}}],"SightImagePath":[{"path":1,"image":"x","mtime":"y","_additional":{"id":"q"}}]},"Aggregate":{"SightImage":"x","SightImagePath":[{"meta":{"count":"x"}}]}}}`,
		"noid":      `{"data":{"Get":{"SightImage":[{"hash":"zz","_additional":{}}],"SightImagePath":[{"path":"/a","image":"12","mtime":"1","_additional":{"id":"` + keyUUID("path", "/a") + `"}}]}}}`,
		"status500": ``,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasPrefix(r.URL.Path, "/v1/schema/"):
					w.Write([]byte(`{"class":"X"}`))
				case strings.HasPrefix(r.URL.Path, "/v1/meta"):
					w.Write([]byte(`{"version":"1.35.2"}`))
				case name == "null" && r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/objects/"):
					w.WriteHeader(404) // how an empty store answers a read by id
				case name == "status500":
					w.WriteHeader(500)
				default:
					w.Write([]byte(body))
				}
			}))
			defer srv.Close()
			ctx := context.Background()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			s, err := Open(ctx, "weaviate://"+strings.TrimPrefix(srv.URL, "http://"), Options{Logger: log, IndexWait: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			s.retryPause = time.Millisecond
			h := sha256.Sum256([]byte("a"))
			im := catalog.Image{Hash: h[:], Vector: []float32{1, 0}, Paths: []string{"/a"}}
			calls := map[string]func() error{
				"Apply":     func() error { _, err := s.Apply(ctx, catalog.Batch{Images: []catalog.Image{im}}); return err },
				"Image":     func() error { _, err := s.Image(ctx, 12); return err },
				"Vector":    func() error { _, err := s.Vector(ctx, 12); return err },
				"Thumbnail": func() error { _, err := s.Thumbnail(ctx, 12); return err },
				"LookupPath": func() error {
					_, err := s.LookupPath(ctx, "/a")
					return err
				},
				"LookupHash": func() error { _, err := s.LookupHash(ctx, h[:]); return err },
				"EachPath":   func() error { return s.EachPath(ctx, func(catalog.PathEntry) error { return nil }) },
				"EachVector": func() error { return s.EachVector(ctx, func(int64, []float32) error { return nil }) },
				"Search": func() error {
					_, err := s.Search(ctx, []float32{1, 0}, 3, catalog.Filter{PathGlob: "*"}, nil)
					return err
				},
				"RemoveImage": func() error { return s.RemoveImage(ctx, 12) },
				"RemovePaths": func() error { _, err := s.RemovePaths(ctx, []string{"/a"}); return err },
				"Meta":        func() error { _, _, err := s.Meta(ctx, "k"); return err },
				"Stats":       func() error { _, err := s.Stats(ctx); return err },
			}
			for m, call := range calls {
				err := call()
				// A null answer is an empty store: not-found and empty results
				// are right; anything else must fail.
				if err == nil && name != "null" && m != "Vector" {
					t.Errorf("%s: no error", m)
				}
				if name == "null" && err != nil && !errors.Is(err, store.ErrNotFound) && m != "Vector" && m != "Apply" && m != "Stats" {
					t.Errorf("%s on an empty answer: %v", m, err)
				}
			}
		})
	}
}
