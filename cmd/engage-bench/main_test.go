package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

func TestReplaceDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable": "postgres://postgres@127.0.0.1:5432/engage_bench_full?sslmode=disable",
		"postgres://u:p@db":              "postgres://u:p@db/engage_bench_full",
		"postgresql://u@h:1/x/y?a=b&c=d": "postgresql://u@h:1/engage_bench_full?a=b&c=d",
	} {
		if got := replaceDatabase(in, "engage_bench_full"); got != want {
			t.Errorf("replaceDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrittenByStream(t *testing.T) {
	table := `TENANT  STREAM         STATUS  WINDOWS          ROWS  WRITTEN  CURSOR
bench   conversations  ok      30/30            900   0        -
bench   messages       ok      3/3 (+27 done)   120   7        2026-11-25T12:00:00Z
bench   users          failed  0/1              0     0        -
`
	if got, want := (&bench{}).writtenByStream(table), []string{"messages 7"}; !reflect.DeepEqual(got, want) {
		t.Errorf("writtenByStream = %v, want %v", got, want)
	}
}

func TestLoadedRowsLeavesOutSeededTables(t *testing.T) {
	base := map[string]int64{"dim_date": 22282, "dim_agent": 1, "fact_message": 0}
	after := map[string]int64{"dim_date": 22282, "dim_agent": 9, "fact_message": 100}
	if got := loadedRows(after, base); got != 109 {
		t.Errorf("loadedRows = %d, want 109", got)
	}
}

func TestMedianIndex(t *testing.T) {
	for _, c := range []struct {
		walls []time.Duration
		want  int
	}{
		{[]time.Duration{5}, 0},
		{[]time.Duration{9, 3, 5}, 2},
		{[]time.Duration{3, 9, 5}, 2},
		{[]time.Duration{5, 3}, 0}, // of two, the slower
		{[]time.Duration{4, 1, 3, 2}, 2},
	} {
		if got := medianIndex(c.walls, itself); got != c.want {
			t.Errorf("medianIndex(%v) = %d, want %d", c.walls, got, c.want)
		}
	}
	s := spreadOf([]time.Duration{9 * time.Second, 3 * time.Second, 5 * time.Second}, itself)
	if s.med != 5*time.Second || s.lo != 3*time.Second || s.hi != 9*time.Second || s.n != 3 {
		t.Errorf("spreadOf = %+v", s)
	}
	if got, want := s.cell(), "5.00 s (3.00–9.00 s)"; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
	if got, want := s.rateCell(900), "180 (100–300)"; got != want {
		t.Errorf("rateCell = %q, want %q", got, want)
	}
	if got, want := spreadOf([]time.Duration{2 * time.Second}, itself).cell(), "2.00 s"; got != want {
		t.Errorf("cell of one run = %q, want %q", got, want)
	}
}

func TestRouteGroupsFromTheCatalog(t *testing.T) {
	routes := routeGroups(catalog.All())
	for route, want := range map[string]string{
		"POST /report/agent":              "reports",
		"POST /report/session/metrics":    "reports",
		"POST /report/chat/conversations": "details", // the messages stream's conversation list too
		"POST /report/chat/agents":        "details",
		"POST /report/agent/times/online": "details",
		"POST /report/visit/table":        "details",
		"POST /report/cobrowse/table":     "details",
		"GET /report/chat/messages":       "messages",
		"GET /activity/call":              "activity",
		"GET /user":                       "lists",
		"GET /team":                       "lists", // the catalog's path has a query
		"GET /rule":                       "lists",
		"POST /report/realtime":           "realtime",
	} {
		if got := routes[route]; got != want {
			t.Errorf("routeGroups[%q] = %q, want %q", route, got, want)
		}
	}
}

func TestRequestCount(t *testing.T) {
	before := map[string]int{"GET /user": 2, "POST /report/agent": 10}
	after := map[string]int{"GET /user": 4, "POST /report/agent": 62, "POST /report/chat/conversations": 730,
		"GET /report/chat/messages": 20000, "GET /activity/status": 400, "GET /nowhere": 1}
	c := newRequestCount(catalog.All(), before, after, 365)
	want := map[string]int{"reports": 52, "details": 730, "messages": 20000, "activity": 400, "lists": 2, "other": 1}
	if !reflect.DeepEqual(c.byGroup, want) {
		t.Errorf("byGroup = %v, want %v", c.byGroup, want)
	}
	if got, want := c.groups, []string{"reports", "details", "messages", "activity", "lists", "realtime", "other"}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
	if c.total() != 21185 {
		t.Errorf("total = %d", c.total())
	}
	measured, result := c.yearTarget()
	if measured != "1,185 requests in 365 days (4 min at 5 requests/s)" || result != "PASS" {
		t.Errorf("yearTarget = %q, %q", measured, result)
	}
	if _, result := newRequestCount(catalog.All(), before, after, 5).yearTarget(); result == "PASS" || result == "MISS" {
		t.Errorf("5 days judged against a year's target: %q", result)
	}
	if got, want := describe([]string{"GET /customer", "GET /role", "POST /report/x"}), "GET /customer, /role, POST /report/x"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
}

func TestHoursMinutesAndThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0 s", 150: "30 s", 300: "1 min", 1500: "5 min", 18000: "1 h 00 min", 20000: "1 h 07 min", 1000000: "55 h 33 min"} {
		if got := at5(n); got != want {
			t.Errorf("at5(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1500: "1,500", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
