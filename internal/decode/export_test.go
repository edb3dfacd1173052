package decode

import "sort"

// Seen returns the fields m saw, sorted, and the elements it read: what
// the differential test compares between Element and Into.
func Seen(m *Remapper) ([]string, int) {
	var out []string
	for k := range m.seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, m.count
}
