package main

import (
	"strings"
	"testing"
)

// The metabase command needs a URL and an API key, and says where each
// comes from before it touches anything (the endpoints themselves are
// tested against a fake Metabase in internal/metabase).
func TestMetabaseWithoutURLOrKeyExitsTwoNamingThem(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no URL", map[string]string{"METABASE_API_KEY": "mb_x"}, nil, "--url (or METABASE_URL)"},
		{"no key", nil, []string{"--url", "http://localhost:3000"}, "METABASE_API_KEY"},
		{"credentials in the URL", map[string]string{"METABASE_API_KEY": "mb_x"}, []string{"--url", "http://admin:pw@localhost:3000"}, "must not hold credentials"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, tt.env, append([]string{"metabase"}, tt.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", r.code, r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "pw@") {
				t.Errorf("stderr %q repeats the URL's password", r.stderr)
			}
		})
	}
}
