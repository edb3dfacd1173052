package redact

import (
	"strings"
	"testing"
)

func TestDSNHidesPasswordsOfMalformedURLs(t *testing.T) {
	for _, in := range []string{
		"postgres://u:s3cr3t@host:5432/db",
		"postgres://u:s3cr3t@host:99999999/db",
		"cannot parse `postgres://u:s3@cr:3t@127.0.0.1:1/db`: invalid port",
		"postgres://u:s3/cr?3t#x@host/db",
		"postgresql://:s3cr3t@host",
		"host=h port=1 password=s3cr3t user=u",
		"host=h password='s3 cr3t' user=u",
		"postgres://host/db?sslmode=disable&password=s3cr3t&port=x",
		`dial "postgres://u:s3cr3t@host/db": refused`,
	} {
		got := DSN(in)
		if strings.Contains(got, "s3") || strings.Contains(got, "cr3t") {
			t.Errorf("DSN(%q) = %q still holds the password", in, got)
		}
	}
	if got := DSN("see https://example.com/a@b and user@host"); got != "see https://example.com/a@b and user@host" {
		t.Errorf("a URL without a password was changed: %q", got)
	}
}

func TestKnownValuesAreHiddenInEveryForm(t *testing.T) {
	AddDSN("postgres://u:pa%20ss%40word-kn0wn@host/db")
	Add("tok-kn0wn-value", "ab")
	for _, in := range []string{"pa ss@word-kn0wn", "pa%20ss%40word-kn0wn", "Bearer tok-kn0wn-value failed"} {
		if got := String(in); strings.Contains(got, "kn0wn") {
			t.Errorf("String(%q) = %q", in, got)
		}
	}
	if got := String("about"); got != "about" {
		t.Errorf("a 2-letter secret mangled %q", got)
	}
}
