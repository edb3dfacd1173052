package pipeline_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// rewriting answers the simulator's answers to paths with prefix rewritten
// by fn.
func rewriting(sim http.Handler, prefix string, fn func(string) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, engagesim.Prefix+prefix) {
			sim.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		w.Write([]byte(fn(rec.Body.String())))
	})
}

func count(t *testing.T, f *fixture, sql string) int {
	t.Helper()
	var n int
	if err := f.store.Pool().QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAReportWithoutItsEnvelopeFailsAndDeletesNothing(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	streams := selectStreams(t, "agent_online_time_by_agent")
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("first sync:\n%s", failures(res))
	}
	loaded := count(t, f, `SELECT count(*) FROM engage.fact_report_metric`)
	if loaded == 0 {
		t.Fatal("nothing loaded")
	}
	// The same API now answers 200 with the buckets under another key.
	f.retarget(t, rewriting(f.sim.Handler(), "/report/agent", func(body string) string {
		return strings.Replace(body, `"results"`, `"data"`, 1)
	}))
	res := f.sync(t, streams)
	if res.OK() {
		t.Fatal("a report without its results key synced ok")
	}
	if err := res.Streams[0].Err.Error(); !strings.Contains(err, "api.fields.reports.results") {
		t.Errorf("error %q does not name the config key api.fields.reports.results", err)
	}
	if n := count(t, f, `SELECT count(*) FROM engage.fact_report_metric`); n != loaded {
		t.Errorf("fact_report_metric holds %d rows after the failed sync, want the %d loaded before", n, loaded)
	}
	if n := count(t, f, `SELECT count(*) FROM raw.failed_payload WHERE stream = 'agent_online_time_by_agent' AND convert_from(body_head, 'UTF8') LIKE '{"data"%'`); n == 0 {
		t.Error("the failed answer was not kept")
	}
}

func TestRenamedFieldsAreLoud(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	// Customers call firstName givenName: an optional field, so the rows
	// load, but the run says which mapping never matched.
	h := rewriting(f.sim.Handler(), "/customer", func(body string) string {
		return strings.ReplaceAll(body, `"firstName"`, `"givenName"`)
	})
	// Users call email mail: the agent's natural key, so the window fails.
	f.retarget(t, rewriting(h, "/user", func(body string) string { return strings.ReplaceAll(body, `"email"`, `"mail"`) }))
	res := f.sync(t, selectStreams(t, "customers", "users"))
	for _, s := range res.Streams {
		switch s.Stream {
		case "customers":
			if s.Err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "api.fields.customers.first_name") {
				t.Errorf("customers: err %v, warnings %q; want ok with one warning naming api.fields.customers.first_name", s.Err, s.Warnings)
			}
		case "users":
			if s.Err == nil || !strings.Contains(s.Err.Error(), "api.fields.users.email") {
				t.Errorf("users: err %v; want a failure naming api.fields.users.email", s.Err)
			}
		}
	}
	if n := count(t, f, `SELECT count(*) FROM etl.run_stream WHERE stream = 'customers' AND warnings[1] LIKE 'api.fields.customers.first_name%'`); n != 1 {
		t.Errorf("the warning is in %d run_stream rows, want 1", n)
	}
	if n := count(t, f, `SELECT count(*) FROM engage.dim_agent WHERE agent_key <> 0 AND NOT inferred`); n != 0 {
		t.Errorf("%d agents loaded from users without their e-mail", n)
	}
}

func TestAnActivityLogOutOfOrderFailsInsteadOfEndingEarly(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	// The API ignores the sort parameter and answers each page oldest first.
	f.retarget(t, rewriting(f.sim.Handler(), "/activity/", func(body string) string {
		var page map[string]any
		if json.Unmarshal([]byte(body), &page) != nil {
			return body
		}
		if events, ok := page["content"].([]any); ok {
			slices.Reverse(events)
		}
		b, _ := json.Marshal(page)
		return string(b)
	}))
	res := f.sync(t, selectStreams(t, "activity_livechat"))
	if res.OK() {
		t.Fatal("an activity log answered oldest first synced ok")
	}
	if err := res.Streams[0].Err.Error(); !strings.Contains(err, "api.activity.sort") {
		t.Errorf("error %q does not name api.activity.sort", err)
	}
	if c, _ := f.store.Cursor(context.Background(), f.tenant.ID, "activity_livechat"); !c.IsZero() {
		t.Errorf("the cursor moved to %v", c)
	}
}
