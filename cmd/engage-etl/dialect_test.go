package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// dialectWorld serves one simulated world twice: in the contract's dialect
// and in v2.
func dialectWorld(t *testing.T) (contractURL, v2URL string) {
	t.Helper()
	sim, err := engagesim.New(engagesim.Config{Seed: 11, Days: 5, Now: time.Now().Add(-time.Hour), Scale: 40,
		Tenants: []engagesim.TenantConfig{{ID: "sim", Token: "right-token", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := httptest.NewServer(sim.ContractHandler())
	t.Cleanup(c.Close)
	v2 := httptest.NewServer(sim.DialectHandler(engagesim.DialectV2))
	t.Cleanup(v2.Close)
	return c.URL + engagesim.Prefix, v2.URL + engagesim.Prefix
}

// dialectEnv is the environment of a tenant at baseURL with a migrated
// warehouse of its own.
func dialectEnv(t *testing.T, baseURL string) map[string]string {
	return dialectEnvOn(baseURL, testdb.Migrated(t))
}

// dialectEnvOn is dialectEnv with the warehouse at dsn.
func dialectEnvOn(baseURL, dsn string) map[string]string {
	return map[string]string{
		"DATABASE_URL": dsn, "ENGAGE_BASE_URL": baseURL, "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_START_DATE": time.Now().AddDate(0, 0, -4).Format("2006-01-02"),
		"ENGAGE_REQUESTS_PER_SECOND": "1000", // a local simulator: the default pace would only wait
	}
}

func TestAnotherDialectLoadsTheSameWarehouseWithAConfigFileAlone(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	contractURL, v2URL := dialectWorld(t)
	contract, v2 := dialectEnv(t, contractURL), dialectEnv(t, v2URL)
	for _, env := range []map[string]string{contract, v2} {
		if r := cli(t, env, "migrate", "up"); r.code != exitOK {
			t.Fatalf("migrate: %+v", r)
		}
	}
	if r := cli(t, contract, "sync"); r.code != exitOK {
		t.Fatalf("sync of the contract dialect: %+v", r)
	}
	if r := cli(t, v2, "check", "--config", "testdata/dialect-v2.yaml"); r.code != exitOK {
		t.Errorf("check of v2 with its config: %+v", r)
	}
	if r := cli(t, v2, "sync", "--config", "testdata/dialect-v2.yaml"); r.code != exitOK {
		t.Fatalf("sync of v2 with its config: %+v", r)
	}
	want, got := testdb.Checksums(t, contract["DATABASE_URL"]), testdb.Checksums(t, v2["DATABASE_URL"])
	// Realtime snapshots are stamped with the minute each sync ran.
	delete(want, "engage.fact_realtime_snapshot")
	delete(got, "engage.fact_realtime_snapshot")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the v2 warehouse differs from the contract's (-contract +v2):\n%s", diff)
	}
	if n := count(t, v2["DATABASE_URL"], `SELECT count(*) FROM engage.dim_customer WHERE first_name IS NOT NULL AND first_name <> ''`); n == 0 {
		t.Error("no customer has a first name: the renamed field was not mapped")
	}
}

func TestCheckOfAnotherDialectWithTheDefaultConfigNamesWhatToChange(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	_, v2URL := dialectWorld(t)
	env := dialectEnv(t, v2URL)
	r := cli(t, env, "check")
	if r.code != exitFailed {
		t.Fatalf("check of v2 with the default config: exit %d, want 1\n%s", r.code, r.stdout)
	}
	for _, want := range []string{"404 Not Found: set reports.chat.path", "404 Not Found: set streams.users.path"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, " ok, ") {
		t.Errorf("check says ok for an endpoint of another dialect:\n%s", r.stdout)
	}
}

// TestEachDialectDifferenceFailsLoudly leaves one part out of the v2 config
// at a time: check names the config key of what is missing, and a sync
// reports no stream of it ok.
func TestEachDialectDifferenceFailsLoudly(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	full, err := os.ReadFile("testdata/dialect-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	without := func(block string) string {
		// Drop a block of the api: section (e.g. "  lists" or "    users"):
		// its line and the lines indented below it.
		var out []string
		inAPI, skipping := false, false
		for _, line := range strings.Split(string(full), "\n") {
			indent := len(line) - len(strings.TrimLeft(line, " "))
			if indent == 0 && line != "" {
				inAPI = line == "api:"
			}
			switch {
			case inAPI && strings.HasPrefix(line, block+":"):
				skipping = true
				continue
			case skipping && indent > len(block)-len(strings.TrimLeft(block, " ")):
				continue
			}
			skipping = false
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
	_, v2URL := dialectWorld(t)
	cases := []struct {
		block, streams, want string
	}{
		{"  date_filter", "conversations", "api.date_filter"},
		{"  lists", "customers", "api.lists."},
		{"  activity", "activity_livechat", "api.activity."},
		{"    users", "users", "api.fields.users.email"},
		{"    customers", "customers", "api.fields.customers.first_name"},
		{"    conversations", "conversations", "api.fields.conversations"},
		{"  messages", "messages", "api.messages.conversation_param"},
	}
	env := dialectEnv(t, v2URL)
	for _, tc := range cases {
		cfg := filepath.Join(t.TempDir(), "v2.yaml")
		if err := os.WriteFile(cfg, []byte(without(tc.block)), 0o600); err != nil {
			t.Fatal(err)
		}
		r := cli(t, env, "check", "--config", cfg, "--streams", tc.streams)
		if r.code != exitFailed || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("v2 without %s: check exit %d, want 1 naming %s:\n%s%s", tc.block, r.code, tc.want, r.stdout, r.stderr)
		}
	}
}

func TestTheDefaultConfigAgainstAnotherDialectReportsNothingOK(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	_, v2URL := dialectWorld(t)
	env := dialectEnv(t, v2URL)
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	r := cli(t, env, "sync")
	if r.code != exitFailed {
		t.Fatalf("sync of v2 with the default config: exit %d, want 1", r.code)
	}
	for _, line := range strings.Split(r.stdout, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "ok" {
			t.Errorf("a stream reports ok against another dialect: %s", line)
		}
	}
}

func TestCheckOfTheContractIsOKAndWritesNothing(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	contractURL, _ := dialectWorld(t)
	env := dialectEnvOn(contractURL, testdb.New(t)) // not migrated: check must create nothing
	if r := cli(t, env, "check"); r.code != exitOK || strings.Count(r.stdout, " ok, ") < 20 {
		t.Fatalf("check of the contract: %+v", r)
	}
	if n := count(t, env["DATABASE_URL"], `SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`); n != 0 {
		t.Errorf("check created %d tables, want none", n)
	}
}

// TestAFixedMappingIsRebuiltFromRaw: a field mapped wrong loads empty (with
// a warning); after the mapping is fixed, a rebuild loads it from the kept
// answers without asking the API again.
func TestAFixedMappingIsRebuiltFromRaw(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	_, v2URL := dialectWorld(t)
	env := dialectEnv(t, v2URL)
	full, err := os.ReadFile("testdata/dialect-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(full), "customers: {first_name: givenName, last_name: familyName}", "customers: {last_name: familyName}", 1)
	cfg := filepath.Join(t.TempDir(), "v2.yaml")
	if err := os.WriteFile(cfg, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	if r := cli(t, env, "sync", "--config", cfg, "--streams", "customers"); r.code != exitOK {
		t.Fatalf("sync: %+v", r)
	}
	named := `SELECT count(*) FROM engage.dim_customer WHERE first_name <> ''`
	if n := count(t, env["DATABASE_URL"], named); n != 0 {
		t.Fatalf("%d customers with a first name under the wrong mapping", n)
	}
	if r := cli(t, env, "status", "--config", cfg); !strings.Contains(r.stdout, "api.fields.customers.first_name") {
		t.Errorf("status does not warn of the unmatched mapping:\n%s", r.stdout)
	}
	if err := os.WriteFile(cfg, full, 0o600); err != nil {
		t.Fatal(err)
	}
	env["ENGAGE_BASE_URL"] = "http://127.0.0.1:1/rest/v1" // the API is gone
	if r := cli(t, env, "rebuild", "--config", cfg, "--streams", "customers"); r.code != exitOK {
		t.Fatalf("rebuild: %+v", r)
	}
	if n := count(t, env["DATABASE_URL"], named); n == 0 {
		t.Error("no customer has a first name after the rebuild with the fixed mapping")
	}
}
