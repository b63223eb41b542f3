package tokenizer

import "golang.org/x/text/unicode/norm"

func normalizeNFCOnly(s string) string { return norm.NFC.String(s) }
