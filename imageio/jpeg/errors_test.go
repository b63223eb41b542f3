package jpeg

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patchSOF returns a copy of data with the byte at offset off (counted from
// the start of the SOF payload, i.e. after the length) set to v.
func patchSOF(t *testing.T, data []byte, off int, v byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	for i := 2; i+3 < len(out); {
		if out[i] != 0xFF {
			t.Fatal("lost marker sync")
		}
		m := out[i+1]
		l := int(out[i+2])<<8 | int(out[i+3])
		if m == 0xC0 || m == 0xC1 || m == 0xC2 {
			out[i+4+off] = v
			return out
		}
		i += 2 + l
	}
	t.Fatal("no SOF")
	return nil
}

func TestErrors(t *testing.T) {
	base := mustRead(t, "testdata/s420_101x77.jpg")
	prog := mustRead(t, "testdata/prog420_160.jpg")
	tests := []struct {
		name string
		data []byte
		opts *Options
		is   error  // errors.Is target, or nil
		msg  string // substring of the message
	}{
		{"empty", nil, nil, ErrTruncated, "SOI"},
		{"not jpeg", []byte("\x89PNG\r\n\x1a\n...."), nil, nil, "missing SOI"},
		{"arithmetic", mustRead(t, "testdata/arith_33x17.jpg.bad"), nil, ErrUnsupported, "arithmetic"},
		{"12-bit", patchSOF(t, base, 0, 12), nil, ErrUnsupported, "12-bit"},
		{"height 0", patchSOF(t, patchSOF(t, base, 1, 0), 2, 0), nil, ErrUnsupported, "DNL"},
		{"sampling 0", patchSOF(t, base, 7, 0x00), nil, nil, "sampling factors"},
		{"fractional sampling", patchSOF(t, patchSOF(t, base, 7, 0x31), 10, 0x21), nil, nil, "fractional"},
		{"max pixels", base, &Options{MaxPixels: 101*77 - 1}, nil, "limit"},
		{"header only", base[:200], nil, ErrTruncated, ""},
		{"cut in scan", base[:len(base)/2], nil, ErrTruncated, "entropy"},
		{"no EOI", base[:len(base)-2], nil, ErrTruncated, "truncated"},
		{"progressive cut", prog[:len(prog)*2/3], nil, ErrTruncated, ""},
		{"progressive no EOI", prog[:len(prog)-2], nil, ErrTruncated, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(tc.data), tc.opts)
			if err == nil {
				t.Fatalf("Decode succeeded (%dx%d), want error", img.Width, img.Height)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "jpeg: ") {
				t.Errorf("error %q should start with \"jpeg: \" and contain %q", err, tc.msg)
			}
		})
	}
	// Within the limit decodes fine.
	if _, err := Decode(bytes.NewReader(base), &Options{MaxPixels: 101 * 77}); err != nil {
		t.Errorf("MaxPixels equal to the size: %v", err)
	}
}

// TestTruncatedEverywhere cuts files at many offsets: every prefix must give
// an error (never a panic, never success).
func TestTruncatedEverywhere(t *testing.T) {
	for _, f := range []string{"testdata/s420_33x17.jpg", "testdata/prog422_33x17.jpg", "testdata/cmykprog_33x17.jpg"} {
		data := mustRead(t, f)
		for n := 0; n < len(data)-1; n++ {
			if _, err := Decode(bytes.NewReader(data[:n]), nil); err == nil {
				t.Errorf("%s cut at %d of %d: no error", f, n, len(data))
			}
			if n < 40 {
				if _, err := DecodeConfig(bytes.NewReader(data[:n])); err == nil {
					t.Errorf("DecodeConfig %s cut at %d: no error", f, n)
				}
			}
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		file string
		want Config
	}{
		{"testdata/s420_33x17.jpg", Config{33, 17, 3, false, "4:2:0"}},
		{"testdata/s422_250x17.jpg", Config{250, 17, 3, false, "4:2:2"}},
		{"testdata/s444_33x17.jpg", Config{33, 17, 3, false, "4:4:4"}},
		{"testdata/s411_33x17.jpg", Config{33, 17, 3, false, "4:1:1"}},
		{"testdata/s440_17x250.jpg", Config{17, 250, 3, false, "4:4:0"}},
		{"testdata/mixed_101x77.jpg", Config{101, 77, 3, false, "2x2,2x1,1x2"}},
		{"testdata/prog420_160.jpg", Config{160, 107, 3, true, "4:2:0"}},
		{"testdata/gray_101x77.jpg", Config{101, 77, 1, false, "4:0:0"}},
		{"testdata/cmyk_101x77.jpg", Config{101, 77, 3, false, "1x1,1x1,1x1,1x1"}},
		{clipDir + "/images/coffee_exif6.jpg", Config{240, 360, 3, false, "4:4:4"}},
	}
	for _, tc := range tests {
		got, err := DecodeConfig(bytes.NewReader(mustRead(t, tc.file)))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.file, got, tc.want)
		}
	}
}
