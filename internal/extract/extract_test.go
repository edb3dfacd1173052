package extract

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/google/go-cmp/cmp"
)

func mustDate(t *testing.T, s string) civil.Date {
	t.Helper()
	d, err := civil.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPlanFollowsLocalMidnightsAcrossDST(t *testing.T) {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	ws := Plan(mustDate(t, "2026-10-23"), mustDate(t, "2026-10-28"), 2, vienna)
	if len(ws) != 3 {
		t.Fatalf("got %d windows, want 3", len(ws))
	}
	// 25 Oct 00:00 CEST (+02) to 27 Oct 00:00 CET (+01): 49 hours.
	w := ws[1]
	if got, want := w.Start, time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("window 2 starts %v, want %v", got, want)
	}
	if got := w.End.Sub(w.Start); got != 49*time.Hour {
		t.Errorf("window over the DST change lasts %v, want 49h", got)
	}
	if last := ws[2]; last.From != mustDate(t, "2026-10-27") || last.To != mustDate(t, "2026-10-28") {
		t.Errorf("last window is %v..%v, want a 1-day remainder", last.From, last.To)
	}
	for i := 1; i < len(ws); i++ {
		if !ws[i].Start.Equal(ws[i-1].End) {
			t.Errorf("gap or overlap between windows %d and %d", i-1, i)
		}
	}
}

func TestSyncRange(t *testing.T) {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	now := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	start := mustDate(t, "2026-10-01")
	tests := []struct {
		name     string
		cursor   time.Time
		lookback time.Duration
		from, to string
	}{
		{"no cursor starts at the start date", time.Time{}, 48 * time.Hour, "2026-10-01", "2026-11-06"},
		{"cursor minus whole lookback days", time.Date(2026, 11, 4, 23, 30, 0, 0, time.UTC), 48 * time.Hour, "2026-11-03", "2026-11-06"},
		{"partial days round up", time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC), 36 * time.Hour, "2026-11-03", "2026-11-06"},
		{"zero lookback re-reads the cursor's day", time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC), 0, "2026-11-05", "2026-11-06"},
	}
	for _, tt := range tests {
		from, to := SyncRange(tt.cursor, start, tt.lookback, now, vienna)
		if from.String() != tt.from || to.String() != tt.to {
			t.Errorf("%s: got %v..%v, want %s..%s", tt.name, from, to, tt.from, tt.to)
		}
	}
}

func TestRenderBody(t *testing.T) {
	ms := func(from, to int64) Window { return Window{Start: time.UnixMilli(from), End: time.UnixMilli(to)} }
	report := catalog.Stream{Metric: "ONLINE_TIME", GroupBy: "AGENT", Body: catalog.ReportBody}
	ungrouped := catalog.Stream{Metric: "CONVERSATIONS", Body: catalog.ReportBody}
	bare := catalog.Stream{Body: catalog.DateFilterBody}
	vienna, _ := time.LoadLocation("Europe/Vienna")
	days := Plan(civil.Date{Year: 2026, Month: 10, Day: 25}, civil.Date{Year: 2026, Month: 10, Day: 26}, 1, vienna)[0]
	dialect := func(body, encoding string) *catalog.Dialect {
		d := catalog.Contract()
		d.DateFilter = catalog.DateFilter{Body: body, Encoding: encoding}
		return &d
	}
	v2 := `{"period":"CUSTOM","fromDate":"$from","toDate":"$to"}`
	tests := []struct {
		name    string
		stream  catalog.Stream
		dialect *catalog.Dialect
		window  Window
		want    string
	}{
		{"grouped report", report, nil, ms(1700000000000, 1700086400000),
			`{"dateFilter":{"from":1700000000000,"grouping":"CUSTOM","to":1700086400000},"metrics":[{"groupBy":"AGENT","metricName":"ONLINE_TIME"}]}`},
		{"ungrouped report drops groupBy", ungrouped, nil, ms(1, 2),
			`{"dateFilter":{"from":1,"grouping":"CUSTOM","to":2},"metrics":[{"metricName":"CONVERSATIONS"}]}`},
		{"bare date filter", bare, nil, ms(1700000000000, 1700086400000),
			`{"from":1700000000000,"grouping":"CUSTOM","to":1700086400000}`},
		{"local dates, to exclusive", report, dialect(v2, "date"), days,
			`{"dateFilter":{"period":"CUSTOM","fromDate":"2026-10-25","toDate":"2026-10-26"},"metrics":[{"groupBy":"AGENT","metricName":"ONLINE_TIME"}]}`},
		{"epoch seconds", bare, dialect(v2, "epoch_s"), ms(1700000000000, 1700086400000),
			`{"period":"CUSTOM","fromDate":1700000000,"toDate":1700086400}`},
		{"date-times with the tenant's offset across DST", bare, dialect(v2, "datetime"), days,
			`{"period":"CUSTOM","fromDate":"2026-10-25T00:00:00+02:00","toDate":"2026-10-26T00:00:00+01:00"}`},
	}
	for _, tt := range tests {
		req, err := Request(API{Dialect: tt.dialect, Location: vienna}, catalog.Stream{Method: "POST", Path: "/x", Body: tt.stream.Body,
			Metric: tt.stream.Metric, GroupBy: tt.stream.GroupBy}, tt.window)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var g, w any
		json.Unmarshal(req.Body, &g)
		json.Unmarshal([]byte(tt.want), &w)
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s: body mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := RenderBody("{not json", Vars{}); err == nil {
		t.Error("a broken template was accepted")
	}
}
