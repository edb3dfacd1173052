package transform

import (
	"encoding/json"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

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
		wantErr                     string
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
			name: "first and last day of the window", metric: "CONVERSATIONS", groupBy: "TEAM",
			body: `{"results":{"2020/11/05":{"t1":"2"},"2020/10/30":{"t1":"1"}}}`,
			want: []ReportRow{{day("2020-10-30"), "t1", "1"}, {day("2020-11-05"), "t1", "2"}},
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
		{name: "day after the window", metric: "CONVERSATIONS", groupBy: "AGENT",
			body: `{"results":{"2020/11/06":{"a":"1"}}}`, wantErr: "outside the requested days 2020-10-30..2020-11-05"},
		{name: "day before the window", metric: "CONVERSATIONS", groupBy: "AGENT",
			body: `{"results":{"2020/10/29":{"a":"1"}}}`, wantErr: "outside the requested days"},
		{name: "bad day key", metric: "CONVERSATIONS", groupBy: "AGENT",
			body: `{"results":{"2020-11-01":{"a":"1"}}}`, wantErr: "report day key"},
		{name: "ungrouped other key", metric: "CONVERSATIONS",
			body: `{"results":{"2020/11/01":{"MESSAGES":"1"}}}`, wantErr: `answered key "MESSAGES"`},
		{name: "empty group", metric: "CONVERSATIONS", groupBy: "AGENT",
			body: `{"results":{"2020/11/01":{"":"1"}}}`, wantErr: "empty AGENT group on 2020-11-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReportRows(tt.metric, tt.groupBy, day("2020-10-30"), day("2020-11-06"), decodeReport(t, tt.body))
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// TestReportRowsRejectsWhatItCannotPlace: a value that is not a plain decimal
// never reaches ReportRows, since decoding the answer refuses it. (The days and
// keys ReportRows itself refuses are the error cases of TestReportRows.)
func TestReportRowsRejectsWhatItCannotPlace(t *testing.T) {
	for _, v := range []string{`"12 min"`, `"NaN"`, `"Inf"`, `"0x1p-2"`, `""`, `"1,5"`} {
		var r engage.ReportResponse
		if err := json.Unmarshal([]byte(`{"results":{"2020/11/01":{"a":`+v+`}}}`), &r); err == nil {
			t.Errorf("report value %s was accepted", v)
		}
	}
}
