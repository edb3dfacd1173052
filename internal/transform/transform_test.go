package transform

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Vienna without relying on the host's zoneinfo

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/google/go-cmp/cmp"
)

// Instants used across the tests, written in a zone that is neither UTC nor
// the tenant's (Europe/Vienna), so a row that keeps the input's zone, or
// takes its day from UTC or from the input's zone, shows up. Vienna leaves
// summer time (+02:00) for winter time (+01:00) at 2026-10-25 03:00 local.
var (
	vienna = mustLoad("Europe/Vienna")

	// 2026-10-24 22:30 UTC: 00:30 on the 25th in Vienna (summer time).
	beforeDST = mustTime("2026-10-24T17:30:00-05:00")
	// 2026-10-25 22:30 UTC: 23:30 on the 25th in Vienna (winter time).
	afterDST = mustTime("2026-10-25T17:30:00-05:00")
	// 2026-10-25 23:30 UTC: 00:30 on the 26th in Vienna (winter time).
	nextDay = mustTime("2026-10-25T18:30:00-05:00")
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// utc is the instant s in UTC, the zone every row's times must be in.
func utc(s string) time.Time { return mustTime(s).UTC() }

func ptr[T any](v T) *T { return &v }

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// cmpOpts makes times equal only when they are the same instant in the same
// zone: cmp would otherwise use time.Time.Equal and miss a row left in the
// input's zone.
var cmpOpts = cmp.Options{cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.Location() == b.Location()
})}

// check asserts one table case: an error containing wantErr when it is set,
// else no error and got equal to want.
func check[T any](t *testing.T, got T, err error, want T, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want one containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
