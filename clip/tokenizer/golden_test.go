package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

const fixtureDir = "../../testdata/clip"

// fixtureText is one entry of texts.json.
type fixtureText struct {
	Index                int    `json:"index"`
	Category             string `json:"category"`
	Text                 string `json:"text"`
	InputIDs             []int  `json:"input_ids"`
	NumTokens            int    `json:"num_tokens"`
	UntruncatedNumTokens int    `json:"untruncated_num_tokens"`
	Truncated            bool   `json:"truncated"`
}

type fixture struct {
	MaxLength  int           `json:"max_length"`
	PadTokenID int           `json:"pad_token_id"`
	Texts      []fixtureText `json:"texts"`
}

func loadFixture(t testing.TB) fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "texts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Texts) != 67 {
		t.Fatalf("texts.json has %d texts, want 67", len(f.Texts))
	}
	return f
}

var (
	tinyOnce sync.Once
	tinyTok  *Tokenizer
	tinyErr  error
)

// tiny loads the fixture checkpoint's tokenizer once per test binary.
func tiny(t testing.TB) *Tokenizer {
	t.Helper()
	tinyOnce.Do(func() { tinyTok, tinyErr = Load(filepath.Join(fixtureDir, "tiny-b32")) })
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyTok
}

func TestLoadFixture(t *testing.T) {
	tok := tiny(t)
	f := loadFixture(t)
	if tok.MaxLength() != f.MaxLength || tok.MaxLength() != 77 {
		t.Errorf("MaxLength = %d, want %d", tok.MaxLength(), f.MaxLength)
	}
	if tok.BOS() != 49406 || tok.EOS() != 49407 || tok.PadID() != f.PadTokenID {
		t.Errorf("BOS, EOS, PadID = %d, %d, %d; want 49406, 49407, %d", tok.BOS(), tok.EOS(), tok.PadID(), f.PadTokenID)
	}
	if tok.VocabSize() != 49408 {
		t.Errorf("VocabSize = %d, want 49408", tok.VocabSize())
	}
	if !tok.matchNormalized {
		t.Error(`the fixture's special tokens say "normalized": true, but MatchNormalized is off`)
	}
}

func TestEncodeFixture(t *testing.T) {
	tok := tiny(t)
	for _, c := range loadFixture(t).Texts {
		got := tok.Encode(c.Text)
		if !slices.Equal(got, c.InputIDs) {
			t.Errorf("text %d (%s) %q:\n got %v\nwant %v", c.Index, c.Category, c.Text, got, c.InputIDs)
		}
		if len(got) != c.NumTokens {
			t.Errorf("text %d: %d tokens, want %d", c.Index, len(got), c.NumTokens)
		}
	}
}

// TestUntruncatedFixture checks the untruncated token counts, using a
// tokenizer with a context long enough for every fixture text.
func TestUntruncatedFixture(t *testing.T) {
	long := *tiny(t)
	long.maxLen = 1000
	long.cache = newPieceCache(pieceCacheSize)
	for _, c := range loadFixture(t).Texts {
		got := long.Encode(c.Text)
		if len(got) != c.UntruncatedNumTokens {
			t.Errorf("text %d: %d untruncated tokens, want %d", c.Index, len(got), c.UntruncatedNumTokens)
		}
		if truncated := len(got) > 77; truncated != c.Truncated {
			t.Errorf("text %d: truncated = %v, want %v", c.Index, truncated, c.Truncated)
		}
		// The truncated encoding is a prefix of the untruncated one.
		short := tiny(t).Encode(c.Text)
		if !slices.Equal(short[:len(short)-1], got[:len(short)-1]) {
			t.Errorf("text %d: truncated ids are not a prefix of the untruncated ids", c.Index)
		}
	}
}

func TestEncodeBatchFixture(t *testing.T) {
	tok := tiny(t)
	f := loadFixture(t)
	texts := make([]string, len(f.Texts))
	for i, c := range f.Texts {
		texts[i] = c.Text
	}
	got := tok.EncodeBatch(texts)
	if len(got) != len(texts) {
		t.Fatalf("EncodeBatch returned %d rows, want %d", len(got), len(texts))
	}
	for i, c := range f.Texts {
		if !slices.Equal(got[i], c.InputIDs) {
			t.Errorf("row %d: got %v, want %v", i, got[i], c.InputIDs)
		}
	}
	if got := tok.EncodeBatch(nil); len(got) != 0 {
		t.Errorf("EncodeBatch(nil) = %v", got)
	}
}
