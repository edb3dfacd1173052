package catalog

import "strings"

// KeyError is a problem with one configuration key (reports.agent.body,
// streams.chat_done.window_days): config turns it into its own error type,
// so the command exits 2 (bad configuration) and names the key.
type KeyError struct {
	Key     string
	Problem string
	Fix     string // may be empty
}

func (e *KeyError) Error() string {
	msg := e.Key + ": " + e.Problem
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// Nearest returns the known name closest to name by edit distance, for a
// "did you mean" hint; "" when nothing is reasonably close.
func Nearest(name string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	// More edits than half the name is a different word, not a typo.
	if bestDist < 0 || bestDist > max(2, len([]rune(name))/2) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggest is the Fix of an unknown name: the nearest known one, else where
// the list is.
func suggest(name string, known []string, list string) string {
	if n := Nearest(name, known); n != "" {
		return "did you mean " + n + "? (" + list + ")"
	}
	return list
}
