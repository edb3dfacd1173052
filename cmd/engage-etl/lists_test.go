package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// A sync from cron every few minutes reads the lists once per
// sync.list_refresh (1h by default); sync --streams reads what it names, and
// list_refresh 0 reads them at every sync.
func TestSyncReadsTheListsAgainOnlyAfterListRefreshOrWhenNamed(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	sim, err := engagesim.New(engagesim.Config{Seed: 5, Days: 2, Scale: 10, Now: time.Now().Add(-time.Hour),
		Tenants: []engagesim.TenantConfig{{ID: "sim", Token: "right-token", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	var customers atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/customer") {
			customers.Add(1)
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{
		"DATABASE_URL": testdb.Migrated(t), "ENGAGE_BASE_URL": srv.URL + engagesim.Prefix, "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_START_DATE": time.Now().AddDate(0, 0, -1).Format("2006-01-02"),
		"ENGAGE_REQUESTS_PER_SECOND": "0",
	}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate up: %+v", r)
	}
	sync := func(step string, args ...string) result {
		t.Helper()
		customers.Store(0)
		r := cli(t, env, append([]string{"sync"}, args...)...)
		if r.code != exitOK {
			t.Fatalf("%s: %+v", step, r)
		}
		return r
	}
	// The summary's line of the customers: status and windows.
	line := regexp.MustCompile(`(?m)^default\s+customers\s+(\S+)\s+(\S+(?: \(\+\d+ done\))?)`)

	sync("first sync")
	if customers.Load() == 0 {
		t.Fatal("the first sync did not read the customers")
	}
	r := sync("second sync")
	if n := customers.Load(); n != 0 {
		t.Errorf("the second sync, seconds after the first, requested /customer %d times", n)
	}
	if m := line.FindStringSubmatch(r.stdout); m == nil || m[1] != "ok" || m[2] != "0/0 (+1 done)" {
		t.Errorf("the second sync reports the customers as %q, want ok, 0/0 (+1 done):\n%s", m, r.stdout)
	}

	r = sync("sync --streams customers", "--streams", "customers")
	if customers.Load() == 0 {
		t.Error("sync --streams customers did not read the customers")
	}
	if m := line.FindStringSubmatch(r.stdout); m == nil || m[2] != "1/1" {
		t.Errorf("sync --streams customers reports %q, want 1/1 windows:\n%s", m, r.stdout)
	}

	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("sync:\n  list_refresh: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if sync("sync with list_refresh 0", "--config", p); customers.Load() == 0 {
		t.Error("a sync with list_refresh 0 did not read the customers")
	}

	if err := os.WriteFile(p, []byte("sync:\n  list_refresh: hourly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, env, "sync", "--config", p); r.code != exitUsage || !strings.Contains(r.stderr, "sync.list_refresh") || !strings.Contains(r.stderr, "1h") {
		t.Errorf("list_refresh: hourly: exit %d, stderr %q; want 2 naming sync.list_refresh and the fix", r.code, r.stderr)
	}
}
