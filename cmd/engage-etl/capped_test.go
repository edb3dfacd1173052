package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// TestACappingAPIIsLoadedWholeOrFailsLoudly: behind an API that keeps the
// first 100 elements of every detail answer (a busy tenant: some 300
// conversations a weekday), check says so and names the key, a sync loads
// every conversation, and a sync that may not split a day exits 1 naming
// the keys: never exit 0 with less than the report says.
func TestACappingAPIIsLoadedWholeOrFailsLoudly(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	sim, err := engagesim.New(engagesim.Config{Seed: 3, Days: 4, Now: time.Now().Add(-time.Hour), Scale: 300, CapDetails: 100,
		Tenants: []engagesim.TenantConfig{{ID: "sim", Token: "right-token", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	env := map[string]string{
		"DATABASE_URL": testdb.Migrated(t), "ENGAGE_BASE_URL": srv.URL + engagesim.Prefix, "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_TENANT_ID": "acme", "ENGAGE_REQUESTS_PER_SECOND": "1000",
		"ENGAGE_START_DATE": time.Now().AddDate(0, 0, -3).Format("2006-01-02"),
	}
	r := cli(t, env, "check", "--streams", "conversations,chat_conversations")
	if r.code != exitFailed || !strings.Contains(r.stdout, "the chat report counts") || !strings.Contains(r.stdout, "streams.conversations.max_elements to 100") {
		t.Errorf("check of a capping API: %+v", r)
	}

	cfg := filepath.Join(t.TempDir(), "whole-days.yaml")
	os.WriteFile(cfg, []byte("streams:\n  conversations: {max_elements: 100, split_down_to: 24h}\n"), 0o600)
	r = cli(t, env, "sync", "--config", cfg, "--streams", "conversations,chat_conversations")
	if r.code != exitFailed || !strings.Contains(r.stderr+r.stdout, "streams.conversations.split_down_to") {
		t.Errorf("a sync that may not split a capped day: %+v", r)
	}

	if r := cli(t, env, "sync", "--streams", "conversations,chat_conversations"); r.code != exitOK {
		t.Fatalf("sync: %+v", r)
	}
	var want int
	from, to := time.Now().AddDate(0, 0, -3), time.Now().Add(-time.Hour)
	for _, tn := range sim.Tenants() {
		loc, _ := time.LoadLocation(tn.Timezone)
		truth, err := sim.Truth(tn.ID, "conversations", civil.Of(from, loc), civil.Of(to, loc).AddDays(1))
		if err != nil {
			t.Fatal(err)
		}
		want = truth.Rows
	}
	if got := count(t, env["DATABASE_URL"], `SELECT count(*) FROM engage.fact_conversation`); got != want || want <= 300 {
		t.Errorf("loaded %d conversations, the API holds %d", got, want)
	}
}
