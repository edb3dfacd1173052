package kinds

import (
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
)

// testSource is a source of the named stream over 2020-10-30..2020-11-05 in UTC.
func testSource(t testing.TB, stream string) Source {
	t.Helper()
	for _, s := range catalog.All() {
		if s.Name == stream {
			w := extract.Plan(civil.Date{Year: 2020, Month: 10, Day: 30}, civil.Date{Year: 2020, Month: 11, Day: 6}, 7, time.UTC)[0]
			return Source{Dialect: catalog.Contract(), Location: time.UTC, Stream: s, Window: w}
		}
	}
	t.Fatalf("no stream %q", stream)
	return Source{}
}

func TestValuesBeyondTheirBoundsFailTheAnswerNamingThePath(t *testing.T) {
	conv := func(extra string) string {
		return `[{"conversationId":"c1","start":"2020-10-31T10:00:00Z"},{"conversationId":"c2","start":"2020-10-31T10:00:00Z"` + extra + `}]`
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		stream, body string
		want         string // "" when the answer loads
	}{
		{"conversations", conv(`,"messageCount":2147483647,"durationMs":"9223372036854775807"`), ""},
		{"conversations", conv(`,"messageCount":2147483648`), "element 1: conversations.message_count: 2147483648 is out of range: a count is a whole number from 0 to 2147483647"},
		{"conversations", conv(`,"messageCount":-1`), "element 1: conversations.message_count: -1 is out of range"},
		{"conversations", conv(`,"agentMessageCount":"99999999999999999999"`), `conversations.agent_message_count: "99999999999999999999" is out of range`},
		{"conversations", conv(`,"durationMs":-5`), "conversations.duration_ms: -5 is out of range: milliseconds are a whole number from 0"},
		{"conversations", conv(`,"durationMs":1e3`), `conversations.duration_ms: "1e3" is not a milliseconds`},
		{"conversations", `[{"conversationId":"` + long(catalog.MaxStringLen+1) + `","start":"2020-10-31T10:00:00Z"}]`, "element 0: conversations.id: a string of 4097 bytes, more than the 4096 a string may have"},
		{"conversations", conv(`,"userIds":["a","` + long(catalog.MaxStringLen+1) + `"]`), "conversations.user_ids: element 1 of the list: a string of 4097 bytes"},
		{"conversations", conv(`,"userIds":[` + strings.Repeat(`"a",`, catalog.MaxListLen) + `"a"]`), "conversations.user_ids: a list of 10001 strings, more than the 10000 allowed"},
		{"conversations", conv(`,"start":"` + long(catalog.MaxStringLen+1) + `"`), "conversations.start: a string of 4097 bytes"},
		{"conversations", conv(`,"customerId":` + strings.Repeat("1", catalog.MaxStringLen+1)), "conversations.customer_id: a number of 4097 characters"},
		{"visits", `[{"visitId":"v","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:01:00Z","url":"` + long(catalog.MaxTextLen) + `","durationSeconds":"60.5"}]`, ""},
		{"visits", `[{"visitId":"v","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:01:00Z","url":"` + long(catalog.MaxTextLen+1) + `"}]`, "visits.url: a string of 65537 bytes, more than the 65536 a text may have"},
		{"visits", `[{"visitId":"v","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:01:00Z","durationSeconds":"` + strings.Repeat("9", 5<<20) + `"}]`, "visits.duration_seconds: decimal value \"9999"},
		{"visits", `[{"visitId":"v","start":"2020-10-31T10:00:00Z","end":"2020-10-31T10:01:00Z","durationSeconds":1e999}]`, "exponent beyond ±100"},
		{"users", `[{"results":[{"id":"u1","email":"a@x"}]},{"results":[{"id":"u2","email":"a@x"},{"id":"u3","email":"` + long(5000) + `"}]}]`, "page 1 element 1: users.email: a string of 5000 bytes"},
		{"teams", `[{"results":[{"id":"t1","members":[` + strings.Repeat(`"a",`, catalog.MaxListLen) + `"a"]}]}]`, "page 0 element 0: teams.members: a list of 10001 strings"},
		{"agent_times_online", `[{"userId":"u","timeRanges":[],"sumMinutes":-3}]`, "element 0: agent_times.sum_minutes: -3 is out of range"},
		{"agent_online_time_by_agent", `{"results":{"2020/10/31":{"a@x":"` + strings.Repeat("7", 5<<20) + `"}}}`, `results["2020/10/31"]["a@x"]: decimal value "7777`},
		{"agent_online_time_by_agent", `{"results":{"2020/10/31":{"` + long(catalog.MaxStringLen+1) + `":"1"}}}`, "report group key \"xxxx"},
		{"agent_online_time_by_agent", `{"results":{"` + strings.Repeat("2", 5<<20) + `":{"a":"1"}}}`, "report day key \"2222"},
	} {
		start := time.Now()
		_, err := Decode(testSource(t, tc.stream), []byte(tc.body))
		took := time.Since(start)
		name := tc.stream + " " + tc.want
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want loaded", tc.stream, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %.400v, want one saying %q", name, err, tc.want)
		case err != nil && len(err.Error()) > 500:
			t.Errorf("%s: an error of %d bytes quotes the value whole", name, len(err.Error()))
		}
		if took > slowdown*time.Second {
			t.Errorf("%s: took %v", name, took)
		}
	}
}

// A value beyond its bound is not a wrong mapping: its error does not send
// the user to api.fields.
func TestABoundErrorDoesNotBlameTheMapping(t *testing.T) {
	_, err := Decode(testSource(t, "conversations"), []byte(`[{"conversationId":"c","start":"2020-10-31T10:00:00Z","messageCount":-1}]`))
	if err == nil || strings.Contains(err.Error(), "set api.fields") {
		t.Errorf("err = %v, want a bound error without a mapping hint", err)
	}
	_, err = Decode(testSource(t, "conversations"), []byte(`[{"conversationId":"c","start":"2020-10-31T10:00:00Z","messageCount":{}}]`))
	if err == nil || !strings.Contains(err.Error(), "set api.fields.conversations.message_count") {
		t.Errorf("err = %v, want a type error with a mapping hint", err)
	}
}
