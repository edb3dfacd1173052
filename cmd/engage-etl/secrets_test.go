package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// Every secret holds a marker no output may ever show, in whatever encoding
// (raw, percent-encoded, quoted): the test searches for the markers.
var secretMarkers = []string{"DBPASSmark", "ENVTOKmark", "YAMLTOKmark", "ENVREFmark", "HOOKENVmark", "HOOKYAMLmark"}

const (
	dbPassword = "p@:/%?# ü-DBPASSmark"
	envToken   = "e:@/%?#-ENVTOKmark"
	yamlToken  = "y:@/%?#-YAMLTOKmark"
	refToken   = "wrong:@/%?#-ENVREFmark" // a token the API refuses: the 401 path
	hookEnv    = "h:@/ %?#ü-HOOKENVmark"
	hookYAML   = "h2:@/ %?#-HOOKYAMLmark"
)

func checkNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, m := range secretMarkers {
		if i := strings.Index(text, m); i >= 0 {
			t.Errorf("%s shows a secret (%s): ...%s...", where, m, text[max(0, i-60):min(len(text), i+20)])
		}
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	// Connection strings that cannot be parsed, in every form a password
	// takes: raw, percent-encoded, key=value, a query parameter.
	for _, dsn := range []string{
		"postgres://u:" + dbPassword + "@127.0.0.1:99999999/db",
		"postgres://u:" + url.PathEscape(dbPassword) + "@host:99999999/db",
		"postgres://" + url.UserPassword("u", dbPassword).String() + "@host:99999999/db",
		"host=127.0.0.1 port=99999999 user=u password='" + dbPassword + "'",
		"host=127.0.0.1 port=x password=" + url.QueryEscape(dbPassword),
		"postgres://127.0.0.1/db?port=x&password=" + url.QueryEscape(dbPassword),
		"postgres://u:" + dbPassword + "@127.0.0.1:1/db", // parses or not, refused
	} {
		env := map[string]string{"DATABASE_URL": dsn, "ENGAGE_API_TOKEN": envToken, "ENGAGE_WEBHOOK_SECRET": hookEnv}
		for _, args := range [][]string{{"migrate", "up"}, {"status"}, {"sync", "--log-level", "debug"}, {"run", "--log-level", "debug", "--http-addr", "127.0.0.1:0"}} {
			r := execMainWithin(t, time.Minute, env, args...)
			if r.code == exitOK {
				t.Errorf("%v with %q: exit 0", args, dsn)
			}
			checkNoSecret(t, fmt.Sprintf("%v with a bad URL: output", args), r.stdout+r.stderr)
		}
	}

	// A working warehouse and API, secrets in every place config reads them.
	sim, err := engagesim.New(engagesim.Config{Seed: 5, Days: 3, Now: time.Now().Add(-time.Hour), Tenants: []engagesim.TenantConfig{
		{ID: "env", Token: envToken, Timezone: "UTC"}, {ID: "yaml", Token: yamlToken, Timezone: "UTC"},
		{ID: "ref", Token: "the-right-one", Timezone: "UTC"}}})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	base := api.URL + engagesim.Prefix
	u, _ := url.Parse(testdb.New(t))
	u.User = url.UserPassword(u.User.Username(), dbPassword) // trust auth: accepted, ignored
	dsn := u.String()
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`database_url: %q
tenants:
  - {id: yaml, token: %q, base_url: %q, webhook_secret_env: HOOK_YAML, requests_per_second: 100}
  - {id: ref, token_env: REF_TOKEN, base_url: %q, requests_per_second: 100}
`, dsn, yamlToken, base, base)), 0o600)
	fileEnv := map[string]string{"HOOK_YAML": hookYAML, "REF_TOKEN": refToken}
	envEnv := map[string]string{"DATABASE_URL": dsn, "ENGAGE_API_TOKEN": envToken, "ENGAGE_BASE_URL": base,
		"ENGAGE_TENANT_ID": "env", "ENGAGE_WEBHOOK_SECRET": hookEnv, "ENGAGE_REQUESTS_PER_SECOND": "100"}
	streams := "--streams=chat_done_by_team,conversations,users"
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{envEnv, []string{"migrate", "up"}},
		{envEnv, []string{"sync", "--log-level", "debug", streams}},
		{fileEnv, []string{"sync", "--config", cfg, "--log-level", "debug", streams}}, // ref: refused token
		{fileEnv, []string{"status", "--config", cfg, "--log-level", "debug"}},
		{envEnv, []string{"status"}},
	} {
		r := execMain(t, c.env, c.args...)
		checkNoSecret(t, fmt.Sprintf("%v: output", c.args), r.stdout+r.stderr)
	}
	for _, env := range []map[string]string{envEnv, fileEnv} {
		args := []string{"run", "--log-level", "debug", "--schedule", "@every 1h"}
		if env["HOOK_YAML"] != "" {
			args = append(args, "--config", cfg)
		}
		out, metrics := runBriefly(t, env, args...)
		checkNoSecret(t, "run: output", out)
		checkNoSecret(t, "run: /metrics", metrics)
		if !regexp.MustCompile(`(?m)^engage_etl_api_budget_requests_per_second\{tenant="\w+"\} 100$`).MatchString(metrics) {
			t.Errorf("/metrics does not show the tenants' API budget (100/s):\n%s", metrics)
		}
	}

	// The warehouse: run history, raw payloads, everything in etl and raw.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN ('etl', 'raw', 'engage')`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables: %v", err)
	}
	var failed int
	conn.QueryRow(ctx, `SELECT count(*) FROM etl.run_stream WHERE status = 'failed'`).Scan(&failed)
	if failed == 0 {
		t.Error("no failed stream: the refused token's error path was not exercised")
	}
	for _, tbl := range tables {
		var text string
		if err := conn.QueryRow(ctx, `SELECT COALESCE(string_agg(t::text, E'\n'), '') FROM `+tbl+` t`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		checkNoSecret(t, tbl, text)
	}
}

// runBriefly runs the daemon until it serves, scrapes /metrics, sends a
// webhook with a wrong secret, then stops it with SIGTERM. It returns the
// output and the scrape.
func runBriefly(t *testing.T, env map[string]string, args ...string) (output, metrics string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := mainCommand(t, ctx, env, append(args, "--http-addr", addr, "--shutdown-timeout", "2s")...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			metrics = string(b)
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the daemon never served: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, err := http.Post("http://"+addr+"/webhooks/engage?secret=nope", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
	}
	time.Sleep(500 * time.Millisecond) // the runs at start get going
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return out.String(), metrics
}
