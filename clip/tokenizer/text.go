package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// validUTF8 returns s with every byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD (one replacement per byte, as ranging over a
// Go string reads it).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r) // invalid bytes arrive as utf8.RuneError
	}
	return b.String()
}

// normalize applies the fast tokenizer's normaliser to valid UTF-8: NFC,
// every run of White_Space replaced by one space, then the full Unicode
// lower-case mapping of each character without context.
func normalize(s string) string {
	if !isASCII(s) {
		s = norm.NFC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if isSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
				inSpace = true
			}
			continue
		}
		inSpace = false
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		case r == 'İ':
			// The only character whose unconditional full lower-case mapping
			// (SpecialCasing.txt) differs from the simple one Go implements.
			b.WriteString("i\u0307")
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Character classes of the split regex.
const (
	classPunct  = iota // [^\s\p{L}\p{N}]
	classSpace         // \s: Unicode White_Space
	classLetter        // \p{L}
	classNumber        // \p{N}
)

// asciiClass holds the class of every ASCII character.
var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		c[r] = uint8(classOf(r))
	}
	return c
}()

// classOf classifies r for the split regex. unicode.IsSpace is exactly the
// White_Space property (tab..CR, space, U+0085, U+00A0, U+1680, U+2000..U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000).
func classOf(r rune) int {
	switch {
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classPunct
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == classSpace
	}
	return unicode.IsSpace(r)
}

// classAt returns the class of the character starting at s[i] and its size.
func classAt(s string, i int) (class, size int) {
	if c := s[i]; c < utf8.RuneSelf {
		return int(asciiClass[c]), 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return classOf(r), size
}

// contractions are the regex's first alternatives, in their order.
var contractions = [...]string{"s", "t", "re", "ve", "m", "ll", "d"}

// eachPiece calls fn with each match of the split regex
//
//	's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// in s, left to right, until fn returns false. Text between matches (only
// whitespace can be left over) is dropped.
func eachPiece(s string, fn func(piece string) bool) {
	for i := 0; i < len(s); {
		class, size := classAt(s, i)
		end := i + size
		switch class {
		case classSpace:
			i = end
			continue
		case classLetter:
			for end < len(s) {
				c, n := classAt(s, end)
				if c != classLetter {
					break
				}
				end += n
			}
		case classNumber:
			// a single character
		case classPunct:
			contraction := false
			if s[i] == '\'' {
				for _, c := range contractions {
					if strings.HasPrefix(s[i+1:], c) {
						end, contraction = i+1+len(c), true
						break
					}
				}
			}
			for !contraction && end < len(s) {
				c, n := classAt(s, end)
				if c != classPunct {
					break
				}
				end += n
			}
		}
		if !fn(s[i:end]) {
			return
		}
		i = end
	}
}
