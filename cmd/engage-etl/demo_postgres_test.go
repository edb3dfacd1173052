package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoStartsAThrowawayPostgres points the demo at an address where
// nothing listens: it must start its own PostgreSQL in a folder, load the
// demo into it, say how to reach it, and use it again on a second run.
func TestDemoStartsAThrowawayPostgres(t *testing.T) {
	pgctl := serverPgctl(t)
	// Root runs the server as postgres, which must reach the folder.
	base, err := os.MkdirTemp("", "demo-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "cluster")
	asUser, _ := clusterUser()
	t.Cleanup(func() {
		stopCluster(pgctl, dir, asUser)
		os.RemoveAll(base)
	})
	port, err := freePort() // free now: nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"demo", "--local-postgres", "127.0.0.1:" + port, "--postgres-dir", dir, "--days", "2"}
	r := cli(t, nil, args...)
	if r.code != exitOK || !strings.Contains(r.stdout, "0. no PostgreSQL on 127.0.0.1:"+port+": started a throwaway one in "+dir) ||
		!strings.Contains(r.stdout, "3. sync: 2 tenants x") || !strings.Contains(r.stdout, "reach it: psql 'postgres://postgres@127.0.0.1:") {
		t.Fatalf("demo without PostgreSQL: %+v", r)
	}
	url := strings.SplitN(strings.SplitN(r.stdout, "reach it: psql '", 2)[1], "'", 2)[0]
	if n := count(t, url, `SELECT count(*) FROM engage.fact_conversation`); n == 0 {
		t.Errorf("the throwaway warehouse %s has no conversations", url)
	}
	// A second demo finds the running cluster and uses it.
	r = cli(t, nil, args...)
	if r.code != exitOK || !strings.Contains(r.stdout, "using the throwaway one in "+dir) || !strings.Contains(r.stdout, url) {
		t.Errorf("second demo: %+v", r)
	}
}

// TestDemoRunsWhereverItIsCloned: a clone under a folder the server's user
// cannot enter (root's home, any mktemp -d) still gets its throwaway
// PostgreSQL: as root the cluster moves to a folder the postgres user can
// reach, and says so; as another user, who owns the folder, it stays.
func TestDemoRunsWhereverItIsCloned(t *testing.T) {
	pgctl := serverPgctl(t)
	base, err := os.MkdirTemp("", "demo-clone-") // 0700, as mktemp -d makes it
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, ".demo-postgres")
	asUser, _ := clusterUser()
	used := dir
	t.Cleanup(func() {
		stopCluster(pgctl, used, asUser)
		os.RemoveAll(base)
		if used != dir {
			os.RemoveAll(used)
		}
	})
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, nil, "demo", "--local-postgres", "127.0.0.1:"+port, "--postgres-dir", dir, "--days", "1")
	if asUser != nil {
		_, moved, ok := strings.Cut(r.stdout, "its folder is ")
		if !strings.Contains(r.stdout, "who cannot enter "+base) || !ok {
			t.Fatalf("demo as root under a 0700 folder: %+v", r)
		}
		used = strings.Fields(moved)[0]
	}
	if r.code != exitOK || !strings.Contains(r.stdout, "started a throwaway one in "+used) {
		t.Fatalf("demo under a 0700 folder: %+v", r)
	}
	url := strings.SplitN(strings.SplitN(r.stdout, "reach it: psql '", 2)[1], "'", 2)[0]
	if n := count(t, url, `SELECT count(*) FROM engage.fact_conversation`); n == 0 {
		t.Errorf("the throwaway warehouse %s has no conversations", url)
	}
}

// serverPgctl is pg_ctl for a test that starts a cluster of its own; such a
// test is make test's, and fails under CI when the server is not installed.
func serverPgctl(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own: make test runs it, make test-short does not")
	}
	_, pgctl, ok := serverBinaries()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL's server binaries are missing under CI: %s (.ci/run installs postgresql)", installPostgres)
		}
		t.Skipf("PostgreSQL's server binaries are not installed: %s", installPostgres)
	}
	return pgctl
}

// stopCluster stops a test's cluster at once, as the user it runs as.
func stopCluster(pgctl, dir string, asUser *user.User) {
	args := []string{pgctl, "-D", dir, "-m", "immediate", "stop"}
	if asUser != nil {
		args = append([]string{"runuser", "-u", asUser.Username, "--"}, args...)
	}
	exec.Command(args[0], args[1:]...).Run()
}
