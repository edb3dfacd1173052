package main

import (
	"context"
	"fmt"
	goruntime "runtime"
	"runtime/debug"
)

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "version\n\nPrints the module version and the commit the binary was built from.")
	if err := parse(fs, args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintf(e.stdout, "engage-etl %s\n%s %s/%s\n", describeBuild(bi), goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	return nil
}

// version is the module version the binary was built as: a tag, a
// pseudo-version derived from the commit, or "(devel)" for `go run`.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// userAgent names engage-etl and its version to the Engage API, so the
// vendor's logs tell an engage-etl request, and which release, at a glance.
func userAgent() string { return "engage-etl/" + version() }

// describeBuild is "VERSION (commit REV, TIME[, modified])"; the commit
// part is there only when the build recorded its version control state
// (go build in a checkout does; go run and go test do not).
func describeBuild(bi *debug.BuildInfo) string {
	if bi == nil {
		return "(unknown: no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	rev := vcs["vcs.revision"]
	if rev == "" {
		return v
	}
	out := v + " (commit " + rev
	if t := vcs["vcs.time"]; t != "" {
		out += ", " + t
	}
	if vcs["vcs.modified"] == "true" {
		out += ", modified"
	}
	return out + ")"
}
