package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvOnlyTenant(t *testing.T) {
	c, err := Load("", envOf(map[string]string{
		"DATABASE_URL":      "postgres://u:pw@db/x",
		"ENGAGE_API_TOKEN":  "tok",
		"ENGAGE_BASE_URL":   "http://127.0.0.1:8089/rest/v1",
		"ENGAGE_TIMEZONE":   "Europe/Vienna",
		"ENGAGE_START_DATE": "2026-10-01",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tenants) != 1 {
		t.Fatalf("got %d tenants, want 1", len(c.Tenants))
	}
	tn := c.Tenants[0]
	if tn.ID != DefaultTenantID || tn.Location.String() != "Europe/Vienna" || tn.StartDate.String() != "2026-10-01" || tn.Token.Reveal() != "tok" {
		t.Errorf("tenant = %+v", tn)
	}
	if c.DatabaseURL.Reveal() != "postgres://u:pw@db/x" {
		t.Errorf("DATABASE_URL not read")
	}
}

func TestFileTenantsAndOverrides(t *testing.T) {
	p := writeFile(t, `
database_url: postgres://file/x
tenants:
  - id: acme
    token_env: ACME_TOKEN
    timezone: America/New_York
    requests_per_second: 2.5
  - id: globex
    token: inline
streams:
  agent_times_online:
    lookback: 3d
    window_days: 2
reports:
  agent:
    path: /report/agents
`)
	c, err := Load(p, envOf(map[string]string{"ACME_TOKEN": "secret-acme", "DATABASE_URL": "postgres://env/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DatabaseURL.Reveal(); got != "postgres://env/x" {
		t.Errorf("DATABASE_URL should win over the file, got %s", got)
	}
	if c.Tenants[0].Token.Reveal() != "secret-acme" || c.Tenants[0].RequestsPerSecond != 2.5 || c.Tenants[0].Burst != 2 {
		t.Errorf("acme = %+v", c.Tenants[0])
	}
	if c.Tenants[1].Location != time.UTC {
		t.Errorf("default timezone should be UTC, got %v", c.Tenants[1].Location)
	}
	streams, err := c.Streams()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		if s.Name == "agent_times_online" && (s.Lookback != 72*time.Hour || s.WindowDays != 2) {
			t.Errorf("stream override not applied: %+v", s)
		}
		if s.Report == "agent" && s.Path != "/report/agents" {
			t.Errorf("report override not applied: %+v", s)
		}
	}
}

func TestErrorsNameTheKeyAndTheFix(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{"unknown key", "tenants:\n  - id: a\n    tokn: x\n", nil, []string{"line 3", `unknown key "tokn"`, "token_env"}},
		{"bad timezone", "tenants:\n  - id: a\n    token: x\n    timezone: Europe/Viena\n", nil, []string{"tenants[0].timezone", "Europe/Viena", "IANA"}},
		{"missing token env", "tenants:\n  - id: a\n    token_env: NOPE\n", nil, []string{"tenants[0].token_env", "NOPE is not set"}},
		{"bad start date", "tenants:\n  - id: a\n    token: x\n    start_date: 01.10.2026\n", nil, []string{"tenants[0].start_date", "YYYY-MM-DD"}},
		{"duplicate id", "tenants:\n  - {id: a, token: x}\n  - {id: a, token: y}\n", nil, []string{"tenants[1].id", "tenants[0] (a) and tenants[1] (a) have the same id"}},
		{"duplicate token", "tenants:\n  - {id: a, token: x}\n  - {id: b, token: y}\n  - {id: c, token: x}\n", nil, []string{"tenants[2].token", "tenants[0] (a) and tenants[2] (c) have the same API token"}},
		{"duplicate token env", "tenants:\n  - {id: a, token_env: TA}\n  - {id: b, token_env: TB}\n", map[string]string{"TA": "same", "TB": "same"}, []string{"tenants[1].token_env", "tenants[0] (a) and tenants[1] (b)"}},
		{"duplicate webhook secret", "tenants:\n  - {id: a, token: x, webhook_secret_env: S1}\n  - {id: b, token: y, webhook_secret_env: S2}\n", map[string]string{"S1": "hook", "S2": "hook"},
			[]string{"tenants[1].webhook_secret_env", "tenants[0] (a) and tenants[1] (b) have the same webhook secret", "own secret"}},
		{"bad lookback", "streams:\n  agent_times_online: {lookback: soon}\n", nil, []string{"streams.agent_times_online.lookback", "2d"}},
		{"unknown stream", "streams:\n  agent_time_online: {window_days: 2}\n", nil, []string{"streams.agent_time_online", "engage-etl streams"}},
		{"env timezone", "", map[string]string{"ENGAGE_API_TOKEN": "x", "ENGAGE_TIMEZONE": "Mars/Olympus"}, []string{"ENGAGE_TIMEZONE", "IANA"}},
		{"parallelism", "sync: {window_parallelism: 0}\n", nil, []string{"sync.window_parallelism", "1 to 64"}},
		{"base url", "tenants:\n  - {id: a, token: x, base_url: 'ftp://x'}\n", nil, []string{"tenants[0].base_url"}},
		{"bad schedule", "schedules: {reports: 'every now and then'}\n", nil, []string{"schedules.reports", "cron expression"}},
		{"unknown group", "schedules: {weekly: '@weekly'}\n", nil, []string{"schedules.weekly", "lists"}},
		{"webhook secret env", "tenants:\n  - {id: a, token: x, webhook_secret_env: NOPE}\n", nil, []string{"tenants[0].webhook_secret_env", "NOPE"}},
		{"shutdown", "shutdown_timeout: soon\n", nil, []string{"shutdown_timeout", "30s"}},
		{"list refresh", "sync: {list_refresh: hourly}\n", nil, []string{"sync.list_refresh", `"hourly"`, "1h", "0 to read the lists at every sync"}},
		{"negative list refresh", "sync: {list_refresh: -1h}\n", nil, []string{"sync.list_refresh", `"-1h"`, "zero or more"}},
	}
	for _, tt := range tests {
		p := ""
		if tt.yaml != "" {
			p = writeFile(t, tt.yaml)
		}
		_, err := Load(p, envOf(tt.env))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tt.name, err, w)
			}
		}
	}
}

// TestTwoTenantsWithOneSecretNameBothButNotTheSecret: the error that two
// tenants share a token or webhook secret names them, never the value.
func TestTwoTenantsWithOneSecretNameBothButNotTheSecret(t *testing.T) {
	for _, yaml := range []string{
		"tenants:\n  - {id: a, token_env: T}\n  - {id: b, token_env: T}\n",
		"tenants:\n  - {id: a, token: x, webhook_secret_env: T}\n  - {id: b, token: y, webhook_secret_env: T}\n",
	} {
		_, err := Load(writeFile(t, yaml), envOf(map[string]string{"T": "s3cr3t-value"}))
		var cerr *Error
		if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "(a) and tenants[1] (b)") {
			t.Fatalf("want a config error naming both tenants, got %v", err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	s := Secret("hunter2")
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "token", s)
	b, _ := json.Marshal(struct{ T Secret }{s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), sb.String(), string(b)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}

func TestEmptyFileIsFine(t *testing.T) {
	if _, err := Load(writeFile(t, ""), envOf(nil)); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}

func TestSchedulesDefaultAndOverride(t *testing.T) {
	c, err := Load(writeFile(t, "schedules:\n  reports: '0 */5 * * * *'\n  activity: 'CRON_TZ=Europe/Vienna 0 3 * * *'\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedules["reports"] != "0 */5 * * * *" || c.Schedules["lists"] != DefaultSchedules["lists"] {
		t.Errorf("schedules = %v", c.Schedules)
	}
	if c.ShutdownTimeout != DefaultShutdownTimeout || c.HTTPAddr != DefaultHTTPAddr {
		t.Errorf("daemon defaults: %v %s", c.ShutdownTimeout, c.HTTPAddr)
	}
}

func TestListRefreshDefaultsToAnHourAndZeroMeansEverySync(t *testing.T) {
	for yaml, want := range map[string]time.Duration{
		"":                          DefaultListRefresh,
		"sync: {list_refresh: 0}":   0,
		"sync: {list_refresh: 0s}":  0,
		"sync: {list_refresh: 15m}": 15 * time.Minute,
		"sync: {list_refresh: 1d}":  24 * time.Hour,
	} {
		c, err := Load(writeFile(t, yaml), envOf(nil))
		if err != nil {
			t.Errorf("%q: %v", yaml, err)
			continue
		}
		if got := c.Sync.ListRefresh; got != want {
			t.Errorf("%q: list refresh %v, want %v", yaml, got, want)
		}
	}
	if DefaultListRefresh != time.Hour {
		t.Errorf("default list refresh %v, want 1h (the daemon's lists schedule)", DefaultListRefresh)
	}
}

func TestCheckScheduleRefusesStepsOutsideTheFieldRange(t *testing.T) {
	for spec, ok := range map[string]bool{
		"*/15 * * * *": true, "*/59 * * * *": true, "*/61 * * * *": false, "*/60 * * * *": false,
		"0 */23 * * *": true, "0 */24 * * *": false, "0 0 */31 * *": false, "0 0 1 */12 *": false,
		"0 0 * * */6": true, "0 0 * * */7": false, "*/30 * * * * *": true, "*/61 * * * * *": false,
		"CRON_TZ=Europe/Vienna 0 */25 * * *": false, "CRON_TZ=Europe/Vienna 0 6 * * *": true,
		"1-30/61 * * * *": false, "0,*/70 * * * *": false, "@every 5m": true, "@every 10ms": false,
		"@hourly": true, "61 * * * *": false,
	} {
		if err := CheckSchedule(spec); (err == nil) != ok {
			t.Errorf("CheckSchedule(%q) = %v, want ok=%v", spec, err, ok)
		}
	}
}

func TestCheckListenAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		":9464": true, "127.0.0.1:9464": true, "[::1]:80": true, "localhost:0": true, "etl.example.com:65535": true,
		":99999": false, ":65536": false, "127.0.0.1": false, ":-1": false, "local host:80": false, ":http": false,
		"bad_host!:80": false, "": false, "[::1:80": false,
	} {
		if err := CheckListenAddr(addr); (err == nil) != ok {
			t.Errorf("CheckListenAddr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// requests_per_second 0 turns the client's pacing off, for a local simulator;
// negative, NaN and more than the limit still fail naming the key.
func TestRequestsPerSecondZeroIsUnpaced(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://db/x", "ENGAGE_API_TOKEN": "tok", "ENGAGE_BASE_URL": "http://127.0.0.1:8089/rest/v1"}
	env := func(kv ...string) LookupEnv {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return envOf(m)
	}
	c, err := Load("", env("ENGAGE_REQUESTS_PER_SECOND", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if tn := c.Tenants[0]; tn.RequestsPerSecond != 0 || !tn.Unpaced() || tn.UnpacedRemote() || tn.Burst < 1 {
		t.Errorf("ENGAGE_REQUESTS_PER_SECOND=0: tenant %+v, want unpaced, local, burst >= 1", tn)
	}
	if c, err := Load("", env()); err != nil || c.Tenants[0].Unpaced() || c.Tenants[0].RequestsPerSecond != DefaultRequestsPerSecond {
		t.Errorf("default pacing: %v, %+v", err, c)
	}

	p := writeFile(t, `
database_url: postgres://file/x
tenants:
  - {id: local, token: a, base_url: "http://localhost:8089/rest/v1", requests_per_second: 0}
  - {id: v6, token: b, base_url: "http://[::1]:8089/rest/v1", requests_per_second: 0}
  - {id: remote, token: c, base_url: "https://api.example.com/rest/v1", requests_per_second: 0}
  - {id: paced, token: d, base_url: "https://api.example.com/rest/v1", requests_per_second: 1000}
  - {id: default, token: e}
`)
	c, err = Load(p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]bool{ // unpaced, unpaced against a remote API
		"local": {true, false}, "v6": {true, false}, "remote": {true, true}, "paced": {false, false}, "default": {false, false},
	}
	for _, tn := range c.Tenants {
		if got := [2]bool{tn.Unpaced(), tn.UnpacedRemote()}; got != want[tn.ID] {
			t.Errorf("tenant %s: unpaced, remote = %v, want %v", tn.ID, got, want[tn.ID])
		}
	}

	for _, v := range []string{"-1", "NaN", "1001", "+Inf"} {
		_, err := Load("", env("ENGAGE_REQUESTS_PER_SECOND", v))
		if err == nil || !strings.Contains(err.Error(), "ENGAGE_REQUESTS_PER_SECOND") || !strings.Contains(err.Error(), "0 for no pacing") {
			t.Errorf("ENGAGE_REQUESTS_PER_SECOND=%s: err = %v, want it out of range, naming 0", v, err)
		}
	}
	p = writeFile(t, "database_url: postgres://file/x\ntenants:\n  - {id: a, token: a, requests_per_second: -0.5}\n")
	if _, err := Load(p, envOf(nil)); err == nil || !strings.Contains(err.Error(), "tenants[0].requests_per_second") {
		t.Errorf("requests_per_second -0.5: err = %v, want it named", err)
	}
}
