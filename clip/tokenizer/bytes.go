package tokenizer

// byteAlphabet returns CLIP's (and GPT-2's) byte-to-unicode table: the 188
// printable bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for themselves, the
// other 68 bytes map, in byte order, to U+0100, U+0101, and so on. Every byte
// thus becomes one printable, non-space character.
func byteAlphabet() [256]string {
	var a [256]string
	next := rune(256)
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			a[b] = string(rune(b))
		} else {
			a[b] = string(next)
			next++
		}
	}
	return a
}
