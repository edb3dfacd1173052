package testdb

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// Cluster is a private PostgreSQL server a test starts, for what it must not
// do to the shared one: restart it, stop it.
type Cluster struct {
	DSN   string // postgres://postgres@127.0.0.1:PORT/postgres
	dir   string
	pgctl string
	as    *user.User // runs the server: PostgreSQL refuses root
}

// NewCluster initialises and starts a private server in a temporary folder
// on a free port, stopped when t ends. It needs the server binaries
// (Debian's postgresql package); without them the test fails.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own: make test runs it, make test-short does not")
	}
	bin := serverBin()
	if bin == "" {
		t.Fatal("no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package")
	}
	c := &Cluster{pgctl: filepath.Join(bin, "pg_ctl")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no postgres user to run the server as: %v", err)
		}
		c.as = u
	}
	dir, err := os.MkdirTemp("", "engage-etl-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.dir = filepath.Join(dir, "data")
	if c.as != nil {
		uid, _ := strconv.Atoi(c.as.Uid)
		gid, _ := strconv.Atoi(c.as.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", c.dir, "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	if out, err := c.run(c.pgctl, "-D", c.dir, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start"); err != nil {
		t.Fatalf("start the private server: %v\n%s", err, out)
	}
	t.Cleanup(func() { c.run(c.pgctl, "-D", c.dir, "-m", "immediate", "-w", "stop") })
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return c
}

// Restart stops the server (fast: sessions are cut) and starts it again.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if out, err := c.run(c.pgctl, "-D", c.dir, "-m", "fast", "-w", "restart"); err != nil {
		t.Fatalf("restart the private server: %v\n%s", err, out)
	}
}

func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	if c.as != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.as.Username, "--", prog}, args...)...)
	}
	// pg_ctl's server inherits the output: a file, not a pipe, so the
	// command returns when pg_ctl does.
	f, err := os.CreateTemp("", "pg_ctl-*.out")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return out, err
}

// serverBin is the newest /usr/lib/postgresql/N/bin with initdb, or "".
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
