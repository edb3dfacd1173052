package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The secrets FuzzLoad plants in the file and the environment.
const (
	fuzzToken   = "s3cr3t-TOKEN"
	fuzzHook    = "s3cr3t-HOOK"
	fuzzDBPass  = "s3cr3t-DBPASS"
	fuzzEnvName = "ACME_TOKEN"
)

var fuzzSecrets = []string{fuzzToken, fuzzHook, fuzzDBPass}

// FuzzLoad: whatever the file holds, Load never panics, and fails with a
// *Error (so the CLI exits 2) that quotes no secret: not a token or webhook
// secret, whether the file or the environment holds it, nor the database
// password.
func FuzzLoad(f *testing.F) {
	f.Add("tenants:\n  - id: acme\n    token: "+fuzzToken+"\n    timezone: Europe/Vienna\n", "")
	f.Add("tenants:\n  - id: acme\n    token_env: "+fuzzEnvName+"\n    webhook_secret_env: HOOK\n    start_date: 2026-13-01\n", "UTC")
	f.Add("database_url: postgres://etl:"+fuzzDBPass+"@db:5432/x\nhttp_addr: nope\n", "")
	f.Add("tenants:\n  - id: a\n    token: "+fuzzToken+"\n    token_env: "+fuzzEnvName+"\n", "")
	f.Add("api:\n  fields:\n    users:\n      email: mail\n  lists:\n    page_size: 0\n", "Mars/Olympus")
	f.Add("streams:\n  users:\n    lookback: 3x\nreports:\n  chat:\n    window_days: 0\n", "")
	f.Add("tenants: [{id: a, token: "+fuzzToken+", requests_per_second: -1}]\n", "")
	f.Add("tenants:\n  - id: a\n    tokn: "+fuzzToken+"\n", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, body, timezone string) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{
			"DATABASE_URL":      "postgres://etl:" + fuzzDBPass + "@db:5432/warehouse",
			"ENGAGE_API_TOKEN":  fuzzToken,
			"ENGAGE_TIMEZONE":   timezone,
			fuzzEnvName:         fuzzToken,
			"HOOK":              fuzzHook,
			"ENGAGE_START_DATE": timezone,
		}
		_, err := Load(path, envOf(env))
		if err == nil {
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("Load failed with %T, not a *config.Error: %v", err, err)
		}
		if !secretsOnlyAsSecrets(body) || strings.Contains(timezone, "s3cr3t") {
			return // the input put a secret where a secret does not belong
		}
		for _, s := range fuzzSecrets {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("the error quotes the secret %q: %v", s, err)
			}
		}
	})
}

// secretsOnlyAsSecrets reports whether the YAML holds the planted secrets
// only as the values of token and database_url (or not at all).
func secretsOnlyAsSecrets(body string) bool {
	if !strings.Contains(body, "s3cr3t") {
		return true
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(body), &doc) != nil {
		return false
	}
	var ok func(n *yaml.Node, key string) bool
	ok = func(n *yaml.Node, key string) bool {
		if n.Kind == yaml.ScalarNode || n.Kind == yaml.AliasNode {
			return !strings.Contains(n.Value, "s3cr3t") || n.Kind == yaml.ScalarNode && n.Tag == "!!str" && (key == "token" || key == "database_url")
		}
		if strings.Contains(n.Tag+n.Anchor+n.HeadComment+n.LineComment+n.FootComment, "s3cr3t") {
			return false
		}
		for i, c := range n.Content {
			k := ""
			if n.Kind == yaml.MappingNode && i%2 == 1 {
				k = n.Content[i-1].Value
			}
			if !ok(c, k) {
				return false
			}
		}
		return true
	}
	return ok(&doc, "")
}
