package tokenizer

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"ascii lower", "A Photo OF a CAT", "a photo of a cat"},
		{"space runs", "a  b\t\tc\n\r\nd", "a b c d"},
		{"leading and trailing", "  a b  ", " a b "},
		{"whitespace only", " \t\n  ", " "},
		{"vertical tab and form feed", "a\v\fb", "a b"},
		{"NBSP", "non\u00a0breaking", "non breaking"},
		{"EM SPACE", "em\u2003space", "em space"},
		{"ideographic space", "猫\u3000犬", "猫 犬"},
		{"NEXT LINE U+0085", "a\u0085b", "a b"},
		{"line and paragraph separators", "a\u2028\u2029b", "a b"},
		{"narrow NBSP and math space", "a\u202f\u205fb", "a b"},
		{"ogham space", "a\u1680b", "a b"},
		{"U+001F is not White_Space", "a\x1fb", "a\x1fb"},
		{"ZWSP is not White_Space", "a\u200bb", "a\u200bb"},
		{"U+180E is not White_Space", "a\u180eb", "a\u180eb"},
		{"dotted capital I: full mapping", "İstanbul", "i\u0307stanbul"},
		{"final sigma has no context", "ΟΔΟΣ", "οδοσ"},
		{"small final sigma kept", "ς", "ς"},
		{"NFC composes", "cafe\u0301", "café"},
		{"NFC then lower", "CAFE\u0301", "café"},
		{"full width", "ＣＬＩＰ", "ｃｌｉｐ"},
		{"Kelvin sign", "\u212a", "k"},
		{"Ohm sign (NFC to omega first)", "\u2126", "ω"},
		{"capital sharp s", "ẞ", "ß"},
		{"Cyrillic", "Привет", "привет"},
		{"title case digraph", "ǅ", "ǆ"},
		{"U+FFFD", "\ufffd", "\ufffd"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("%s: normalize(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestLowerTable checks the lower-casing of every code point against
// testdata/lowercase.txt, Python's context-free full lower-case mapping
// (Unicode 14; no case mapping changed in Unicode 15, Go's edition).
func TestLowerTable(t *testing.T) {
	data, err := os.ReadFile("testdata/lowercase.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[rune]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		from, to, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		r, err := strconv.ParseUint(from, 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		var m []rune
		for _, f := range strings.Fields(to) {
			v, err := strconv.ParseUint(f, 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			m = append(m, rune(v))
		}
		want[rune(r)] = string(m)
	}
	if len(want) < 1400 {
		t.Fatalf("lowercase.txt has only %d mappings", len(want))
	}
	checked := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if (r >= 0xD800 && r < 0xE000) || unicode.IsSpace(r) {
			continue
		}
		s := string(r)
		// NFC replaces a few singletons first (e.g. U+2126 OHM SIGN -> Ω).
		if normalizeNFCOnly(s) != s {
			continue
		}
		w, ok := want[r]
		if !ok {
			w = s
		}
		if got := normalize(s); got != w {
			t.Errorf("normalize(%U) = %q, want %q", r, got, w)
		}
		checked++
	}
	t.Logf("%d code points checked, %d with a lower-case mapping", checked, len(want))
}

func TestValidUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"a\xffb", "a\ufffdb"},
		{"\xe2\x82", "\ufffd\ufffd"},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // a UTF-16 surrogate
		{"ok é", "ok é"},
	}
	for _, tt := range tests {
		if got := validUTF8(tt.in); got != tt.want {
			t.Errorf("validUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEachPiece(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"a photo of a cat", []string{"a", "photo", "of", "a", "cat"}},
		{"it's", []string{"it", "'s"}},
		{"i'm sure you're right, we've they'll he'd don't", []string{
			"i", "'m", "sure", "you", "'re", "right", ",", "we", "'ve", "they", "'ll", "he", "'d", "don", "'t"}},
		{"'sun", []string{"'s", "un"}}, // the contraction wins over letters
		{"'x", []string{"'", "x"}},
		{"'rx", []string{"'", "rx"}},
		{"'ll've", []string{"'ll", "'ve"}},
		{"!'s", []string{"!'", "s"}}, // greedy punctuation swallows the quote
		{"''", []string{"''"}},
		{"'", []string{"'"}},
		{"rock 'n' roll", []string{"rock", "'", "n", "'", "roll"}},
		{"don’t", []string{"don", "’", "t"}},
		{"IT'S", []string{"IT", "'", "S"}}, // contractions are lower case only
		{"1234", []string{"1", "2", "3", "4"}},
		{"3.14", []string{"3", ".", "1", "4"}},
		{"a1b", []string{"a", "1", "b"}},
		{"x²½Ⅻ", []string{"x", "²", "½", "Ⅻ"}}, // No, No, Nl are \p{N}
		{"٣٤", []string{"٣", "٤"}},
		{"hello, world!!!", []string{"hello", ",", "world", "!!!"}},
		{"#sunset @beach ~~~", []string{"#", "sunset", "@", "beach", "~~~"}},
		{"a.b-c", []string{"a", ".", "b", "-", "c"}},
		{"i\u0307stanbul", []string{"i", "\u0307", "stanbul"}}, // marks are not letters
		{"नमस्ते", []string{"नमस", "\u094d", "त", "\u0947"}},
		{"一只猫", []string{"一只猫"}},
		{"🐱🐱 x", []string{"🐱🐱", "x"}},
		{"👨\u200d👩", []string{"👨\u200d👩"}},
		{"&amp;", []string{"&", "amp", ";"}},
		{"a\u00a0b", []string{"a", "b"}}, // \s is Unicode in the pattern too
		{"a\x1fb", []string{"a", "\x1f", "b"}},
		{"\ufffd\ufffd", []string{"\ufffd\ufffd"}},
	}
	for _, tt := range tests {
		var got []string
		eachPiece(tt.in, func(p string) bool {
			got = append(got, p)
			return true
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("eachPiece(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Stopping early.
	n := 0
	eachPiece("a b c d", func(string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("eachPiece did not stop after fn returned false: %d calls", n)
	}
}

func TestByteAlphabet(t *testing.T) {
	a := byteAlphabet()
	seen := map[string]bool{}
	for b, s := range a {
		r := []rune(s)
		if len(r) != 1 || unicode.IsSpace(r[0]) || !unicode.IsPrint(r[0]) {
			t.Errorf("byte %#x maps to %q: want one printable non-space character", b, s)
		}
		if seen[s] {
			t.Errorf("byte %#x maps to %q twice", b, s)
		}
		seen[s] = true
	}
	for _, tt := range []struct {
		b    byte
		want string
	}{{'a', "a"}, {'!', "!"}, {'~', "~"}, {0, "\u0100"}, {' ', "\u0120"}, {0x7f, "\u0121"}, {0xa0, "\u0142"}, {0xa1, "¡"}, {0xad, "\u0143"}, {0xff, "ÿ"}} {
		if a[tt.b] != tt.want {
			t.Errorf("byte %#x maps to %q, want %q", tt.b, a[tt.b], tt.want)
		}
	}
}

func TestSplitSpecials(t *testing.T) {
	specials := []special{{"<a>", 1}, {"<a>b", 2}, {"aa", 3}}
	type part struct {
		text string
		id   int
	}
	tests := []struct {
		in   string
		want []part
	}{
		{"", nil},
		{"xyz", []part{{"xyz", -1}}},
		{"<a>", []part{{"<a>", 1}}},
		{"x<a>y", []part{{"x", -1}, {"<a>", 1}, {"y", -1}}},
		{"x<a>by", []part{{"x", -1}, {"<a>b", 2}, {"y", -1}}}, // longest at the same start
		{"aaa", []part{{"aa", 3}, {"a", -1}}},                 // leftmost, no overlap
		{"<a><a>", []part{{"<a>", 1}, {"<a>", 1}}},
		{"<aa>", []part{{"<", -1}, {"aa", 3}, {">", -1}}},
		{"a<a>", []part{{"a", -1}, {"<a>", 1}}}, // "a<a" has no "aa" match at 0
	}
	for _, tt := range tests {
		var got []part
		splitSpecials(tt.in, specials, func(text string, id int) bool {
			got = append(got, part{text, id})
			return true
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("splitSpecials(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestEachPieceRegex compares the scanner with Python's regex module on
// 3000 random strings (testdata/pieces.json, made offline).
func TestEachPieceRegex(t *testing.T) {
	data, err := os.ReadFile("testdata/pieces.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Text   string   `json:"text"`
			Pieces []string `json:"pieces"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) != 3000 {
		t.Fatalf("pieces.json has %d cases, want 3000", len(golden.Cases))
	}
	bad := 0
	for _, c := range golden.Cases {
		got := []string{}
		eachPiece(c.Text, func(p string) bool {
			got = append(got, p)
			return true
		})
		if !slices.Equal(got, c.Pieces) {
			if bad++; bad <= 10 {
				t.Errorf("eachPiece(%q) = %q, want %q", c.Text, got, c.Pieces)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d strings split differently", bad, len(golden.Cases))
	}
}
