package tokenizer

import "strings"

// splitSpecials calls fn for the parts of s in order: a run of ordinary text
// with id -1, or the text of a special token with its id, until fn returns
// false. Matching is leftmost-longest, like Hugging Face's added-token
// matcher. Empty text runs are not reported.
func splitSpecials(s string, specials []special, fn func(text string, id int) bool) {
	if len(specials) == 0 {
		if s != "" {
			fn(s, -1)
		}
		return
	}
	// next[k] is the next occurrence of specials[k] at or after pos
	// (-1: none left); it is searched again only once pos has passed it,
	// so the whole split costs O(len(s) * len(specials)).
	next := make([]int, len(specials))
	for k, sp := range specials {
		next[k] = strings.Index(s, sp.content)
	}
	pos := 0
	for {
		best, bestAt := -1, -1
		for k, sp := range specials {
			if next[k] >= 0 && next[k] < pos {
				if j := strings.Index(s[pos:], sp.content); j >= 0 {
					next[k] = pos + j
				} else {
					next[k] = -1
				}
			}
			if next[k] < 0 {
				continue
			}
			if best < 0 || next[k] < bestAt || (next[k] == bestAt && len(sp.content) > len(specials[best].content)) {
				best, bestAt = k, next[k]
			}
		}
		if best < 0 {
			if pos < len(s) {
				fn(s[pos:], -1)
			}
			return
		}
		if bestAt > pos && !fn(s[pos:bestAt], -1) {
			return
		}
		if !fn(specials[best].content, specials[best].id) {
			return
		}
		pos = bestAt + len(specials[best].content)
	}
}
