package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// execMain runs engage-etl as a child process (the test binary acting as the
// command, see TestMain) with the given environment added, and waits for it.
func execMain(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return execMainWithin(t, 2*time.Minute, env, args...)
}

// execMainWithin is execMain killing the child after timeout (exit -1).
func execMainWithin(t *testing.T, timeout time.Duration, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := mainCommand(t, ctx, env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("engage-etl %v: %v", args, err)
	}
	return result{code, out.String(), errOut.String()}
}

// mainCommand is engage-etl as a child process, not yet started. The
// environment has no DATABASE_URL or ENGAGE_* variable but those in env.
// A test that runs one is left to `make test`: `make test-short` (go test
// -short) skips it.
func mainCommand(t testing.TB, ctx context.Context, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("runs engage-etl as a child process: make test runs it, make test-short does not")
	}
	cmd := exec.CommandContext(ctx, os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "ENGAGE_") || strings.HasPrefix(kv, "ENGAGE_ETL_TEST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0", "ENGAGE_ETL_TEST_RUN_MAIN="+strings.Join(args, "\x1f"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}
