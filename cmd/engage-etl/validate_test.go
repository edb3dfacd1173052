package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/testdb"
)

// A bad listen address or schedule is found with the rest of the
// configuration: exit 2 naming the key, and the warehouse is not touched
// (not even migrated).
func TestRunValidatesEverythingBeforeTouchingTheWarehouse(t *testing.T) {
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "ENGAGE_API_TOKEN": "tok", "ENGAGE_BASE_URL": "http://127.0.0.1:1/rest/v1"}
	file := func(yaml string) string {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tenant := "tenants:\n  - {id: a, token: x, base_url: 'http://127.0.0.1:1/rest/v1'}\n"
	tests := []struct {
		args []string
		key  string
	}{
		{[]string{"run", "--http-addr", ":99999"}, "--http-addr"},
		{[]string{"run", "--http-addr", "127.0.0.1"}, "--http-addr"},
		{[]string{"run", "--http-addr", "local host:80"}, "--http-addr"},
		{[]string{"run", "--http-addr", "127.0.0.1:-1"}, "--http-addr"},
		{[]string{"run", "--schedule", "*/61 * * * *"}, "--schedule"},
		{[]string{"run", "--schedule", "0 */24 * * *"}, "--schedule"},
		{[]string{"run", "--schedule", "@every 10ms"}, "--schedule"},
		{[]string{"run", "--config", file(tenant + "http_addr: ':65536'\n")}, "http_addr"},
		{[]string{"run", "--config", file(tenant + "schedules:\n  reports: '*/61 * * * *'\n")}, "schedules.reports"},
		{[]string{"run", "--config", file(tenant + "schedules:\n  lists: '0 0 */32 * *'\n")}, "schedules.lists"},
		{[]string{"sync", "--config", file(tenant + "http_addr: 'nope'\n")}, "http_addr"},
	}
	for _, tt := range tests {
		// A daemon that wrongly starts would run until killed.
		r := execMainWithin(t, 15*time.Second, env, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.key) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tt.args, r.code, r.stderr, tt.key)
		}
	}
	if n := count(t, dsn, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`); n != 0 {
		t.Errorf("the warehouse holds %d relations after runs that should have stopped at validation", n)
	}
}
