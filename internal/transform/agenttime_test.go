package transform

import (
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
)

func TestAgentTimeRows(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		loc     *time.Location
		in      engage.AgentTimes
		want    []AgentTimeRow
		wantErr string
	}{
		{
			name: "ranges keep their order, in UTC, dated by the local day of their start (not their end)",
			kind: "online", loc: vienna,
			in: engage.AgentTimes{UserID: "u1", SumMinutes: 999, TimeRanges: []engage.TimeRange{
				{Start: nextDay, End: nextDay.Add(time.Hour)},
				{Start: beforeDST, End: beforeDST.Add(90*time.Minute + 1500*time.Millisecond)},
				{Start: afterDST, End: afterDST.Add(time.Hour)},
			}},
			want: []AgentTimeRow{
				{UserID: "u1", Kind: "online", Start: utc("2026-10-25T23:30:00Z"), End: utc("2026-10-26T00:30:00Z"), Seconds: "3600", Date: day("2026-10-26")},
				{UserID: "u1", Kind: "online", Start: utc("2026-10-24T22:30:00Z"), End: utc("2026-10-25T00:00:01.5Z"), Seconds: "5401.5", Date: day("2026-10-25")},
				{UserID: "u1", Kind: "online", Start: utc("2026-10-25T22:30:00Z"), End: utc("2026-10-25T23:30:00Z"), Seconds: "3600", Date: day("2026-10-25")},
			},
		},
		{
			name: "a range across the DST change lasts its real length, not its wall-clock one",
			kind: "logged_in", loc: vienna,
			in: engage.AgentTimes{UserID: "u2", TimeRanges: []engage.TimeRange{
				{Start: mustTime("2026-10-25T01:30:00+02:00"), End: mustTime("2026-10-25T02:30:00+01:00")},
			}},
			want: []AgentTimeRow{
				{UserID: "u2", Kind: "logged_in", Start: utc("2026-10-24T23:30:00Z"), End: utc("2026-10-25T01:30:00Z"), Seconds: "7200", Date: day("2026-10-25")},
			},
		},
		{
			name: "seconds are truncated to the millisecond; an empty range is zero",
			kind: "online", loc: time.UTC,
			in: engage.AgentTimes{UserID: "u3", TimeRanges: []engage.TimeRange{
				{Start: beforeDST, End: beforeDST.Add(1999 * time.Microsecond)},
				{Start: beforeDST, End: beforeDST},
			}},
			want: []AgentTimeRow{
				{UserID: "u3", Kind: "online", Start: utc("2026-10-24T22:30:00Z"), End: utc("2026-10-24T22:30:00.001999Z"), Seconds: "0.001", Date: day("2026-10-24")},
				{UserID: "u3", Kind: "online", Start: utc("2026-10-24T22:30:00Z"), End: utc("2026-10-24T22:30:00Z"), Seconds: "0", Date: day("2026-10-24")},
			},
		},
		{
			name: "no ranges", kind: "online", loc: vienna,
			in:   engage.AgentTimes{UserID: "u4"},
			want: []AgentTimeRow{},
		},
		{name: "without userId", kind: "online", loc: vienna,
			in:      engage.AgentTimes{TimeRanges: []engage.TimeRange{{Start: beforeDST, End: afterDST}}},
			wantErr: "agent times entry without userId"},
		{name: "range without start", kind: "online", loc: vienna,
			in:      engage.AgentTimes{UserID: "u5", TimeRanges: []engage.TimeRange{{End: afterDST}}},
			wantErr: "agent u5: time range without start or end"},
		{name: "range without end", kind: "online", loc: vienna,
			in:      engage.AgentTimes{UserID: "u5", TimeRanges: []engage.TimeRange{{Start: beforeDST}}},
			wantErr: "agent u5: time range without start or end"},
		{name: "range ending before it starts, after a good one", kind: "online", loc: vienna,
			in: engage.AgentTimes{UserID: "u6", TimeRanges: []engage.TimeRange{
				{Start: beforeDST, End: afterDST},
				{Start: afterDST, End: afterDST.Add(-time.Second)},
			}},
			wantErr: "agent u6: time range ends (2026-10-25T17:29:59-05:00) before it starts (2026-10-25T17:30:00-05:00)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AgentTimeRows(tt.kind, tt.loc, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}
