package transform

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

func TestConversation(t *testing.T) {
	tests := []struct {
		name    string
		loc     *time.Location
		in      engage.Conversation
		want    ConversationRow
		wantErr string
	}{
		{
			name: "every field, in UTC, dated by the local day of the start",
			loc:  vienna,
			in: engage.Conversation{
				ConversationID: "c1", CustomerID: "cu1", TeamID: "t1", Channel: "WEBCHAT", Status: "DONE",
				Start: beforeDST, End: ptr(afterDST), UserIDs: []string{"u2", "u1"},
				MessageCount: 9, CustomerMessageCount: 4, AgentMessageCount: 5,
				FirstResponseTimeMs: ptr(int64(1200)), AvgResponseTimeMs: ptr(int64(3400)), DurationMs: 90000000,
			},
			want: ConversationRow{
				ID: "c1", CustomerID: "cu1", TeamID: "t1", Channel: "WEBCHAT", Status: "DONE",
				Start: utc("2026-10-24T22:30:00Z"), End: ptr(utc("2026-10-25T22:30:00Z")),
				UserIDs: []string{"u2", "u1"}, FirstAgent: "u2",
				MessageCount: 9, CustomerMessageCount: 4, AgentMessageCount: 5,
				FirstResponseMs: ptr(int64(1200)), AvgResponseMs: ptr(int64(3400)), DurationMs: 90000000,
				Date: day("2026-10-25"),
			},
		},
		{
			name: "open and unanswered, after the DST change",
			loc:  vienna,
			in:   engage.Conversation{ConversationID: "c2", Start: afterDST, Status: "UNREAD"},
			want: ConversationRow{ID: "c2", Status: "UNREAD", Start: utc("2026-10-25T22:30:00Z"), UserIDs: []string{}, Date: day("2026-10-25")},
		},
		{
			name: "local day after UTC's",
			loc:  vienna,
			in:   engage.Conversation{ConversationID: "c3", Start: nextDay, End: ptr(nextDay)},
			want: ConversationRow{ID: "c3", Start: utc("2026-10-25T23:30:00Z"), End: ptr(utc("2026-10-25T23:30:00Z")), UserIDs: []string{}, Date: day("2026-10-26")},
		},
		{
			name: "day in the tenant's zone, not the input's",
			loc:  time.UTC,
			in:   engage.Conversation{ConversationID: "c4", Start: nextDay},
			want: ConversationRow{ID: "c4", Start: utc("2026-10-25T23:30:00Z"), UserIDs: []string{}, Date: day("2026-10-25")},
		},
		{name: "without id", loc: vienna, in: engage.Conversation{Start: beforeDST}, wantErr: "conversation without id or start"},
		{name: "without start", loc: vienna, in: engage.Conversation{ConversationID: "c5"}, wantErr: "conversation without id or start"},
		{name: "ending before it starts", loc: vienna,
			in:      engage.Conversation{ConversationID: "c6", Start: afterDST, End: ptr(beforeDST)},
			wantErr: "conversation c6 ends before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Conversation(tt.loc, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestConversationAgent(t *testing.T) {
	tests := []struct {
		name    string
		in      engage.ConversationAgent
		want    ConversationAgentRow
		wantErr string
	}{
		{
			name: "every field",
			in:   engage.ConversationAgent{UserID: "u1", ConversationID: "c1", MessageCount: 3, FirstResponseTimeMs: ptr(int64(500)), AvgResponseTimeMs: ptr(int64(700))},
			want: ConversationAgentRow{ConversationID: "c1", UserID: "u1", MessageCount: 3, FirstResponseMs: ptr(int64(500)), AvgResponseMs: ptr(int64(700))},
		},
		{
			name: "no response times",
			in:   engage.ConversationAgent{UserID: "u2", ConversationID: "c2"},
			want: ConversationAgentRow{ConversationID: "c2", UserID: "u2"},
		},
		{name: "without conversationId", in: engage.ConversationAgent{UserID: "u1"}, wantErr: "chat agent row without conversationId or userId"},
		{name: "without userId", in: engage.ConversationAgent{ConversationID: "c1"}, wantErr: "chat agent row without conversationId or userId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConversationAgent(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestMessage(t *testing.T) {
	text := "Grüß Gott 👋 https://x.com"
	tests := []struct {
		name      string
		loc       *time.Location
		storeText bool
		in        engage.Message
		want      MessageRow
		wantErr   string
	}{
		{
			name: "every field, text stored",
			loc:  vienna, storeText: true,
			in: engage.Message{ID: "m1", ConversationID: "c1", CustomerID: "cu1", UserID: ptr("u1"), FromCustomer: false,
				Type: "TEXT", Message: text, URL: ptr("https://x.com"), Timestamp: beforeDST},
			want: MessageRow{ID: "m1", ConversationID: "c1", CustomerID: "cu1", UserID: ptr("u1"), Type: "TEXT",
				Text: ptr(text), TextLength: 25, HasURL: true, SentAt: utc("2026-10-24T22:30:00Z"), Date: day("2026-10-25")},
		},
		{
			name: "every field, text not stored but measured",
			loc:  vienna, storeText: false,
			in: engage.Message{ID: "m1", ConversationID: "c1", CustomerID: "cu1", UserID: ptr("u1"),
				Type: "TEXT", Message: text, URL: ptr("https://x.com"), Timestamp: beforeDST},
			want: MessageRow{ID: "m1", ConversationID: "c1", CustomerID: "cu1", UserID: ptr("u1"), Type: "TEXT",
				TextLength: 25, HasURL: true, SentAt: utc("2026-10-24T22:30:00Z"), Date: day("2026-10-25")},
		},
		{
			name: "from the customer, empty url, after the DST change",
			loc:  vienna, storeText: true,
			in: engage.Message{ID: "m2", ConversationID: "c2", CustomerID: "cu2", FromCustomer: true, Type: "TEXT", Message: "hi", URL: ptr(""), Timestamp: afterDST},
			want: MessageRow{ID: "m2", ConversationID: "c2", CustomerID: "cu2", FromCustomer: true, Type: "TEXT", Text: ptr("hi"), TextLength: 2,
				SentAt: utc("2026-10-25T22:30:00Z"), Date: day("2026-10-25")},
		},
		{
			name: "empty text is stored as empty, no url, local day after UTC's",
			loc:  vienna, storeText: true,
			in:   engage.Message{ID: "m3", Type: "FILE", Timestamp: nextDay},
			want: MessageRow{ID: "m3", Type: "FILE", Text: ptr(""), SentAt: utc("2026-10-25T23:30:00Z"), Date: day("2026-10-26")},
		},
		{name: "without id", loc: vienna, storeText: true, in: engage.Message{Timestamp: beforeDST}, wantErr: "message without id or timestamp"},
		{name: "without timestamp", loc: vienna, storeText: false, in: engage.Message{ID: "m4"}, wantErr: "message without id or timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Message(tt.loc, tt.storeText, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestVisit(t *testing.T) {
	tests := []struct {
		name    string
		loc     *time.Location
		in      engage.Visit
		want    VisitRow
		wantErr string
	}{
		{
			name: "every field, in UTC, dated by the local day of the start",
			loc:  vienna,
			in: engage.Visit{VisitID: "v1", SessionID: "s1", VisitorID: "vi1", URL: "https://x.com/a?b=1", Path: "/a",
				Start: beforeDST, End: beforeDST.Add(12500 * time.Millisecond), DurationSeconds: "12.5"},
			want: VisitRow{ID: "v1", SessionID: "s1", VisitorID: "vi1", URL: "https://x.com/a?b=1", Path: "/a",
				Start: utc("2026-10-24T22:30:00Z"), End: utc("2026-10-24T22:30:12.5Z"), Seconds: "12.5", Date: day("2026-10-25")},
		},
		{
			name: "across the DST change, duration kept as sent",
			loc:  vienna,
			in:   engage.Visit{VisitID: "v2", Start: afterDST, End: nextDay, DurationSeconds: "3600"},
			want: VisitRow{ID: "v2", Start: utc("2026-10-25T22:30:00Z"), End: utc("2026-10-25T23:30:00Z"), Seconds: "3600", Date: day("2026-10-25")},
		},
		{
			name: "local day after UTC's, zero length",
			loc:  vienna,
			in:   engage.Visit{VisitID: "v3", Start: nextDay, End: nextDay, DurationSeconds: "0"},
			want: VisitRow{ID: "v3", Start: utc("2026-10-25T23:30:00Z"), End: utc("2026-10-25T23:30:00Z"), Seconds: "0", Date: day("2026-10-26")},
		},
		{name: "without id", loc: vienna, in: engage.Visit{Start: beforeDST, End: afterDST}, wantErr: `visit "" without id, or ending before it starts`},
		{name: "without start", loc: vienna, in: engage.Visit{VisitID: "v4", End: afterDST}, wantErr: `visit "v4" without id, or ending before it starts`},
		{name: "without end", loc: vienna, in: engage.Visit{VisitID: "v5", Start: afterDST}, wantErr: `visit "v5" without id, or ending before it starts`},
		{name: "ending before it starts", loc: vienna, in: engage.Visit{VisitID: "v6", Start: afterDST, End: beforeDST}, wantErr: `visit "v6" without id, or ending before it starts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Visit(tt.loc, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestCobrowse(t *testing.T) {
	tests := []struct {
		name    string
		loc     *time.Location
		in      engage.CobrowseSession
		want    CobrowseRow
		wantErr string
	}{
		{
			name: "every field, in UTC, dated by the local day of the start",
			loc:  vienna,
			in:   engage.CobrowseSession{SessionID: "s1", UserID: "u1", CustomerID: "cu1", Start: beforeDST, End: afterDST, DurationSeconds: "86400.25"},
			want: CobrowseRow{SessionID: "s1", UserID: "u1", CustomerID: "cu1", Start: utc("2026-10-24T22:30:00Z"), End: utc("2026-10-25T22:30:00Z"),
				Seconds: "86400.25", Date: day("2026-10-25")},
		},
		{
			name: "local day after UTC's",
			loc:  vienna,
			in:   engage.CobrowseSession{SessionID: "s2", Start: nextDay, End: nextDay.Add(time.Minute), DurationSeconds: "60"},
			want: CobrowseRow{SessionID: "s2", Start: utc("2026-10-25T23:30:00Z"), End: utc("2026-10-25T23:31:00Z"), Seconds: "60", Date: day("2026-10-26")},
		},
		{
			name: "day in the tenant's zone, not the input's",
			loc:  time.UTC,
			in:   engage.CobrowseSession{SessionID: "s3", Start: nextDay, End: nextDay, DurationSeconds: "0"},
			want: CobrowseRow{SessionID: "s3", Start: utc("2026-10-25T23:30:00Z"), End: utc("2026-10-25T23:30:00Z"), Seconds: "0", Date: day("2026-10-25")},
		},
		{name: "without id", loc: vienna, in: engage.CobrowseSession{Start: beforeDST, End: afterDST}, wantErr: `co-browse session "" without id, or ending before it starts`},
		{name: "without start", loc: vienna, in: engage.CobrowseSession{SessionID: "s4", End: afterDST}, wantErr: `co-browse session "s4" without id`},
		{name: "without end", loc: vienna, in: engage.CobrowseSession{SessionID: "s5", Start: afterDST}, wantErr: `co-browse session "s5" without id`},
		{name: "ending before it starts", loc: vienna, in: engage.CobrowseSession{SessionID: "s6", Start: afterDST, End: beforeDST}, wantErr: `co-browse session "s6" without id, or ending before it starts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Cobrowse(tt.loc, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestRealtime(t *testing.T) {
	tests := []struct {
		name string
		in   engage.RealtimeResponse
		want []RealtimeRow
	}{
		{
			name: "sorted by metric, values kept as text",
			in:   engage.RealtimeResponse{Results: map[string]decode.Decimal{"WAITING": "3", "AGENTS_ONLINE": "12", "AVG_WAIT": "4.50"}},
			want: []RealtimeRow{{"AGENTS_ONLINE", "12"}, {"AVG_WAIT", "4.50"}, {"WAITING", "3"}},
		},
		{name: "empty answer", in: engage.RealtimeResponse{Results: map[string]decode.Decimal{}}, want: []RealtimeRow{}},
		{name: "no results", in: engage.RealtimeResponse{}, want: []RealtimeRow{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Realtime(tt.in), nil, tt.want, "")
		})
	}
}

func TestActivity(t *testing.T) {
	tests := []struct {
		name    string
		log     string
		loc     *time.Location
		in      engage.ActivityEvent
		want    ActivityRow
		wantErr string
	}{
		{
			name: "every field; data.customerId names the customer; data kept as sent",
			log:  "chat", loc: vienna,
			in: engage.ActivityEvent{ID: "e1", Type: "CHAT_ASSIGNED", UserID: ptr("u1"), Timestamp: beforeDST,
				Data: json.RawMessage(`{ "customerId": "cu1", "n": 1 }`)},
			want: ActivityRow{ID: "e1", Log: "chat", Type: "CHAT_ASSIGNED", UserID: ptr("u1"), CustomerID: ptr("cu1"),
				At: utc("2026-10-24T22:30:00Z"), Date: day("2026-10-25"), Data: []byte(`{ "customerId": "cu1", "n": 1 }`)},
		},
		{
			name: "no customerId, after the DST change",
			log:  "user", loc: vienna,
			in:   engage.ActivityEvent{ID: "e2", Type: "LOGIN", Timestamp: afterDST, Data: json.RawMessage(`{"ip":"10.0.0.1"}`)},
			want: ActivityRow{ID: "e2", Log: "user", Type: "LOGIN", At: utc("2026-10-25T22:30:00Z"), Date: day("2026-10-25"), Data: []byte(`{"ip":"10.0.0.1"}`)},
		},
		{
			name: "empty or non-string customerId names nobody",
			log:  "chat", loc: vienna,
			in:   engage.ActivityEvent{ID: "e3", Timestamp: nextDay, Data: json.RawMessage(`{"customerId":""}`)},
			want: ActivityRow{ID: "e3", Log: "chat", At: utc("2026-10-25T23:30:00Z"), Date: day("2026-10-26"), Data: []byte(`{"customerId":""}`)},
		},
		{
			name: "numeric customerId names nobody",
			log:  "chat", loc: vienna,
			in:   engage.ActivityEvent{ID: "e4", Timestamp: nextDay, Data: json.RawMessage(`{"customerId":42}`)},
			want: ActivityRow{ID: "e4", Log: "chat", At: utc("2026-10-25T23:30:00Z"), Date: day("2026-10-26"), Data: []byte(`{"customerId":42}`)},
		},
		{
			name: "missing data becomes an empty object",
			log:  "chat", loc: time.UTC,
			in:   engage.ActivityEvent{ID: "e5", Timestamp: nextDay},
			want: ActivityRow{ID: "e5", Log: "chat", At: utc("2026-10-25T23:30:00Z"), Date: day("2026-10-25"), Data: []byte(`{}`)},
		},
		{
			name: "null data becomes an empty object",
			log:  "chat", loc: vienna,
			in:   engage.ActivityEvent{ID: "e6", Timestamp: beforeDST, Data: json.RawMessage(`null`)},
			want: ActivityRow{ID: "e6", Log: "chat", At: utc("2026-10-24T22:30:00Z"), Date: day("2026-10-25"), Data: []byte(`{}`)},
		},
		{name: "data is an array", log: "chat", loc: vienna,
			in:      engage.ActivityEvent{ID: "e7", Timestamp: beforeDST, Data: json.RawMessage(`[{"customerId":"cu1"}]`)},
			wantErr: "event e7: data is not an object"},
		{name: "data is a string", log: "chat", loc: vienna,
			in:      engage.ActivityEvent{ID: "e8", Timestamp: beforeDST, Data: json.RawMessage(`"cu1"`)},
			wantErr: "event e8: data is not an object"},
		{name: "data is not JSON", log: "chat", loc: vienna,
			in:      engage.ActivityEvent{ID: "e9", Timestamp: beforeDST, Data: json.RawMessage(`{`)},
			wantErr: "event e9: data is not an object"},
		{name: "an empty id is no natural key (found by pipeline's FuzzDecode)", log: "chat", loc: vienna,
			in:      engage.ActivityEvent{ID: "", Timestamp: beforeDST},
			wantErr: "chat activity event without id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Activity(tt.log, tt.loc, tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}
