package main

import (
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/pipeline"
)

func TestProgressLine(t *testing.T) {
	got := progressLine(pipeline.Progress{WindowsTotal: 120, WindowsDone: 44, WindowsFail: 1, Rows: 3210, Skipped: 6}, 3*time.Second)
	for _, want := range []string{"45/120 windows", "3210 rows", "15.0 windows/s", "ETA 5s", "1 failed", "6 done before"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if bar := got[1:strings.Index(got, "]")]; len(bar) != 24 || !strings.HasPrefix(bar, "=========>") {
		t.Errorf("bar %q", bar)
	}
	if got := progressLine(pipeline.Progress{}, 0); !strings.Contains(got, "ETA ?") {
		t.Errorf("no progress yet: %q", got)
	}
}
