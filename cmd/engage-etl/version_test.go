package main

import (
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

func TestVersionPrintsTheBuild(t *testing.T) {
	r := cli(t, nil, "version")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "engage-etl ") || !strings.Contains(r.stdout, goruntime.Version()) {
		t.Errorf("version: %+v; want exit 0, \"engage-etl VERSION\" and the Go version", r)
	}
}

func TestDescribeBuild(t *testing.T) {
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "(unknown: no build information)"},
		{&debug.BuildInfo{}, "(devel)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			"v1.2.0 (commit abc123, 2026-11-01T10:00:00Z)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261101100000-abc123+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"v0.0.0-20261101100000-abc123+dirty (commit abc123, modified)"},
	} {
		if got := describeBuild(tc.bi); got != tc.want {
			t.Errorf("describeBuild(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}

// TestSyncNamesItselfToTheAPI: every request of a sync carries
// User-Agent engage-etl/<version>.
func TestSyncNamesItselfToTheAPI(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	sim, err := engagesim.New(engagesim.Config{Seed: 5, Days: 2, Now: time.Now().Add(-time.Hour),
		Tenants: []engagesim.TenantConfig{{ID: "sim", Token: "right-token", Timezone: "UTC"}}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	agents := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.Header.Get("User-Agent")]++
		mu.Unlock()
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"DATABASE_URL": testdb.Migrated(t), "ENGAGE_BASE_URL": srv.URL + engagesim.Prefix,
		"ENGAGE_API_TOKEN": "right-token", "ENGAGE_START_DATE": time.Now().AddDate(0, 0, -1).Format("2006-01-02")}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	if r := cli(t, env, "sync", "--streams", "users,agent_times_online"); r.code != exitOK {
		t.Fatalf("sync: %+v", r)
	}
	want := "engage-etl/" + version()
	if len(agents) != 1 || agents[want] == 0 {
		t.Errorf("User-Agents seen (count each): %v; want only %q", agents, want)
	}
}
