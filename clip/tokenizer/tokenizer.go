// Package tokenizer implements CLIP's byte-level BPE text tokenizer exactly
// as Hugging Face's fast CLIPTokenizerFast (the Rust tokenizers pipeline that
// transformers builds for CLIP checkpoints) computes input_ids.
//
// The pipeline for one text is:
//
//  1. special-token text (e.g. "<|endoftext|>") is split out and becomes that
//     token's id, as Hugging Face does for its added tokens;
//  2. the rest is normalised: Unicode NFC, every run of White_Space collapsed to
//     one space, then the full Unicode lower-case mapping without context
//     ("İ" becomes "i" + U+0307, "Σ" always becomes "σ");
//  3. it is split into pieces with the regex
//     's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//     (leftmost match, alternatives in order; text between matches is dropped);
//  4. each piece's UTF-8 bytes are mapped to CLIP's byte-to-unicode alphabet,
//     "</w>" is appended to its last symbol, and the lowest-ranked adjacent
//     pair from merges.txt is merged until no pair has a rank;
//  5. the result is [BOS] + the first MaxLength-2 tokens + [EOS].
//
// No ftfy and no HTML unescaping are applied ("&amp;" stays "&amp;"), as in
// the fast tokenizer. A Tokenizer is safe for concurrent use.
package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// DefaultMaxLength is CLIP's context length, used when a checkpoint does not
// state a usable model_max_length.
const DefaultMaxLength = 77

// Options configures New. Token fields hold token strings (looked up in the
// vocabulary), not ids.
type Options struct {
	// BOS and EOS are the start and end tokens wrapped around every text
	// (CLIP: "<|startoftext|>", "<|endoftext|>"). Both are required.
	BOS, EOS string
	// Pad is the token Pad fills with; empty means EOS. Like BOS, EOS and
	// Unk it is a special token: its text inside a string becomes its id, as
	// in Hugging Face, so with OpenCLIP/LAION's "!" pad every "!" in a text
	// becomes id 0 instead of the usual "!</w>" token.
	Pad string
	// Unk replaces byte symbols missing from the vocabulary (impossible with
	// a complete byte-level vocabulary); empty means such symbols are dropped,
	// as Hugging Face's BPE does without an unk token.
	Unk string
	// MaxLength is the sequence length including BOS and EOS; 0 means
	// DefaultMaxLength. It must be at least 2.
	MaxLength int
	// MatchNormalized selects where the text of special tokens is recognised:
	// true matches it in the normalised (NFC, whitespace-collapsed,
	// lower-cased) text, as Hugging Face does for added tokens with
	// "normalized": true (CLIP's Hub files), so "<|ENDOFTEXT|>" is also the
	// special token; false matches the raw text exactly.
	MatchNormalized bool
}

// Tokenizer turns text into CLIP token ids. It is safe for concurrent use.
type Tokenizer struct {
	vocabSize int      // 1 + largest id
	tokens    []string // id -> token; "" for unused ids
	merges    map[uint64]merge

	byteID    [256]int32    // id of each byte's symbol, -1 if absent
	byteEndID [256]int32    // id of each byte's symbol + "</w>", -1 if absent
	byteOf    map[rune]byte // inverse of the byte alphabet, for Decode

	bos, eos, pad, unk int // unk is -1 when unset
	maxLen             int

	specials        []special // distinct contents, registration order
	matchNormalized bool      // match specials (normalised contents) in normalised text
	specialIDs      map[int]bool

	cache *pieceCache
}

// merge is the result of merging one adjacent pair of symbol ids.
type merge struct {
	rank int32
	id   int32
}

// special is one special token recognised inside texts.
type special struct {
	content string
	id      int
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// endOfWord is the suffix CLIP's BPE appends to the last symbol of a piece.
const endOfWord = "</w>"

// New builds a Tokenizer from a vocabulary (token -> id) and merges in rank
// order (merges[0] is applied first). Every merge's two parts and their
// concatenation must be vocabulary tokens, as must BOS, EOS, Pad and Unk.
func New(vocab map[string]int, merges [][2]string, opts Options) (*Tokenizer, error) {
	if len(vocab) == 0 {
		return nil, fmt.Errorf("tokenizer: empty vocabulary")
	}
	t := &Tokenizer{
		merges:          make(map[uint64]merge, len(merges)),
		matchNormalized: opts.MatchNormalized,
		specialIDs:      map[int]bool{},
		cache:           newPieceCache(pieceCacheSize),
	}
	maxID := -1
	for tok, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer: vocabulary token %q has negative id %d", tok, id)
		}
		if id > maxID {
			maxID = id
		}
	}
	if maxID >= 1<<31-1 || maxID >= 16*len(vocab)+1024 {
		return nil, fmt.Errorf("tokenizer: vocabulary ids are too sparse (largest %d for %d tokens)", maxID, len(vocab))
	}
	t.vocabSize = maxID + 1
	t.tokens = make([]string, t.vocabSize)
	used := make([]bool, t.vocabSize)
	// Sorted iteration makes the duplicate-id error deterministic.
	keys := make([]string, 0, len(vocab))
	for tok := range vocab {
		keys = append(keys, tok)
	}
	sort.Strings(keys)
	for _, tok := range keys {
		id := vocab[tok]
		if used[id] {
			return nil, fmt.Errorf("tokenizer: vocabulary id %d is used by both %q and %q", id, t.tokens[id], tok)
		}
		used[id] = true
		t.tokens[id] = tok
	}

	alphabet := byteAlphabet()
	t.byteOf = make(map[rune]byte, 256)
	for b := 0; b < 256; b++ {
		t.byteID[b], t.byteEndID[b] = -1, -1
		r, _ := utf8.DecodeRuneInString(alphabet[b])
		t.byteOf[r] = byte(b)
		if id, ok := vocab[alphabet[b]]; ok {
			t.byteID[b] = int32(id)
		}
		if id, ok := vocab[alphabet[b]+endOfWord]; ok {
			t.byteEndID[b] = int32(id)
		}
	}

	for i, m := range merges {
		a, okA := vocab[m[0]]
		b, okB := vocab[m[1]]
		c, okC := vocab[m[0]+m[1]]
		switch {
		case !okA:
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q): %q is not in the vocabulary", i+1, m[0], m[1], m[0])
		case !okB:
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q): %q is not in the vocabulary", i+1, m[0], m[1], m[1])
		case !okC:
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q): result %q is not in the vocabulary", i+1, m[0], m[1], m[0]+m[1])
		}
		k := pairKey(int32(a), int32(b))
		if _, dup := t.merges[k]; dup {
			continue // the first (lowest) rank wins, as in Hugging Face's BPE
		}
		t.merges[k] = merge{rank: int32(i), id: int32(c)}
	}

	lookup := func(field, tok string) (int, error) {
		id, ok := vocab[tok]
		if !ok {
			return 0, fmt.Errorf("tokenizer: %s token %q is not in the vocabulary", field, tok)
		}
		return id, nil
	}
	var err error
	if opts.BOS == "" || opts.EOS == "" {
		return nil, fmt.Errorf("tokenizer: BOS and EOS tokens are required")
	}
	if t.bos, err = lookup("BOS", opts.BOS); err != nil {
		return nil, err
	}
	if t.eos, err = lookup("EOS", opts.EOS); err != nil {
		return nil, err
	}
	padTok := opts.Pad
	if padTok == "" {
		padTok = opts.EOS
	}
	if t.pad, err = lookup("pad", padTok); err != nil {
		return nil, err
	}
	t.unk = -1
	if opts.Unk != "" {
		if t.unk, err = lookup("unk", opts.Unk); err != nil {
			return nil, err
		}
	}
	t.maxLen = opts.MaxLength
	if t.maxLen == 0 {
		t.maxLen = DefaultMaxLength
	}
	if t.maxLen < 2 {
		return nil, fmt.Errorf("tokenizer: MaxLength %d is below 2 (BOS and EOS)", opts.MaxLength)
	}

	// Hugging Face registers the special tokens in this order (bos, eos,
	// unk, pad); a content registered twice keeps its first id.
	for _, s := range []struct {
		tok string
		id  int
	}{{opts.BOS, t.bos}, {opts.EOS, t.eos}, {opts.Unk, t.unk}, {padTok, t.pad}} {
		if s.tok == "" {
			continue
		}
		t.specialIDs[s.id] = true
		dup := false
		for _, have := range t.specials {
			dup = dup || have.content == s.tok
		}
		if !dup {
			t.specials = append(t.specials, special{content: s.tok, id: s.id})
		}
	}
	if t.matchNormalized {
		// Hugging Face matches normalised added tokens by their normalised
		// content; a content that normalises to nothing can never match.
		kept := t.specials[:0]
		for _, s := range t.specials {
			if s.content = normalize(s.content); s.content != "" {
				kept = append(kept, s)
			}
		}
		t.specials = kept
	}
	return t, nil
}

// MaxLength returns the sequence length including BOS and EOS.
func (t *Tokenizer) MaxLength() int { return t.maxLen }

// BOS returns the id of the start-of-text token.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the id of the end-of-text token.
func (t *Tokenizer) EOS() int { return t.eos }

// PadID returns the id Pad fills with.
func (t *Tokenizer) PadID() int { return t.pad }

// VocabSize returns one more than the largest token id.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// Encode returns [BOS] + the text's tokens, truncated to MaxLength-2, +
// [EOS]. It never fails and does not pad. Invalid UTF-8 bytes are read as
// U+FFFD, one per byte.
func (t *Tokenizer) Encode(text string) []int {
	limit := t.maxLen - 2
	if limit == 0 {
		return []int{t.bos, t.eos}
	}
	out := make([]int, 1, min(t.maxLen, 2+len(text)))
	out[0] = t.bos
	out = t.appendTokens(out, text, 1+limit)
	if len(out) > 1+limit {
		out = out[:1+limit]
	}
	return append(out, t.eos)
}

// EncodeBatch encodes each text; the result has one row per text.
func (t *Tokenizer) EncodeBatch(texts []string) [][]int {
	out := make([][]int, len(texts))
	for i, s := range texts {
		out[i] = t.Encode(s)
	}
	return out
}

// Pad returns ids extended to MaxLength with the pad id and the matching
// attention mask (1 on the given ids, 0 on padding). ids longer than
// MaxLength are returned unchanged (as a copy) with an all-ones mask.
func (t *Tokenizer) Pad(ids []int) (padded []int, mask []int) {
	n := max(len(ids), t.maxLen)
	padded = make([]int, n)
	mask = make([]int, n)
	copy(padded, ids)
	for i := range padded {
		if i < len(ids) {
			mask[i] = 1
		} else {
			padded[i] = t.pad
		}
	}
	return padded, mask
}

// Decode turns ids back into text for display: special tokens and unknown
// ids are dropped, bytes are restored, and each "</w>" becomes a space
// (leading and trailing spaces are trimmed), as transformers' CLIP decoding
// does. Normalisation (case, NFC, whitespace) cannot be undone.
func (t *Tokenizer) Decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		if id < 0 || id >= t.vocabSize || t.specialIDs[id] || t.tokens[id] == "" {
			continue
		}
		for _, r := range t.tokens[id] {
			if c, ok := t.byteOf[r]; ok {
				b = append(b, c)
			} else {
				b = utf8.AppendRune(b, r)
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.TrimSpace(strings.ReplaceAll(s, endOfWord, " "))
}
