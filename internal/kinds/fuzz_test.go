package kinds

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// fuzzStreams are the answers FuzzDecode reads, by index: a stream of each
// catalog.Kind (decoded by decode, or decodeMessages for messages) and the
// webhook.
var fuzzStreams = []string{
	"agent_online_time_by_agent", "chat_conversations", "realtime", "activity_livechat",
	"agent_times_online", "conversations", "conversation_agents", "visits", "cobrowse_sessions",
	"rules", "users", "teams", "roles", "customers", "messages", "opening_hours", "sla_rules", "webhook",
}

func TestFuzzDecodeCoversEveryKind(t *testing.T) {
	covered := map[catalog.Kind]bool{}
	for _, name := range fuzzStreams {
		if name != "webhook" {
			covered[testSource(t, name).Stream.Kind] = true
		}
	}
	for _, s := range catalog.All() {
		if !covered[s.Kind] {
			t.Errorf("no stream of kind %s in fuzzStreams", s.Kind)
		}
	}
}

// FuzzDecode: whatever an answer holds, decoding it never panics, and
// returns an error or rows. Rows have their natural key, strings and lists
// within their bounds, ranges that do not end before they start, report
// rows on the window's days with bounded decimal values, and activity
// events from the window's start, each once.
func FuzzDecode(f *testing.F) {
	for i, body := range []string{
		`{"results":{"2020/10/30":{"a@x.com":"205","b":"1.5"}}}`,
		`{"results":{"2020/10/31":{"CONVERSATIONS":7}}}`,
		`{"results":{"CURRENT_CHATS":"3"}}`,
		`[{"content":[{"id":"e1","type":"x","userId":"u","timestamp":"2020-10-31T10:00:00Z","data":{"customerId":"c"}}]},{"content":[{"id":"e1","timestamp":1604138400000}]}]`,
		`[{"userId":"a","timeRanges":[{"start":"2020-10-31T23:00:00.794Z","end":"2020-10-31T23:10:00Z"}],"sumMinutes":10}]`,
		`[{"conversationId":"c1","start":1604138400000,"end":"2020-10-31T11:00:00Z","userIds":["a",7],"messageCount":"3","durationMs":60}]`,
		`[{"conversationId":"c1","userId":"u","messageCount":2,"firstResponseTimeMs":100}]`,
		`[{"visitId":"v","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:01:00Z","url":"https://x","durationSeconds":"60.5"}]`,
		`[{"sessionId":"s","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:00:00Z","durationSeconds":0}]`,
		`[{"id":"r","name":"Rule","active":"true","types":["CHAT"]}]`,
		`[{"results":[{"id":"u1","email":"A@X.com","displayName":"A"}]},{"results":[]}]`,
		`[{"results":[{"id":"t1","name":"T","members":["u1","u2"],"tags":[]}]}]`,
		`[{"results":[{"id":1,"name":"Admin"}]}]`,
		`[{"results":[{"id":"c","email":"c@x","firstName":"C","assignedUser":null}]}]`,
		`[{"id":"m1","conversationId":"c1","fromCustomer":true,"message":"hi https://x","timestamp":"2020-10-31T10:00:00Z"}]`,
		`[{"id":"h","name":"Office","timezoneOffset":1,"conditions":[{"dayOfWeek":"MONDAY","from":"08:00","to":"18:00"}],"holidays":[{"date":"2020-12-25","name":"X"}]}]`,
		`[{"id":"s","name":"Live","active":true,"conditions":[{"type":"CHANNEL","value":"CHAT"}],"trigger":{"firstResponseTime":120,"responseTime":"300"}}]`,
		`{"id":"m1","conversationId":"c1","fromCustomer":false,"userId":"u","message":"hello","timestamp":"2020-10-31T10:00:00Z"}`,
	} {
		f.Add(uint8(i), body)
	}
	f.Add(uint8(17), `{"customerId":"c","status":"CLOSED","lastMessage":{"text":"bye"}}`)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		name := fuzzStreams[int(which)%len(fuzzStreams)]
		var src Source
		if name == "webhook" {
			src = testSource(t, "messages")
			b, err := Webhook(src, src.Window.Start, []byte(body))
			if err == nil && b == nil {
				t.Fatal("Webhook returned neither a batch nor an error")
			}
			return
		}
		src = testSource(t, name)
		d, err := Decode(src, []byte(body))
		if err == nil && d.Batch == nil {
			t.Fatal("Decode returned neither a batch nor an error")
		}
		if err != nil {
			if len(err.Error()) > 4*catalog.MaxTextLen {
				t.Fatalf("an error of %d bytes", len(err.Error()))
			}
			return
		}
		rows := reflect.ValueOf(d.Out)
		if d.Out == nil {
			rows = reflect.ValueOf([]struct{}{})
		}
		if rows.Len() != d.Rows {
			t.Fatalf("%d rows counted, %d made", d.Rows, rows.Len())
		}
		seen := map[string]bool{}
		for i := range rows.Len() {
			checkRow(t, src, rows.Index(i).Interface(), seen)
		}
	})
}

// checkRow checks what every row of an accepted answer satisfies.
func checkRow(t *testing.T, src Source, row any, seen map[string]bool) {
	t.Helper()
	v := reflect.ValueOf(row)
	key := ""
	for _, name := range []string{"ID", "SessionID", "ConversationID", "UserID", "Metric"} {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			key = f.String()
			if key == "" {
				t.Fatalf("a %T without its %s: %+v", row, name, row)
			}
			break
		}
	}
	for i := range v.NumField() {
		f := v.Field(i)
		switch x := f.Interface().(type) {
		case string:
			if len(x) > catalog.MaxTextLen {
				t.Fatalf("%T.%s of %d bytes", row, v.Type().Field(i).Name, len(x))
			}
		case []string:
			if len(x) > catalog.MaxListLen {
				t.Fatalf("%T.%s of %d strings", row, v.Type().Field(i).Name, len(x))
			}
			for _, s := range x {
				if len(s) > catalog.MaxStringLen {
					t.Fatalf("%T.%s holds a string of %d bytes", row, v.Type().Field(i).Name, len(s))
				}
			}
		}
	}
	if s, e := v.FieldByName("Start"), v.FieldByName("End"); s.IsValid() && e.IsValid() {
		if end, ok := e.Interface().(time.Time); ok && end.Before(s.Interface().(time.Time)) {
			t.Fatalf("a %T ending before it starts: %+v", row, row)
		}
	}
	switch r := row.(type) {
	case transform.ReportRow:
		if r.Date.Before(src.Window.From) || !r.Date.Before(src.Window.To) {
			t.Fatalf("report row outside the window: %+v", r)
		}
		if (r.GroupValue == "") != (src.Stream.GroupBy == "") {
			t.Fatalf("report row group %q for group_by %q", r.GroupValue, src.Stream.GroupBy)
		}
		checkDecimal(t, r.Value)
	case transform.RealtimeRow:
		checkDecimal(t, r.Value)
	case transform.ActivityRow:
		if r.At.Before(src.Window.Start) || seen[r.ID] {
			t.Fatalf("activity event before the window's start, or twice: %+v", r)
		}
		seen[r.ID] = true
		if r.Date != civil.Of(r.At, src.Location) {
			t.Fatalf("activity event on the wrong day: %+v", r)
		}
	}
}

func checkDecimal(t *testing.T, s string) {
	t.Helper()
	if d, err := decode.ParseDecimal(s); err != nil || string(d) != s || strings.ContainsAny(s, " \t\n") {
		t.Fatalf("value %q is not a bounded decimal: %v", s, err)
	}
}
