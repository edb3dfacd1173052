package main

import (
	"reflect"
	"testing"
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
