package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxSaneLength is the largest model_max_length Load accepts as a real
// limit; larger values (transformers writes 1e30 for "no limit") fall back to
// DefaultMaxLength.
const maxSaneLength = 1 << 16

// Load reads a tokenizer from a Hugging Face model directory: vocab.json,
// merges.txt (a leading "#version" line is skipped), and, when present,
// tokenizer_config.json and special_tokens_map.json for the bos/eos/pad/unk
// tokens and model_max_length. As in transformers, special_tokens_map.json
// overrides tokenizer_config.json unless the latter has the newer
// "added_tokens_decoder" field. Tokens may be plain strings or
// {"__type": "AddedToken", "content": ...} objects; their "normalized" flag
// (also taken from added_tokens_decoder and from tokenizer.json's
// added_tokens when present) sets Options.MatchNormalized. Missing tokens
// default to CLIP's ("<|startoftext|>", "<|endoftext|>"); a missing, absurd
// (transformers writes 1e30 for "no limit") or too small model_max_length
// becomes DefaultMaxLength.
func Load(dir string) (*Tokenizer, error) {
	vocab, err := readVocab(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, err
	}
	merges, err := readMerges(filepath.Join(dir, "merges.txt"))
	if err != nil {
		return nil, err
	}
	toks := map[string]specialSpec{
		"bos_token": {content: "<|startoftext|>"},
		"eos_token": {content: "<|endoftext|>"},
		"unk_token": {content: "<|endoftext|>"},
		"pad_token": {content: "<|endoftext|>"},
	}
	normalizedOf := map[string]bool{} // content -> "normalized" of added tokens

	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	cfg, err := readJSON[map[string]json.RawMessage](cfgPath)
	if err != nil {
		return nil, err
	}
	if err := readSpecials(toks, cfg, cfgPath); err != nil {
		return nil, err
	}
	if raw, ok := cfg["added_tokens_decoder"]; ok {
		var dec map[string]json.RawMessage
		if err := json.Unmarshal(raw, &dec); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: field added_tokens_decoder: %w", cfgPath, err)
		}
		for id, raw := range dec {
			spec, err := parseSpecial(raw)
			if err != nil {
				return nil, fmt.Errorf("tokenizer: %s: added_tokens_decoder[%s]: %w", cfgPath, id, err)
			}
			normalizedOf[spec.content] = spec.normalized
		}
	} else {
		mapPath := filepath.Join(dir, "special_tokens_map.json")
		m, err := readJSON[map[string]json.RawMessage](mapPath)
		if err != nil {
			return nil, err
		}
		if err := readSpecials(toks, m, mapPath); err != nil {
			return nil, err
		}
	}
	maxLen := 0
	if raw, ok := cfg["model_max_length"]; ok {
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: field model_max_length: %w", cfgPath, err)
		}
		if v >= 2 && v <= maxSaneLength && v == float64(int(v)) {
			maxLen = int(v)
		}
	}

	// tokenizer.json, when present, is what the fast tokenizer itself runs
	// with; only its added tokens' flags matter here.
	tjPath := filepath.Join(dir, "tokenizer.json")
	tj, err := readJSON[struct {
		AddedTokens []struct {
			Content    string `json:"content"`
			Normalized bool   `json:"normalized"`
		} `json:"added_tokens"`
	}](tjPath)
	if err != nil {
		return nil, err
	}
	for _, a := range tj.AddedTokens {
		normalizedOf[a.Content] = a.Normalized
	}
	for key, spec := range toks {
		if n, ok := normalizedOf[spec.content]; ok {
			spec.normalized = n
			toks[key] = spec
		}
	}

	bos, eos := toks["bos_token"], toks["eos_token"]
	if bos.content == "" || eos.content == "" {
		return nil, fmt.Errorf("tokenizer: %s: bos_token and eos_token must be set", dir)
	}
	t, err := New(vocab, merges, Options{
		BOS:             bos.content,
		EOS:             eos.content,
		Pad:             toks["pad_token"].content,
		Unk:             toks["unk_token"].content,
		MaxLength:       maxLen,
		MatchNormalized: bos.normalized || eos.normalized,
	})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: load %s: %w", dir, err)
	}
	return t, nil
}

// readSpecials sets the special tokens that cfg (read from path) states.
func readSpecials(toks map[string]specialSpec, cfg map[string]json.RawMessage, path string) error {
	for key := range toks {
		raw, ok := cfg[key]
		if !ok {
			continue
		}
		spec, err := parseSpecial(raw)
		if err != nil {
			return fmt.Errorf("tokenizer: %s: field %s: %w", path, key, err)
		}
		toks[key] = spec
	}
	return nil
}

// specialSpec is a special token as a checkpoint states it.
type specialSpec struct {
	content    string
	normalized bool
}

// parseSpecial reads a token given as a string, an AddedToken object or null.
// A plain string is matched in raw text (Hugging Face adds it with
// normalized=false); an object's "normalized" field decides, defaulting to
// false for special tokens as in the tokenizers library.
func parseSpecial(raw json.RawMessage) (specialSpec, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(raw, []byte("null")):
		return specialSpec{}, nil
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return specialSpec{}, err
		}
		return specialSpec{content: s}, nil
	}
	var obj struct {
		Content    *string `json:"content"`
		Normalized *bool   `json:"normalized"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return specialSpec{}, fmt.Errorf("want a string or an AddedToken object: %w", err)
	}
	if obj.Content == nil {
		return specialSpec{}, errors.New(`AddedToken object without "content"`)
	}
	return specialSpec{content: *obj.Content, normalized: obj.Normalized != nil && *obj.Normalized}, nil
}

// readJSON decodes a JSON file; a missing file gives the zero value.
func readJSON[T any](path string) (T, error) {
	var v T
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("tokenizer: %w", err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("tokenizer: decode %s: %w", path, err)
	}
	return v, nil
}

// readVocab reads vocab.json, a JSON object of token -> id.
func readVocab(path string) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: decode %s: %w", path, err)
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("tokenizer: %s: empty vocabulary", path)
	}
	return vocab, nil
}

// readMerges reads merges.txt: one "left right" pair per line in rank order,
// after an optional "#version" line. Empty lines are skipped.
func readMerges(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	return parseMerges(f, path)
}

func parseMerges(r io.Reader, path string) ([][2]string, error) {
	var merges [][2]string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" || (line == 1 && strings.HasPrefix(s, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: %s:%d: want two symbols separated by one space, got %q", path, line, s)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w", path, err)
	}
	return merges, nil
}
