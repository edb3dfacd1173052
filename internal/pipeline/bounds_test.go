package pipeline_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// fingerprint sums up a table's rows, so a test sees whether a failed sync
// touched any of them.
func fingerprint(t *testing.T, f *fixture, table string) string {
	t.Helper()
	var s string
	err := f.store.Pool().QueryRow(context.Background(),
		`SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM `+table+` t`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An answer holding a value beyond its bounds fails its window at once,
// naming the value and the bound, and deletes or replaces nothing.
func TestAValueBeyondItsBoundFailsTheWindowAndTouchesNothing(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	digits := strings.Repeat("7", 5<<20)
	for _, tc := range []struct {
		name, stream, path, table string
		rewrite                   func(string) string
		want                      []string
	}{
		{
			name: "5 MB report value", stream: "agent_online_time_by_agent", path: "/report/agent", table: "engage.fact_report_metric",
			rewrite: firstMatch(`:"[0-9.]+"`, `:"`+digits+`"`),
			want:    []string{"results[", "5242880 characters long, more than the 64 allowed"},
		},
		{
			name: "over-long conversation id", stream: "conversations", path: "/report/chat/conversations", table: "engage.fact_conversation",
			rewrite: firstMatch(`"conversationId":"[^"]*"`, `"conversationId":"`+strings.Repeat("c", 5000)+`"`),
			want:    []string{"element ", "conversations.id", "5000 bytes, more than the 4096"},
		},
		{
			name: "huge message count", stream: "conversations", path: "/report/chat/conversations", table: "engage.fact_conversation",
			rewrite: firstMatch(`"messageCount":[0-9]+`, `"messageCount":3000000000`),
			want:    []string{"element ", "conversations.message_count", "3000000000 is out of range", "2147483647"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, engagesim.Faults{})
			streams := selectStreams(t, tc.stream)
			if res := f.sync(t, streams); !res.OK() {
				t.Fatalf("first sync:\n%s", failures(res))
			}
			before := fingerprint(t, f, tc.table)
			if strings.HasPrefix(before, "0:") {
				t.Fatalf("the first sync loaded no %s", tc.table)
			}
			f.retarget(t, rewriting(f.sim.Handler(), tc.path, tc.rewrite))
			start := time.Now()
			res := f.sync(t, streams)
			took := time.Since(start)
			if res.OK() {
				t.Fatal("the sync succeeded")
			}
			err := res.Streams[0].Err.Error()
			for _, w := range tc.want {
				if !strings.Contains(err, w) {
					t.Errorf("error %.300q does not say %q", err, w)
				}
			}
			if len(err) > 2000 {
				t.Errorf("the error is %d bytes long: it quotes the value whole", len(err))
			}
			if took > 20*time.Second {
				t.Errorf("the failing sync took %v", took)
			}
			if after := fingerprint(t, f, tc.table); after != before {
				t.Errorf("%s changed: %s before, %s after the failed sync", tc.table, before, after)
			}
		})
	}
}

// firstMatch replaces the first match of pattern with repl (taken literally).
func firstMatch(pattern, repl string) func(string) string {
	re := regexp.MustCompile(pattern)
	return func(body string) string {
		loc := re.FindStringIndex(body)
		if loc == nil {
			return body
		}
		return body[:loc[0]] + repl + body[loc[1]:]
	}
}
