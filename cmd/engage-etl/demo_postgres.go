package main

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// defaultLocalPostgres is where the demo looks for a running PostgreSQL.
const defaultLocalPostgres = "127.0.0.1:5432"

// installPostgres is the one command that brings PostgreSQL's server.
const installPostgres = "sudo apt-get install postgresql"

// answers reports whether something accepts TCP connections at addr.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// serverBinaries finds initdb and pg_ctl: on PATH, else in the newest of
// Debian's /usr/lib/postgresql/<version>/bin, which is not on PATH.
func serverBinaries() (initdb, pgctl string, ok bool) {
	if i, err := exec.LookPath("initdb"); err == nil {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			return i, p, true
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(a, b int) bool { return pgVersion(dirs[a]) > pgVersion(dirs[b]) })
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl")
		if isExecutable(i) && isExecutable(p) {
			return i, p, true
		}
	}
	return "", "", false
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}

// throwawayPostgres starts (or restarts) a PostgreSQL cluster of the demo's
// own in dir, on a free port of 127.0.0.1, and returns its URL for database
// db. initdb and postgres refuse to run as root, so root runs them as the
// postgres user that Debian's package creates, and dir becomes its.
func throwawayPostgres(ctx context.Context, probed, dir, db string, out io.Writer) (string, error) {
	initdb, pgctl, ok := serverBinaries()
	if !ok {
		return "", fmt.Errorf("no PostgreSQL answers on %s and its server is not installed: %s (or set DATABASE_URL)",
			probed, installPostgres)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	asUser, err := clusterUser()
	if err != nil {
		return "", err
	}
	if asUser != nil && !reachable(filepath.Dir(dir), asUser) {
		// A clone in root's home, or under any folder the server's user
		// cannot enter: its cluster lives where that user can, one per
		// folder asked for, so the next demo finds it again.
		moved := filepath.Join(os.TempDir(), fmt.Sprintf("engage-etl-demo-postgres-%08x", crc32.ChecksumIEEE([]byte(dir))))
		fmt.Fprintf(out, "0. the PostgreSQL server runs as %s, who cannot enter %s: its folder is %s instead\n", asUser.Username, filepath.Dir(dir), moved)
		dir = moved
	}
	portFile := filepath.Join(dir, "demo-port")
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
		if err := chownTo(dir, asUser); err != nil {
			return "", err
		}
		if err := runAs(ctx, asUser, initdb, "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
			return "", fmt.Errorf("initdb in %s: %w", dir, err)
		}
	}
	port, how := "", "using the throwaway one"
	if b, err := os.ReadFile(portFile); err == nil && answers("127.0.0.1:"+strings.TrimSpace(string(b))) {
		port = strings.TrimSpace(string(b)) // still running from a previous demo
	} else {
		how = "started a throwaway one"
		if port, err = freePort(); err != nil {
			return "", err
		}
		opts := fmt.Sprintf("-p %s -c listen_addresses=127.0.0.1 -k %s -c fsync=off", port, dir)
		if err := runAs(ctx, asUser, pgctl, "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "start"); err != nil {
			return "", fmt.Errorf("starting PostgreSQL in %s: %w (see %s/server.log)", dir, err, dir)
		}
		// Written as root: it only tells the next demo the port.
		if err := os.WriteFile(portFile, []byte(port+"\n"), 0o644); err != nil {
			return "", err
		}
	}
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable", port, db)
	fmt.Fprintf(out, "0. no PostgreSQL on %s: %s in %s on port %s\n"+
		"   reach it: psql '%s'\n   stop it:  %s%s -D %s stop   (remove the folder to forget it)\n",
		probed, how, dir, port, url, runAsPrefix(asUser), pgctl, dir)
	return url, nil
}

// reachable reports whether u may enter dir: every folder from the root to
// it lets u search it (owner, group or others' x bit).
func reachable(dir string, u *user.User) bool {
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gids := map[uint32]bool{}
	if groups, err := u.GroupIds(); err == nil {
		for _, g := range groups {
			if id, err := strconv.ParseUint(g, 10, 32); err == nil {
				gids[uint32(id)] = true
			}
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return true // not a Unix stat: nothing to tell
		}
		mode := fi.Mode().Perm()
		switch {
		case st.Uid == uint32(uid):
			if mode&0o100 == 0 {
				return false
			}
		case gids[st.Gid]:
			if mode&0o010 == 0 {
				return false
			}
		case mode&0o001 == 0:
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// clusterUser is the user the server runs as: nobody else when not root,
// postgres when root.
func clusterUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, and PostgreSQL refuses to run as root: there is no postgres user to run it as; run make demo as another user")
	}
	return u, nil
}

func chownTo(dir string, u *user.User) error {
	if u == nil {
		return nil
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

func runAsPrefix(u *user.User) string {
	if u == nil {
		return ""
	}
	return "runuser -u " + u.Username + " -- "
}

// runAs runs a server program, as u when set, and returns its output with an error.
func runAs(ctx context.Context, u *user.User, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, prog, args...)
	if u != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", u.Username, "--", prog}, args...)...)
	}
	// pg_ctl's server keeps the output open; a file, not a pipe, so Run
	// does not wait for the server to exit.
	f, err := os.CreateTemp("", "engage-demo-pg-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(f.Name())
		return fmt.Errorf("%w\n%s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
