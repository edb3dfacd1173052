// Package deploy_test checks the deployment files with the tools that read
// them: systemd-analyze, promtool, docker-compose and a Dockerfile linter.
// A missing tool skips a test on a development machine and fails it under
// CI=true; .ci/run installs them all.
package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/engage-etl/engage-etl/internal/testtool"
)

// run runs a tool and returns its combined output; a non-zero exit fails the test.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

const unitPath = "systemd/engage-etl.service"

func TestSystemdUnitVerifies(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "apt-get install systemd")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	// verify insists that ExecStart's program exists and is executable, and
	// CI has no engage-etl in /usr/local/bin: verify a copy whose ExecStart
	// names an executable that exists, after checking the path it replaces.
	const bin = "/usr/local/bin/engage-etl"
	if !regexp.MustCompile(`(?m)^ExecStart=` + bin + ` run --config /etc/engage-etl/config.yaml$`).Match(unit) {
		t.Fatalf("%s: ExecStart is not %s run --config ... (the README's install steps)", unitPath, bin)
	}
	stand, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "engage-etl.service")
	if err := os.WriteFile(copyPath, bytes.ReplaceAll(unit, []byte(bin), []byte(stand)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 on an unknown key or a bad value, only warning: any
	// output is a failure.
	if out := run(t, "", analyze, "verify", "--man=no", copyPath); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify warns:\n%s", out)
	}
	for _, want := range []string{"DynamicUser=yes", "User=engage-etl", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"EnvironmentFile=/etc/engage-etl/engage-etl.env"} {
		if !bytes.Contains(unit, []byte("\n"+want+"\n")) {
			t.Errorf("%s lacks %s", unitPath, want)
		}
	}
	// The exposure score is 0 (locked down) to 10 (unsafe); 2 is "OK".
	out := run(t, "", analyze, "security", "--offline=true", "--threshold=20", "--no-pager", copyPath)
	if !strings.Contains(out, "Overall exposure level for engage-etl.service: 1.") {
		t.Errorf("systemd-analyze security: want an exposure level below 2:\n%s", out[max(0, len(out)-300):])
	}
}

func TestPrometheusRulesCheckAndFire(t *testing.T) {
	promtool := testtool.Need(t, "promtool", "apt-get install prometheus")
	run(t, "prometheus", promtool, "check", "rules", "alerts.yml")
	out := run(t, "prometheus", promtool, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
	// Every engage_etl_ metric the rules use is one the daemon exports.
	rules, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exported, err := os.ReadFile("../internal/daemon/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`engage_etl_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) < 4 {
		t.Fatalf("the rules use only %v", used)
	}
	for _, name := range used {
		if !bytes.Contains(exported, []byte(`"`+name+`"`)) {
			t.Errorf("alerts.yml uses %s, which internal/daemon/metrics.go does not export", name)
		}
	}
}

func TestComposeFileIsValid(t *testing.T) {
	compose := testtool.Need(t, "docker-compose", "apt-get install docker-compose")
	run(t, "..", compose, "-f", "docker-compose.yml", "config", "-q")
	out := run(t, "..", compose, "-f", "docker-compose.yml", "config")
	var cfg struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"postgres", "simulator", "etl", "metabase-init", "metabase", "metabase-keys"} {
		if _, ok := cfg.Services[s]; !ok {
			t.Errorf("service %s missing", s)
		}
	}
	// The warehouse is named engage, so its read-only role is engage_reader,
	// and Metabase starts only once its login is in that role.
	if db := cfg.Services["postgres"].Environment["POSTGRES_DB"]; db != "engage" {
		t.Errorf("POSTGRES_DB = %q, want engage", db)
	}
	if url := cfg.Services["etl"].Environment["DATABASE_URL"]; !strings.Contains(url, "@postgres:5432/engage?") {
		t.Errorf("the daemon's DATABASE_URL %q is not the engage database", url)
	}
	if e := cfg.Services["metabase-init"].Environment; e["PGDATABASE"] != "engage" || e["METABASE_USER"] != "metabase" {
		t.Errorf("metabase-init environment %v: want PGDATABASE engage, METABASE_USER metabase", e)
	}
	if c := cfg.Services["metabase"].DependsOn["metabase-init"].Condition; c != "service_completed_successfully" {
		t.Errorf("metabase waits for metabase-init with %q, want service_completed_successfully", c)
	}
	// The init gives Metabase the bi views' keys and descriptions.
	if k := cfg.Services["metabase-keys"]; !strings.Contains(strings.Join(k.Entrypoint, " "), "engage-etl metabase --url http://metabase:3000 --database engage") ||
		!strings.Contains(k.Environment["DATABASE_URL"], "@postgres:5432/engage?") {
		t.Errorf("metabase-keys runs %q with DATABASE_URL %q: want engage-etl metabase against the compose Metabase and warehouse", k.Entrypoint, k.Environment["DATABASE_URL"])
	}
}

func TestDockerfileLints(t *testing.T) {
	lint := testtool.Need(t, "dockerfile-utils", "npm install -g dockerfile-utils@0.16.3")
	// The linter exits 0 even when it warns: any output is a finding.
	if out := run(t, "..", lint, "lint", "Dockerfile"); strings.TrimSpace(out) != "" {
		t.Errorf("dockerfile-utils lint Dockerfile:\n%s", out)
	}
	// And it does find things: a Dockerfile with two CMDs is flagged.
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(bad, []byte("FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\n"), 0o644)
	if out := run(t, "", lint, "lint", bad); !strings.Contains(out, "only be one CMD") {
		t.Errorf("the linter missed two CMDs: %q", out)
	}
}
