package transform

import (
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
)

func TestConversationEvent(t *testing.T) {
	received := mustTime("2026-10-26T09:00:00+01:00") // 08:00 UTC, the 26th everywhere
	tests := []struct {
		name     string
		loc      *time.Location
		received time.Time
		in       engage.ConversationEvent
		want     StatusRow
		wantErr  string
	}{
		{
			name: "with a last message: its conversation and time, in UTC, dated locally",
			loc:  vienna, received: received,
			in: engage.ConversationEvent{CustomerID: "cu1", Status: "UNREAD", URL: "https://x.com",
				LastMessage: &engage.Message{ID: "m1", ConversationID: "c1", Timestamp: beforeDST}},
			want: StatusRow{ConversationID: "c1", CustomerID: "cu1", Status: "UNREAD", At: utc("2026-10-24T22:30:00Z"), Date: day("2026-10-25")},
		},
		{
			name: "last message after the DST change",
			loc:  vienna, received: received,
			in:   engage.ConversationEvent{CustomerID: "cu1", Status: "UNRESOLVED", LastMessage: &engage.Message{ConversationID: "c1", Timestamp: afterDST}},
			want: StatusRow{ConversationID: "c1", CustomerID: "cu1", Status: "UNRESOLVED", At: utc("2026-10-25T22:30:00Z"), Date: day("2026-10-25")},
		},
		{
			name: "last message without a time: when it arrived",
			loc:  vienna, received: received,
			in:   engage.ConversationEvent{CustomerID: "cu2", Status: "DONE", LastMessage: &engage.Message{ConversationID: "c2"}},
			want: StatusRow{ConversationID: "c2", CustomerID: "cu2", Status: "DONE", At: utc("2026-10-26T08:00:00Z"), Date: day("2026-10-26")},
		},
		{
			name: "no last message: no conversation, when it arrived, dated locally",
			loc:  vienna, received: nextDay,
			in:   engage.ConversationEvent{CustomerID: "cu3", Status: "DONE"},
			want: StatusRow{CustomerID: "cu3", Status: "DONE", At: utc("2026-10-25T23:30:00Z"), Date: day("2026-10-26")},
		},
		{
			name: "day in the tenant's zone, not the input's",
			loc:  time.UTC, received: received,
			in:   engage.ConversationEvent{CustomerID: "cu4", Status: "UNREAD", LastMessage: &engage.Message{ConversationID: "c4", Timestamp: beforeDST}},
			want: StatusRow{ConversationID: "c4", CustomerID: "cu4", Status: "UNREAD", At: utc("2026-10-24T22:30:00Z"), Date: day("2026-10-24")},
		},
		{name: "unknown status", loc: vienna, received: received,
			in: engage.ConversationEvent{CustomerID: "cu1", Status: "OPEN"}, wantErr: `status "OPEN" is not UNREAD, UNRESOLVED or DONE`},
		{name: "status in lower case", loc: vienna, received: received,
			in: engage.ConversationEvent{CustomerID: "cu1", Status: "done"}, wantErr: `status "done" is not`},
		{name: "without status", loc: vienna, received: received,
			in: engage.ConversationEvent{CustomerID: "cu1"}, wantErr: `status "" is not`},
		{name: "without customerId", loc: vienna, received: received,
			in: engage.ConversationEvent{Status: "DONE", LastMessage: &engage.Message{ConversationID: "c1", Timestamp: beforeDST}}, wantErr: "webhook without customerId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConversationEvent(tt.loc, tt.received, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}
