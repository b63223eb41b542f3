package tokenizer

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestEncodeRandomGolden compares Encode with an independent Python
// implementation on 1500 random texts (testdata/random_ids.json), including
// letter runs of up to 400 bytes that take the heap merge path.
func TestEncodeRandomGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/random_ids.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Text     string `json:"text"`
			InputIDs []int  `json:"input_ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) != 1500 {
		t.Fatalf("random_ids.json has %d cases, want 1500", len(golden.Cases))
	}
	tok := tiny(t)
	bad := 0
	for _, c := range golden.Cases {
		if got := tok.Encode(c.Text); !slices.Equal(got, c.InputIDs) {
			if bad++; bad <= 5 {
				t.Errorf("Encode(%q):\n got %v\nwant %v", c.Text, got, c.InputIDs)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d texts differ", bad, len(golden.Cases))
	}
}

// TestMergeHeapMatchesSmall checks that the two merge loops agree.
func TestMergeHeapMatchesSmall(t *testing.T) {
	tok := tiny(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{"ab", "abc", "aeiou", "thequickbrownfox", "ssssst", "éàü猫"}
	for i := 0; i < 3000; i++ {
		alpha := []rune(alphabets[i%len(alphabets)])
		n := 1 + rng.IntN(smallPiece)
		var b strings.Builder
		for range n {
			b.WriteRune(alpha[rng.IntN(len(alpha))])
		}
		piece := b.String()
		if len(tok.symbols(piece)) > 4*smallPiece {
			t.Fatalf("piece %q too long", piece)
		}
		small := tok.mergeSmall(tok.symbols(piece))
		heap := tok.mergeHeap(tok.symbols(piece))
		if !slices.Equal(small, heap) {
			t.Fatalf("piece %q: small merge %v, heap merge %v", piece, small, heap)
		}
	}
}

func TestTruncation(t *testing.T) {
	tok := tiny(t)
	for _, text := range []string{
		strings.Repeat("a photo of a cat ", 100),
		strings.Repeat("1", 76),
		strings.Repeat("x", 5000),  // one long piece
		strings.Repeat("!?", 5000), // one long punctuation piece
		strings.Repeat("猫 ", 1000), // multi-token pieces
		strings.Repeat("<|endoftext|>", 100),
	} {
		ids := tok.Encode(text)
		if len(ids) != 77 {
			t.Errorf("Encode(%.20q...) has %d ids, want 77", text, len(ids))
			continue
		}
		if ids[0] != 49406 || ids[76] != 49407 {
			t.Errorf("Encode(%.20q...): ids[0] = %d, ids[76] = %d; want BOS 49406 and EOS 49407", text, ids[0], ids[76])
		}
	}
	// The 75-token string fits exactly; one more token is cut.
	ids := tok.Encode(strings.Repeat("1", 75))
	if len(ids) != 77 || ids[75] != 272 || ids[76] != 49407 { // 272: "1</w>"
		t.Errorf("75 digits: %v", ids)
	}
	ids = tok.Encode(strings.Repeat("1", 74))
	if len(ids) != 76 {
		t.Errorf("74 digits: %d ids, want 76", len(ids))
	}
}

func TestSmallMaxLength(t *testing.T) {
	for _, maxLen := range []int{2, 3, 5} {
		tok := toyTokenizer(t, Options{BOS: "<s>", EOS: "</s>", MaxLength: maxLen})
		ids := tok.Encode("cat cat cat cat")
		if len(ids) != maxLen || ids[0] != tok.BOS() || ids[maxLen-1] != tok.EOS() {
			t.Errorf("MaxLength %d: Encode = %v", maxLen, ids)
		}
		padded, mask := tok.Pad(tok.Encode(""))
		if len(padded) != maxLen || len(mask) != maxLen {
			t.Errorf("MaxLength %d: Pad lengths %d, %d", maxLen, len(padded), len(mask))
		}
	}
}

func TestPad(t *testing.T) {
	tok := tiny(t)
	tests := []struct {
		ids        []int
		wantPadded int // number of pad ids appended
	}{
		{[]int{49406, 49407}, 75},
		{tok.Encode("a photo of a cat"), 70},
		{tok.Encode(strings.Repeat("cat ", 200)), 0},
		{make([]int, 80), 0}, // longer than MaxLength: unchanged
	}
	for _, tt := range tests {
		padded, mask := tok.Pad(tt.ids)
		n := len(tt.ids)
		if len(padded) != max(n, 77) || len(mask) != len(padded) {
			t.Fatalf("Pad(%d ids): %d padded, %d mask", n, len(padded), len(mask))
		}
		if !slices.Equal(padded[:n], tt.ids) {
			t.Errorf("Pad changed the ids")
		}
		for i := range padded {
			wantMask := 0
			if i < n {
				wantMask = 1
			} else if padded[i] != 49407 {
				t.Errorf("padded[%d] = %d, want pad 49407", i, padded[i])
			}
			if mask[i] != wantMask {
				t.Errorf("mask[%d] = %d, want %d", i, mask[i], wantMask)
			}
		}
		if len(padded)-n != tt.wantPadded {
			t.Errorf("Pad added %d ids, want %d", len(padded)-n, tt.wantPadded)
		}
	}
}

func TestSpecialTokensInText(t *testing.T) {
	tok := tiny(t)
	body := func(s string) []int { // the ids of s without BOS/EOS
		ids := tok.Encode(s)
		return ids[1 : len(ids)-1]
	}
	cat, dog := body("cat"), body("dog")
	join := func(parts ...[]int) []int {
		out := []int{49406}
		for _, p := range parts {
			out = append(out, p...)
		}
		return append(out, 49407)
	}
	eot, sot := []int{49407}, []int{49406}
	tests := []struct {
		text string
		want []int
	}{
		{"cat<|endoftext|>dog", join(cat, eot, dog)},
		{"cat <|endoftext|> dog", join(cat, eot, dog)},
		{"<|startoftext|>cat", join(sot, cat)},
		{"<|endoftext|>", join(eot)},
		{"<|endoftext|><|endoftext|>", join(eot, eot)},
		{"  <|startoftext|>  ", join(sot)},
		// "normalized": true in the fixture: matched after lower-casing.
		{"CAT<|ENDOFTEXT|>DOG", join(cat, eot, dog)},
		{"cat<|endoftext|", join(cat, body("<|endoftext|"))},
		{"<|end of text|>", join(body("<|"), body("end of text"), body("|>"))},
	}
	for _, tt := range tests {
		if got := tok.Encode(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	// Sanity: without special handling the text would be several tokens.
	if n := len(body("<|endoftext|")); n < 3 {
		t.Errorf("'<|endoftext|' is %d tokens", n)
	}
}

// TestSpecialTokensRaw checks exact matching on the raw text
// (MatchNormalized false, Hugging Face's "normalized": false).
func TestSpecialTokensRaw(t *testing.T) {
	vocab, merges := readTinyTables(t)
	tok, err := New(vocab, merges, Options{BOS: "<|startoftext|>", EOS: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	norm := tiny(t)
	if got, want := tok.Encode("a<|endoftext|>b"), norm.Encode("a<|endoftext|>b"); !slices.Equal(got, want) {
		t.Errorf("raw matching: %v, want %v", got, want)
	}
	got := tok.Encode("<|ENDOFTEXT|>")
	if len(got) < 5 || slices.Contains(got[1:len(got)-1], 49407) {
		t.Errorf("raw matching must not match upper case: %v", got)
	}
	if want := norm.Encode("<|ENDOFTEXT|>"); !slices.Equal(want, []int{49406, 49407, 49407}) {
		t.Errorf("normalised matching: %v", want)
	}
}

// TestExclamationPad reproduces Hugging Face's behaviour with the "!" pad
// token of OpenCLIP/LAION checkpoints: "!" is a special token, so every "!"
// in a text becomes id 0 (huggingface/diffusers#4153 shows
// "! !! !!!" -> 49406, six 0s, 49407).
func TestExclamationPad(t *testing.T) {
	vocab, merges := readTinyTables(t)
	tok, err := New(vocab, merges, Options{BOS: "<|startoftext|>", EOS: "<|endoftext|>", Pad: "!", Unk: "<|endoftext|>", MaxLength: 77})
	if err != nil {
		t.Fatal(err)
	}
	if tok.PadID() != 0 {
		t.Fatalf("PadID = %d, want 0", tok.PadID())
	}
	want := []int{49406, 0, 0, 0, 0, 0, 0, 49407}
	if got := tok.Encode("! !! !!!"); !slices.Equal(got, want) {
		t.Errorf("Encode(\"! !! !!!\") = %v, want %v", got, want)
	}
	padded, _ := tok.Pad(want)
	if padded[8] != 0 || padded[76] != 0 {
		t.Errorf("padding with '!' gives %v", padded)
	}
}

func TestLoadPadExclamation(t *testing.T) {
	dir := toyDir(t)
	writeFile(t, dir, "special_tokens_map.json", `{"bos_token": "<s>", "eos_token": {"content": "</s>", "normalized": false, "__type": "AddedToken"}, "pad_token": "!", "unk_token": null}`)
	writeFile(t, dir, "tokenizer_config.json", `{"model_max_length": 1000000000000000019884624838656}`)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLength() != 77 {
		t.Errorf("MaxLength = %d, want 77 for 1e30", tok.MaxLength())
	}
	if tok.PadID() != toyVocab()["!"] || tok.BOS() != toyVocab()["<s>"] || tok.EOS() != toyVocab()["</s>"] {
		t.Errorf("BOS, EOS, PadID = %d, %d, %d", tok.BOS(), tok.EOS(), tok.PadID())
	}
	if tok.unk != -1 || tok.matchNormalized {
		t.Errorf("unk = %d, matchNormalized = %v; want -1, false", tok.unk, tok.matchNormalized)
	}
}

func TestLoadDefaults(t *testing.T) {
	dir := t.TempDir()
	vocab := toyVocab()
	vocab["<|startoftext|>"] = len(vocab)
	vocab["<|endoftext|>"] = len(vocab)
	data, _ := json.Marshal(vocab)
	writeFile(t, dir, "vocab.json", string(data))
	writeFile(t, dir, "merges.txt", toyMergesText)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLength() != 77 || tok.BOS() != vocab["<|startoftext|>"] || tok.EOS() != vocab["<|endoftext|>"] || tok.PadID() != tok.EOS() {
		t.Errorf("defaults: max %d, bos %d, eos %d, pad %d", tok.MaxLength(), tok.BOS(), tok.EOS(), tok.PadID())
	}
	writeFile(t, dir, "tokenizer_config.json", `{"model_max_length": 248}`)
	if tok, err = Load(dir); err != nil || tok.MaxLength() != 248 {
		t.Errorf("model_max_length 248: %v, %v", tok, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file, content, wantErr string
	}{
		{"vocab not JSON", "vocab.json", `{"a": `, "vocab.json"},
		{"vocab ids not numbers", "vocab.json", `{"a": "x"}`, "vocab.json"},
		{"vocab empty", "vocab.json", `{}`, "empty vocabulary"},
		{"vocab negative id", "vocab.json", `{"a": -1, "<s>": 0, "</s>": 1}`, "negative id"},
		{"vocab duplicate id", "vocab.json", `{"a": 0, "<s>": 0, "</s>": 1}`, "used by both"},
		{"merges line", "merges.txt", "#version: 0.2\nc a\nnot-a-pair\n", "merges.txt:3"},
		{"merges three parts", "merges.txt", "c a t\n", "merges.txt:1"},
		{"merge part unknown", "merges.txt", "#version: 0.2\nq@ z\n", `"q@" is not in the vocabulary`},
		{"merge result unknown", "merges.txt", "#version: 0.2\nq q\n", `result "qq"`},
		{"config not JSON", "tokenizer_config.json", `[`, "tokenizer_config.json"},
		{"token wrong type", "special_tokens_map.json", `{"bos_token": 5}`, "bos_token"},
		{"token without content", "special_tokens_map.json", `{"eos_token": {"__type": "AddedToken"}}`, `without "content"`},
		{"token not in vocab", "special_tokens_map.json", `{"bos_token": "<s>", "eos_token": "</s>", "pad_token": "[PAD]"}`, `pad token "[PAD]" is not in the vocabulary`},
		{"max length not a number", "tokenizer_config.json", `{"model_max_length": "77"}`, "model_max_length"},
	}
	for _, tt := range tests {
		dir := toyDir(t)
		writeFile(t, dir, tt.file, tt.content)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "vocab.json") {
		t.Errorf("missing vocab.json: %v", err)
	}
	dir := toyDir(t)
	os.Remove(filepath.Join(dir, "merges.txt"))
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "merges.txt") {
		t.Errorf("missing merges.txt: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	vocab := toyVocab()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no BOS", Options{EOS: "</s>"}, "required"},
		{"unknown EOS", Options{BOS: "<s>", EOS: "<eos>"}, `EOS token "<eos>"`},
		{"unknown unk", Options{BOS: "<s>", EOS: "</s>", Unk: "<nope>"}, `unk token "<nope>"`},
		{"MaxLength 1", Options{BOS: "<s>", EOS: "</s>", MaxLength: 1}, "MaxLength 1"},
	}
	for _, tt := range tests {
		if _, err := New(vocab, nil, tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
	if _, err := New(nil, nil, Options{BOS: "<s>", EOS: "</s>"}); err == nil {
		t.Error("New with an empty vocabulary succeeded")
	}
	if _, err := New(map[string]int{"<s>": 0, "</s>": 1 << 30}, nil, Options{BOS: "<s>", EOS: "</s>"}); err == nil {
		t.Error("New with a sparse vocabulary succeeded")
	}
}

// TestUnknownBytes checks bytes missing from the vocabulary: they become the
// unk id, or are dropped without one.
func TestUnknownBytes(t *testing.T) {
	vocab := toyVocab()
	alpha := byteAlphabet()
	delete(vocab, alpha['z'])
	delete(vocab, alpha['z']+endOfWord)
	delete(vocab, "zz")
	merges := toyMerges()
	merges = slices.DeleteFunc(merges, func(m [2]string) bool { return strings.Contains(m[0]+m[1], "z") })
	withUnk, err := New(vocab, merges, Options{BOS: "<s>", EOS: "</s>", Unk: "<unk>"})
	if err != nil {
		t.Fatal(err)
	}
	unk := vocab["<unk>"]
	if got, want := withUnk.Encode("zz"), []int{vocab["<s>"], unk, unk, vocab["</s>"]}; !slices.Equal(got, want) {
		t.Errorf("with unk: Encode(\"zz\") = %v, want %v", got, want)
	}
	without, err := New(vocab, merges, Options{BOS: "<s>", EOS: "</s>"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := without.Encode("zz a"), []int{vocab["<s>"], vocab["a</w>"], vocab["</s>"]}; !slices.Equal(got, want) {
		t.Errorf("without unk: Encode(\"zz a\") = %v, want %v", got, want)
	}
}

func TestInvalidUTF8(t *testing.T) {
	tok := tiny(t)
	if got, want := tok.Encode("caf\xe9 \xff!"), tok.Encode("caf\ufffd \ufffd!"); !slices.Equal(got, want) {
		t.Errorf("invalid UTF-8: %v, want %v", got, want)
	}
}

func TestDecode(t *testing.T) {
	tok := tiny(t)
	tests := []struct{ in, want string }{
		{"A photo of a Cat!", "a photo of a cat !"},
		{"", ""},
		{"  café   🐱  ", "café 🐱"},
		{"İstanbul", "i \u0307 stanbul"}, // three pieces
		{"don't", "don 't"},
		{"一只猫的照片", "一只猫的照片"},
		{"3.14", "3 . 1 4"},
	}
	for _, tt := range tests {
		if got := tok.Decode(tok.Encode(tt.in)); got != tt.want {
			t.Errorf("Decode(Encode(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := tok.Decode([]int{-1, 49406, 320, 1e9, 49407, 49407}); got != "a" {
		t.Errorf("Decode with specials and bad ids = %q, want \"a\"", got)
	}
}

// TestConcurrentEncode runs Encode from many goroutines on a cold cache;
// run it with -race.
func TestConcurrentEncode(t *testing.T) {
	vocab, merges := readTinyTables(t)
	tok, err := New(vocab, merges, Options{BOS: "<|startoftext|>", EOS: "<|endoftext|>", MatchNormalized: true})
	if err != nil {
		t.Fatal(err)
	}
	tok.cache = newPieceCache(64) // small: the cache is emptied while in use
	f := loadFixture(t)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				for k := range f.Texts {
					c := f.Texts[(k+g*7+round)%len(f.Texts)]
					if got := tok.Encode(c.Text); !slices.Equal(got, c.InputIDs) {
						select {
						case errs <- fmt.Sprintf("goroutine %d: text %d: %v", g, c.Index, got):
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestPieceCacheBounded(t *testing.T) {
	c := newPieceCache(4)
	for i := range 100 {
		c.put(fmt.Sprint(i), []int{i})
		if len(c.m) > 4 {
			t.Fatalf("cache holds %d entries, limit 4", len(c.m))
		}
	}
	if ids, ok := c.get("99"); !ok || ids[0] != 99 {
		t.Errorf("latest entry missing: %v %v", ids, ok)
	}
}

// FuzzEncode checks the invariants of Encode on arbitrary bytes: no panic,
// BOS first, EOS last, at most MaxLength ids, all in the vocabulary's range,
// and the same pieces from the quadratic and the heap merge loops.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "a photo of a cat", "İstanbul ΟΔΟΣ", "don't'll'", "<|endoftext|>x<|startoftext|>",
		"\xff\xfe", "👨\u200d👩\u200d👧", "  \t\u3000", strings.Repeat("ab", 300), "1234567890", "cafe\u0301"} {
		f.Add(s)
	}
	tok := tiny(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		if len(ids) < 2 || len(ids) > tok.MaxLength() {
			t.Fatalf("Encode(%q): %d ids", s, len(ids))
		}
		if ids[0] != tok.BOS() || ids[len(ids)-1] != tok.EOS() {
			t.Fatalf("Encode(%q) = %v: want BOS first and EOS last", s, ids)
		}
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q): id %d out of range", s, id)
			}
		}
		_ = tok.Decode(ids)
		// Both merge loops agree on every piece.
		eachPiece(normalize(validUTF8(s)), func(piece string) bool {
			syms := tok.symbols(piece)
			small := tok.mergeSmall(slices.Clone(syms))
			if heap := tok.mergeHeap(syms); !slices.Equal(small, heap) {
				t.Fatalf("piece %q: small merge %v, heap merge %v", piece, small, heap)
			}
			return true
		})
	})
}

var (
	tablesOnce   sync.Once
	tablesVocab  map[string]int
	tablesMerges [][2]string
	tablesErr    error
)

// readTinyTables reads the fixture's vocabulary and merges once per test
// binary; callers must not modify them.
func readTinyTables(t testing.TB) (map[string]int, [][2]string) {
	t.Helper()
	tablesOnce.Do(func() {
		dir := filepath.Join(fixtureDir, "tiny-b32")
		if tablesVocab, tablesErr = readVocab(filepath.Join(dir, "vocab.json")); tablesErr != nil {
			return
		}
		tablesMerges, tablesErr = readMerges(filepath.Join(dir, "merges.txt"))
	})
	if tablesErr != nil {
		t.Fatal(tablesErr)
	}
	return tablesVocab, tablesMerges
}

const toyMergesText = "#version: 0.2\nc a\nca t</w>\nd o\ndo g</w>\nz z\n"

func toyMerges() [][2]string {
	m, err := parseMerges(strings.NewReader(toyMergesText), "toy")
	if err != nil {
		panic(err)
	}
	return m
}

// toyVocab is a complete byte-level vocabulary with the toy merges' tokens
// and a few specials.
func toyVocab() map[string]int {
	v := map[string]int{}
	alpha := byteAlphabet()
	for b := range 256 {
		v[alpha[b]] = len(v)
	}
	for b := range 256 {
		v[alpha[b]+endOfWord] = len(v)
	}
	for _, s := range []string{"ca", "cat</w>", "do", "dog</w>", "zz", "<s>", "</s>", "<unk>"} {
		v[s] = len(v)
	}
	return v
}

func toyTokenizer(t *testing.T, opts Options) *Tokenizer {
	t.Helper()
	tok, err := New(toyVocab(), toyMerges(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// toyDir writes a loadable toy checkpoint into a temporary directory.
func toyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := json.Marshal(toyVocab())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "vocab.json", string(data))
	writeFile(t, dir, "merges.txt", toyMergesText)
	writeFile(t, dir, "special_tokens_map.json", `{"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"}`)
	return dir
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkEncode measures Encode on the 67 fixture texts with a warm cache.
func BenchmarkEncode(b *testing.B) {
	benchmarkEncode(b, false)
}

// BenchmarkEncodeCold measures Encode with an empty piece cache each round.
func BenchmarkEncodeCold(b *testing.B) {
	benchmarkEncode(b, true)
}

func benchmarkEncode(b *testing.B, cold bool) {
	tok := *tiny(b)
	tok.cache = newPieceCache(pieceCacheSize)
	f := loadFixture(b)
	tokens, bytes := 0, 0
	for _, c := range f.Texts {
		tokens += len(tok.Encode(c.Text)) - 2
		bytes += len(c.Text)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for b.Loop() {
		if cold {
			tok.cache = newPieceCache(pieceCacheSize)
		}
		for _, c := range f.Texts {
			tok.Encode(c.Text)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkLoad measures loading the fixture tokenizer.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(filepath.Join(fixtureDir, "tiny-b32")); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadNormalizedFlags checks where Load takes the special tokens and
// their "normalized" flag from.
func TestLoadNormalizedFlags(t *testing.T) {
	tests := []struct {
		name           string
		files          map[string]string
		wantNormalized bool
		wantPad        string
	}{
		{"plain strings", nil, false, "</s>"},
		{"AddedToken objects", map[string]string{
			"special_tokens_map.json": `{"bos_token": {"content": "<s>", "normalized": true, "__type": "AddedToken"},
				"eos_token": {"content": "</s>", "normalized": true}, "unk_token": "<unk>", "pad_token": "</s>"}`,
		}, true, "</s>"},
		{"special_tokens_map overrides tokenizer_config", map[string]string{
			"tokenizer_config.json":   `{"pad_token": "<unk>", "bos_token": {"content": "<s>", "normalized": true}, "eos_token": "</s>", "unk_token": "<unk>"}`,
			"special_tokens_map.json": `{"pad_token": "!"}`,
		}, true, "!"},
		{"added_tokens_decoder: special_tokens_map ignored", map[string]string{
			"tokenizer_config.json": `{"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<unk>", "unk_token": "<unk>",
				"added_tokens_decoder": {"0": {"content": "<s>", "normalized": true, "special": true}}}`,
			"special_tokens_map.json": `{"pad_token": "!"}`,
		}, true, "<unk>"},
		{"tokenizer.json added_tokens win", map[string]string{
			"special_tokens_map.json": `{"bos_token": {"content": "<s>", "normalized": true}, "eos_token": {"content": "</s>", "normalized": true},
				"unk_token": "<unk>", "pad_token": "</s>"}`,
			"tokenizer.json": `{"added_tokens": [{"id": 1, "content": "<s>", "normalized": false}, {"id": 2, "content": "</s>", "normalized": false}]}`,
		}, false, "</s>"},
	}
	for _, tt := range tests {
		dir := toyDir(t)
		for name, content := range tt.files {
			writeFile(t, dir, name, content)
		}
		tok, err := Load(dir)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tok.matchNormalized != tt.wantNormalized {
			t.Errorf("%s: MatchNormalized = %v, want %v", tt.name, tok.matchNormalized, tt.wantNormalized)
		}
		if want := toyVocab()[tt.wantPad]; tok.PadID() != want {
			t.Errorf("%s: PadID = %d, want %d (%q)", tt.name, tok.PadID(), want, tt.wantPad)
		}
	}
	dir := toyDir(t)
	writeFile(t, dir, "tokenizer_config.json", `{"added_tokens_decoder": {"0": 7}}`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "added_tokens_decoder[0]") {
		t.Errorf("bad added_tokens_decoder: %v", err)
	}
	writeFile(t, dir, "tokenizer_config.json", `{}`)
	writeFile(t, dir, "tokenizer.json", `{"added_tokens": 5}`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("bad tokenizer.json: %v", err)
	}
}

// FuzzParseMerges checks that merges.txt parsing never panics and returns
// only well-formed pairs.
func FuzzParseMerges(f *testing.F) {
	f.Add(toyMergesText)
	f.Add("#version: 0.2\na b\r\n\n c\nx  y\n")
	f.Fuzz(func(t *testing.T, s string) {
		merges, err := parseMerges(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, m := range merges {
			if m[0] == "" || m[1] == "" || strings.Contains(m[0]+m[1], " ") {
				t.Fatalf("bad merge %q from %q", m, s)
			}
		}
		// A toy tokenizer with these merges either builds or says why.
		if tok, err := New(toyVocab(), merges, Options{BOS: "<s>", EOS: "</s>"}); err == nil {
			tok.Encode(s)
		}
	})
}

// FuzzSpecialTokensMap feeds arbitrary special_tokens_map.json contents
// through Load's token parsing and New.
func FuzzSpecialTokensMap(f *testing.F) {
	f.Add(`{"bos_token": "<s>", "eos_token": {"content": "</s>", "normalized": true, "__type": "AddedToken"}, "pad_token": "!"}`)
	f.Add(`{"bos_token": null, "unk_token": {"content": 5}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var cfg map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &cfg) != nil {
			return
		}
		toks := map[string]specialSpec{"bos_token": {content: "<s>"}, "eos_token": {content: "</s>"}, "unk_token": {}, "pad_token": {}}
		if readSpecials(toks, cfg, "fuzz") != nil {
			return
		}
		tok, err := New(toyVocab(), toyMerges(), Options{
			BOS: toks["bos_token"].content, EOS: toks["eos_token"].content,
			Pad: toks["pad_token"].content, Unk: toks["unk_token"].content,
			MatchNormalized: toks["bos_token"].normalized,
		})
		if err != nil {
			return
		}
		ids := tok.Encode(s + "<s></s>!")
		if len(ids) < 2 || ids[0] != tok.BOS() || ids[len(ids)-1] != tok.EOS() {
			t.Fatalf("Encode: %v", ids)
		}
	})
}
