package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestSimulateDialect(t *testing.T) {
	for _, bad := range []string{"v3", "", "V2"} {
		if r := cli(t, nil, "simulate", "--dialect", bad); r.code != exitUsage || !strings.Contains(r.stderr, "contract, v2") {
			t.Errorf("--dialect %q: exit %d, stderr %q; want 2 naming contract, v2", bad, r.code, r.stderr)
		}
	}
	for _, c := range []struct {
		dialect, path string
		want          int
	}{{"v2", "/users?page=1", 200}, {"v2", "/user", 404}, {"contract", "/user", 200}, {"contract", "/users", 404}} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut lockedBuffer
		done := make(chan int, 1)
		args := []string{"simulate", "--addr", "127.0.0.1:0", "--days", "2", "--dialect", c.dialect}
		if c.dialect == "contract" {
			args = args[:len(args)-2] // the default
		}
		go func() { done <- run(ctx, args, &out, &errOut, func(string) (string, bool) { return "", false }) }()
		addr := regexp.MustCompile(`http://(\S+)/rest/v1, dialect (\S+),`)
		var m []string
		for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			m = addr.FindStringSubmatch(out.String())
		}
		if m == nil || m[2] != c.dialect {
			cancel()
			t.Fatalf("simulate --dialect %s: no address or dialect in %q (stderr %q)", c.dialect, out.String(), errOut.String())
		}
		req, _ := http.NewRequest("GET", "http://"+m[1]+"/rest/v1"+c.path, nil)
		req.Header.Set("Authorization", "Bearer sim-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("--dialect %s GET %s: %d %s, want %d", c.dialect, c.path, resp.StatusCode, b, c.want)
		}
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("simulate exited %d: %s", code, errOut.String())
		}
	}
}
