// Package testtool finds the outside programs some tests drive (chromium,
// promtool, systemd-analyze, docker-compose). Where one is missing a test
// skips on a development machine, but fails under CI=true: CI must never
// pass by checking nothing, and .ci/run installs every one of them. Under
// go test -short (make test-short) such tests skip: make test runs them.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of program, or ends the test: a skip on a
// development machine, a failure under CI=true. install is the command
// that provides it, for the message.
func Need(t testing.TB, program, install string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("drives %s: make test runs it, make test-short does not", program)
	}
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI must run this test: %s (.ci/run does)", program, install)
	}
	t.Skipf("%s is not installed: %s", program, install)
	return ""
}
