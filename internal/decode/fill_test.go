package decode_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// elementTypes are the engage types each element kind decodes into.
var elementTypes = []struct {
	kind string
	new  func() any
}{
	{"conversations", func() any { return new(engage.Conversation) }},
	{"conversation_agents", func() any { return new(engage.ConversationAgent) }},
	{"messages", func() any { return new(engage.Message) }},
	{"agent_times", func() any { return new(engage.AgentTimes) }},
	{"visits", func() any { return new(engage.Visit) }},
	{"cobrowse", func() any { return new(engage.CobrowseSession) }},
	{"users", func() any { return new(engage.User) }},
	{"teams", func() any { return new(engage.Team) }},
	{"customers", func() any { return new(engage.Customer) }},
	{"roles", func() any { return new(engage.Role) }},
	{"rules", func() any { return new(engage.Rule) }},
	{"opening_hours", func() any { return new(engage.OpeningHours) }},
	{"sla_rules", func() any { return new(engage.SLARule) }},
	{"activity", func() any { return new(engage.ActivityEvent) }},
	{"status_webhooks", func() any { return new(engage.ConversationEvent) }},
	{"reports", func() any { return new(engage.ReportResponse) }},
	{"realtime", func() any { return new(engage.RealtimeResponse) }},
}

func TestElementTypesCoverEveryKind(t *testing.T) {
	covered := map[string]bool{}
	for _, e := range elementTypes {
		covered[e.kind] = true
	}
	for kind := range catalog.Elements {
		if !covered[kind] {
			t.Errorf("element kind %s has no type in elementTypes", kind)
		}
	}
}

// nestedDialect moves some fields of each kind under nested objects, so
// that the differential test walks dotted paths too.
func nestedDialect() catalog.Dialect {
	d := catalog.Contract()
	d.Fields["messages"]["id"] = "meta.id"
	d.Fields["messages"]["timestamp"] = "meta.sent.at"
	d.Fields["activity"]["user_id"] = "data.userId"
	d.Fields["conversations"]["start"] = "period.start"
	return d
}

// FuzzDecodeIntoMatchesUnmarshal: for any valid JSON element, the one-walk
// decode (Into) gives what json.Unmarshal of the element rewritten in
// the contract's keys gives: the same struct, the same failure, the same
// fields seen.
func FuzzDecodeIntoMatchesUnmarshal(f *testing.F) {
	seeds := []string{
		`{"conversationId":"c1","customerId":7,"start":1604138400000,"end":null,"userIds":["a",7],"messageCount":"3","firstResponseTimeMs":"120","durationMs":60}`,
		`{"conversationId":"c1","userId":"u","messageCount":2,"firstResponseTimeMs":100,"avgResponseTimeMs":null}`,
		`{"id":"m1","conversationId":"c1","customerId":"k","userId":null,"fromCustomer":"true","type":"TEXT","message":"h\u00e9llo \"x\" https://x","url":"https://x","timestamp":"2020-10-31T10:00:00.123Z"}`,
		`{"userId":"a","timeRanges":[{"start":"2020-10-31T23:00:00.794Z","end":"2020-10-31T23:10:00Z"}],"sumMinutes":10}`,
		`{"visitId":"v","sessionId":1,"start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:01:00Z","url":"https://x","path":"/","durationSeconds":"60.5"}`,
		`{"sessionId":"s","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:00:00Z","durationSeconds":0}`,
		`{"id":"u1","email":"A@X.com","displayName":"A","roleId":3,"tags":["x"]}`,
		`{"id":"t1","name":"T","members":["u1","u2"],"tags":[]}`,
		`{"id":"c","email":"c@x","firstName":"C","assignedUser":null,"id":"d"}`,
		`{"id":1,"name":"Admin"}`,
		`{"id":"r","name":"Rule","active":true,"types":["CHAT"]}`,
		`{"id":"e1","type":"x","userId":"u","timestamp":1604138400000,"data":{"customerId":"c","userId":"v"}}`,
		`{"customerId":"c","status":"DONE","lastMessage":{"id":"m","message":"bye"}}`,
		`{"results":{"2020/10/30":{"a@x.com":"205","b":1.5}}}`,
		`{"results":{"CURRENT_CHATS":"3"}}`,
		`{"meta":{"id":"m2","sent":{"at":"2020-10-31T10:00:00Z"}},"message":"\ud83d\ude00","fromCustomer":false}`,
		`{"period":{"start":"2020-10-31T10:00:00+01:00"},"conversationId":"c9"}`,
		`null`, `[]`, `"x"`, `{"id":"\ud800"}`, `{"id":"a\u0000b","timestamp":"bad"}`, `{"messageCount":99999999999}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), false, s)
		f.Add(uint8(i), true, s)
	}
	f.Fuzz(func(t *testing.T, which uint8, nested bool, raw string) {
		if !json.Valid([]byte(raw)) {
			return // Into is only given valid JSON (see each, eachPage, object)
		}
		kind := elementTypes[int(which)%len(elementTypes)]
		d := catalog.Contract()
		if nested {
			d = nestedDialect()
		}
		m1, m2 := decode.NewRemapper(d, kind.kind), decode.NewRemapper(d, kind.kind)
		want, got := kind.new(), kind.new()
		canon, wantErr := m1.Element([]byte(raw))
		if wantErr == nil {
			wantErr = json.Unmarshal(canon, want)
		}
		gotErr := m2.Into([]byte(raw), got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%s %s: json.Unmarshal of the rewritten element: %v; Into: %v", kind.kind, raw, wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s %s:\nwant %+v\ngot  %+v", kind.kind, raw, want, got)
		}
		seen1, count1 := decode.Seen(m1)
		seen2, count2 := decode.Seen(m2)
		if !reflect.DeepEqual(seen1, seen2) || count1 != count2 {
			t.Fatalf("%s %s: fields seen %v (count %d), want %v (count %d)", kind.kind, raw, seen2, count2, seen1, count1)
		}
	})
}
