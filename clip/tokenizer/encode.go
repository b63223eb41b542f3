package tokenizer

// appendTokens appends the ids of text (without BOS and EOS) to out,
// stopping early once out holds at least limit ids.
//
// Like Hugging Face's added-vocabulary handling, special tokens are split out
// either before normalisation (raw matching) or after it, by their
// normalised content (MatchNormalized); the text between them is normalised,
// split into pieces and BPE-encoded.
func (t *Tokenizer) appendTokens(out []int, text string, limit int) []int {
	text = validUTF8(text)
	if t.matchNormalized {
		text = normalize(text)
	}
	splitSpecials(text, t.specials, func(part string, id int) bool {
		if id >= 0 {
			out = append(out, id)
			return len(out) < limit
		}
		if !t.matchNormalized {
			part = normalize(part)
		}
		eachPiece(part, func(piece string) bool {
			out = t.appendPiece(out, piece)
			return len(out) < limit
		})
		return len(out) < limit
	})
	return out
}
