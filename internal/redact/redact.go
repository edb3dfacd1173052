// Package redact hides secrets in text on its way out: error messages, log
// records, the run history. It works on strings, never by parsing a URL, so
// a connection string too malformed to parse (the very case that ends up in
// an error message) is redacted as well as a good one.
//
// Two nets: the shape of a secret (the password of scheme://user:pass@host,
// a password=value pair) and the values themselves, registered by config as
// it reads them (API tokens, webhook secrets, the database password in the
// forms it may be printed in).
package redact

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "[redacted]"

// minKnown is the shortest registered value that is replaced: shorter ones
// would mangle every message that holds the same letters.
const minKnown = 3

var (
	mu    sync.RWMutex
	known []string // longest first, so a secret is replaced before a part of it
)

// Add registers secret values to hide wherever they appear.
func Add(secrets ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, s := range secrets {
		if len(s) < minKnown || contains(known, s) {
			continue
		}
		known = append(known, s)
	}
	sort.Slice(known, func(i, j int) bool { return len(known[i]) > len(known[j]) })
}

func contains(list []string, s string) bool {
	for _, k := range list {
		if k == s {
			return true
		}
	}
	return false
}

// AddDSN registers the password of a connection string, URL or key=value,
// well-formed or not, raw and percent-decoded.
func AddDSN(dsn string) {
	var pw []string
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		// Where the user name ends is certain (the first ':'); where the
		// password ends is not when it holds a raw '@': every candidate.
		if c := strings.IndexByte(rest, ':'); c >= 0 {
			for j := c + 1; j < len(rest); j++ {
				if rest[j] == '@' {
					pw = append(pw, rest[c+1:j])
				}
			}
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		v := m[2]
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v[1 : len(v)-1])
		}
		pw = append(pw, v)
		if i := strings.IndexByte(v, '&'); i > 0 { // a URL's ?password=...&next=
			pw = append(pw, v[:i])
		}
	}
	for _, p := range pw {
		Add(p)
		if d, err := url.PathUnescape(p); err == nil {
			Add(d)
		}
		if d, err := url.QueryUnescape(p); err == nil {
			Add(d)
		}
	}
}

// kvPassword is a password=value pair: key=value connection strings and
// URL query parameters; a quoted value may hold spaces.
var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)

// String returns s with every secret replaced by Mask.
func String(s string) string {
	mu.RLock()
	for _, k := range known {
		s = strings.ReplaceAll(s, k, Mask)
	}
	mu.RUnlock()
	return DSN(s)
}

// DSN hides the shape of secrets alone: the password of every
// scheme://user:password@ in s and every password=value.
func DSN(s string) string {
	s = kvPassword.ReplaceAllString(s, "${1}"+Mask)
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := i + 3
		b.WriteString(s[:start])
		s = s[start:]
		// The authority ends at the first character a URL in a message
		// cannot hold unquoted; its userinfo at the last '@' before that.
		end := strings.IndexAny(s, " \t\r\n\"'`<>")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndexByte(s[:end], '@')
		if at < 0 {
			continue
		}
		if c := strings.IndexByte(s[:at], ':'); c >= 0 && s[c+1:at] != Mask {
			b.WriteString(s[:c+1])
			b.WriteString(Mask)
			s = s[at:]
		}
	}
}
