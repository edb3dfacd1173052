package transform

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/google/go-cmp/cmp"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func decodeReport(t *testing.T, body string) engage.ReportResponse {
	t.Helper()
	var r engage.ReportResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportRows(t *testing.T) {
	tests := []struct {
		name, metric, groupBy, body string
		want                        []ReportRow
	}{
		{
			name: "grouped, sorted, values kept as text", metric: "ONLINE_TIME", groupBy: "AGENT",
			body: `{"results":{"2020/11/01":{"b@x.com":"205"},"2020/10/30":{"b@x.com":"411","a@x.com":"205.5"}}}`,
			want: []ReportRow{
				{day("2020-10-30"), "a@x.com", "205.5"},
				{day("2020-10-30"), "b@x.com", "411"},
				{day("2020-11-01"), "b@x.com", "205"},
			},
		},
		{
			name: "ungrouped key is the metric", metric: "CONVERSATIONS",
			body: `{"results":{"2020/10/30":{"CONVERSATIONS":"7"}}}`,
			want: []ReportRow{{day("2020-10-30"), "", "7"}},
		},
		{
			name: "numbers accepted as well as strings", metric: "CONVERSATIONS",
			body: `{"results":{"2020/10/30":{"CONVERSATIONS":7}}}`,
			want: []ReportRow{{day("2020-10-30"), "", "7"}},
		},
		{name: "empty answer", metric: "CONVERSATIONS", body: `{"results":{}}`},
	}
	for _, tt := range tests {
		got, err := ReportRows(tt.metric, tt.groupBy, day("2020-10-30"), day("2020-11-06"), decodeReport(t, tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: rows mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestReportRowsRejectsWhatItCannotPlace(t *testing.T) {
	tests := []struct{ name, groupBy, body, want string }{
		{"day outside window", "AGENT", `{"results":{"2020/11/06":{"a":"1"}}}`, "outside the requested days"},
		{"bad day key", "AGENT", `{"results":{"2020-11-01":{"a":"1"}}}`, "invalid date"},
		{"ungrouped other key", "", `{"results":{"2020/11/01":{"MESSAGES":"1"}}}`, "answered key"},
	}
	for _, tt := range tests {
		_, err := ReportRows("CONVERSATIONS", tt.groupBy, day("2020-10-30"), day("2020-11-06"), decodeReport(t, tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want error containing %q", tt.name, err, tt.want)
		}
	}
	for _, v := range []string{`"12 min"`, `"NaN"`, `"Inf"`, `"0x1p-2"`, `""`, `"1,5"`} {
		var r engage.ReportResponse
		if err := json.Unmarshal([]byte(`{"results":{"2020/11/01":{"a":`+v+`}}}`), &r); err == nil {
			t.Errorf("report value %s was accepted", v)
		}
	}
}

func TestAgentTimeRowsUsesLocalDayOfStart(t *testing.T) {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	start := time.Date(2026, 10, 24, 22, 30, 0, 0, time.UTC) // 00:30 on the 25th in Vienna
	e := engage.AgentTimes{UserID: "a@x.com", TimeRanges: []engage.TimeRange{
		{Start: start, End: start.Add(90*time.Minute + 1500*time.Millisecond)},
	}}
	got, err := AgentTimeRows("online", vienna, e)
	if err != nil {
		t.Fatal(err)
	}
	want := []AgentTimeRow{{UserID: "a@x.com", Kind: "online", Start: start, End: start.Add(90*time.Minute + 1500*time.Millisecond), Seconds: "5401.5", Date: day("2026-10-25")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
	e.TimeRanges[0].End = start.Add(-time.Second)
	if _, err := AgentTimeRows("online", vienna, e); err == nil {
		t.Error("a range ending before it starts was accepted")
	}
	if _, err := AgentTimeRows("online", vienna, engage.AgentTimes{}); err == nil {
		t.Error("an entry without userId was accepted")
	}
}
