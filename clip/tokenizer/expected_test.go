package tokenizer

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/sightsearch/sight/safetensors"
)

// TestPadMatchesExpectedTensors checks Encode + Pad against the reference's
// padded input_ids and attention_mask tensors (I64 [67,77]).
func TestPadMatchesExpectedTensors(t *testing.T) {
	f, err := safetensors.Open(filepath.Join(fixtureDir, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok := tiny(t)
	texts := loadFixture(t).Texts
	tensors := map[string][]int64{}
	for _, name := range []string{"input_ids", "attention_mask"} {
		info, ok := f.Info(name)
		if !ok {
			t.Fatalf("expected.safetensors has no %s", name)
		}
		if !slices.Equal(info.Shape, []int{len(texts), tok.MaxLength()}) {
			t.Fatalf("%s has shape %v, want [%d %d]", name, info.Shape, len(texts), tok.MaxLength())
		}
		if tensors[name], err = f.Int64(name); err != nil {
			t.Fatal(err)
		}
	}
	width := tok.MaxLength()
	checked := 0
	for _, c := range texts {
		padded, mask := tok.Pad(tok.Encode(c.Text))
		wantIDs := tensors["input_ids"][c.Index*width : (c.Index+1)*width]
		wantMask := tensors["attention_mask"][c.Index*width : (c.Index+1)*width]
		for i := range width {
			if int64(padded[i]) != wantIDs[i] || int64(mask[i]) != wantMask[i] {
				t.Errorf("text %d %q, position %d: id %d mask %d, want id %d mask %d",
					c.Index, c.Text, i, padded[i], mask[i], wantIDs[i], wantMask[i])
				break
			}
		}
		checked++
	}
	if checked != 67 {
		t.Errorf("checked %d rows, want 67", checked)
	}
}
