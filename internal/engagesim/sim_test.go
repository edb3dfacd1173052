package engagesim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

var now = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func start(t *testing.T, cfg engagesim.Config) string {
	t.Helper()
	if cfg.Now.IsZero() {
		cfg.Now = now
	}
	if cfg.Tenants == nil {
		cfg.Tenants = []engagesim.TenantConfig{{ID: "vienna", Token: "tok", Timezone: "Europe/Vienna"}}
	}
	sim, err := engagesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + engagesim.Prefix
}

func post(t *testing.T, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func window(days int) (int64, int64) {
	return now.Add(-time.Duration(days) * 24 * time.Hour).UnixMilli(), now.UnixMilli()
}

func reportBody(metric, groupBy string, from, to int64) string {
	return fmt.Sprintf(`{"metrics":[{"metricName":%q,"groupBy":%q}],"dateFilter":{"grouping":"CUSTOM","from":%d,"to":%d}}`, metric, groupBy, from, to)
}

func TestAuthentication(t *testing.T) {
	base := start(t, engagesim.Config{Seed: 1})
	from, to := window(2)
	body := reportBody("ONLINE_TIME", "AGENT", from, to)
	if code, _ := post(t, base+"/report/agent", "", body); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	code, b := post(t, base+"/report/agent", "nope", body)
	if code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	var e map[string]any
	if json.Unmarshal(b, &e); e["status"] != float64(401) || e["error"] != "Unauthorized" || e["path"] != "/rest/v1/report/agent" || e["message"] == "" || e["timestamp"] == nil {
		t.Errorf("error body = %s", b)
	}
	if code, _ := post(t, base+"/report/agent?access_token=tok", "", body); code != 200 {
		t.Errorf("access_token query: %d, want 200", code)
	}
}

func TestValidation(t *testing.T) {
	base := start(t, engagesim.Config{Seed: 1})
	from, to := window(2)
	for name, body := range map[string]string{
		"unknown metric":      reportBody("TALK_TIME", "AGENT", from, to),
		"groupBy not allowed": reportBody("ONLINE_TIME", "TEAM", from, to),
		"groupBy missing":     reportBody("ONLINE_TIME", "", from, to),
		"from after to":       reportBody("ONLINE_TIME", "AGENT", to, from),
		"unknown grouping":    `{"metrics":[{"metricName":"ONLINE_TIME","groupBy":"AGENT"}],"dateFilter":{"grouping":"YESTERDAY"}}`,
		"custom without to":   `{"metrics":[{"metricName":"ONLINE_TIME","groupBy":"AGENT"}],"dateFilter":{"grouping":"CUSTOM","from":1}}`,
		"no metrics":          `{"metrics":[],"dateFilter":{"grouping":"TODAY"}}`,
		"not json":            `{`,
	} {
		code, b := post(t, base+"/report/agent", "tok", body)
		if code != 400 || !bytes.Contains(b, []byte(`"status":400`)) {
			t.Errorf("%s: %d %s, want 400 with an error body", name, code, b)
		}
	}
	code, _ := post(t, base+"/report/agent/times/online", "tok", `{"grouping":"CUSTOM","from":5,"to":5}`)
	if code != 400 {
		t.Errorf("times with from == to: %d, want 400", code)
	}
	if code, _ := post(t, base+"/report/nope", "tok", `{}`); code != 404 {
		t.Errorf("unknown route: %d, want 404", code)
	}
}

type timesEntry struct {
	UserID     string `json:"userId"`
	TimeRanges []struct {
		Start, End time.Time
	} `json:"timeRanges"`
	SumMinutes int64 `json:"sumMinutes"`
}

// TestOnlineTimeIsTheOnlineRangesPerLocalDay reconciles the bucketed report
// with the detail report it must be computed from, cutting ranges at Vienna's
// local midnights in the test itself.
func TestOnlineTimeIsTheOnlineRangesPerLocalDay(t *testing.T) {
	base := start(t, engagesim.Config{Seed: 3, Days: 14})
	vienna, _ := time.LoadLocation("Europe/Vienna")
	from := civil.Date{Year: 2026, Month: 10, Day: 21}.Start(vienna).UnixMilli()
	to := civil.Date{Year: 2026, Month: 11, Day: 4}.Start(vienna).UnixMilli()

	_, b := post(t, base+"/report/agent/times/online", "tok", fmt.Sprintf(`{"grouping":"CUSTOM","from":%d,"to":%d}`, from, to))
	var entries []timesEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{}
	for _, e := range entries {
		var total time.Duration
		for _, r := range e.TimeRanges {
			total += r.End.Sub(r.Start)
			for d := civil.Of(r.Start, vienna); d.Start(vienna).Before(r.End); d = d.AddDays(1) {
				lo, hi := d.Start(vienna), d.AddDays(1).Start(vienna)
				if r.Start.After(lo) {
					lo = r.Start
				}
				if r.End.Before(hi) {
					hi = r.End
				}
				if want[d.Slash()] == nil {
					want[d.Slash()] = map[string]int64{}
				}
				want[d.Slash()][e.UserID] += int64(hi.Sub(lo) / time.Second)
			}
		}
		if e.SumMinutes != int64(total/time.Minute) {
			t.Errorf("%s: sumMinutes %d, want %d (rounded down)", e.UserID, e.SumMinutes, int64(total/time.Minute))
		}
	}

	_, b = post(t, base+"/report/agent", "tok", reportBody("ONLINE_TIME", "AGENT", from, to))
	var report struct {
		Results map[string]map[string]string `json:"results"`
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatalf("values must be strings: %v", err)
	}
	got := map[string]map[string]int64{}
	for day, groups := range report.Results {
		for agent, v := range groups {
			var n int64
			fmt.Sscan(v, &n)
			if got[day] == nil {
				got[day] = map[string]int64{}
			}
			got[day][agent] = n
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("report and ranges disagree:\nreport %v\nranges %v", got, want)
	}
	if len(got["2026/10/25"]) == 0 {
		t.Error("no data on the DST day")
	}
	// Empty days are omitted: nothing before the world's first day.
	for day := range report.Results {
		if day < "2026/10/21" {
			t.Errorf("day %s is before the world began", day)
		}
	}
	// The clock stands still at 10:00 UTC: nothing after it is visible.
	for _, e := range entries {
		for _, r := range e.TimeRanges {
			if r.End.After(now) {
				t.Errorf("%s: range ends at %v, after now", e.UserID, r.End)
			}
		}
	}
}

func TestSameFlagsSameBytes(t *testing.T) {
	hash := func() string {
		base := start(t, engagesim.Config{Seed: 42, Days: 10})
		h := sha256.New()
		from, to := window(10)
		for _, req := range []struct{ path, body string }{
			{"/report/agent", reportBody("ONLINE_TIME", "AGENT", from, to)},
			{"/report/agent", reportBody("LOGGED_IN_TIME", "AGENT", from, to)},
			{"/report/agent/times/online", fmt.Sprintf(`{"grouping":"CUSTOM","from":%d,"to":%d}`, from, to)},
			{"/report/agent/times/loggedin", `{"grouping":"LAST_7_DAYS"}`},
		} {
			code, b := post(t, base+req.path, "tok", req.body)
			if code != 200 {
				t.Fatalf("%s: %d %s", req.path, code, b)
			}
			h.Write(b)
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	if a, b := hash(), hash(); a != b {
		t.Errorf("two simulators with the same flags answered differently: %s vs %s", a, b)
	}
}

// TestCapDetailsKeepsTheFirstElementsSilently: with CapDetails every detail
// array stops at the cap, with status 200 and nothing that says so, while
// the bucketed report still counts them all.
func TestCapDetailsKeepsTheFirstElementsSilently(t *testing.T) {
	from, to := window(3)
	body := fmt.Sprintf(`{"grouping":"CUSTOM","from":%d,"to":%d}`, from, to)
	count := func(base string) map[string]int {
		out := map[string]int{}
		for _, path := range []string{"/report/chat/conversations", "/report/chat/agents", "/report/visit/table", "/report/agent/times/online"} {
			code, b := post(t, base+path, "tok", body)
			var elems []json.RawMessage
			if code != 200 || json.Unmarshal(b, &elems) != nil {
				t.Fatalf("%s: %d %s", path, code, b)
			}
			out[path] = len(elems)
		}
		return out
	}
	whole := count(start(t, engagesim.Config{Seed: 3, Scale: 60}))
	capped := count(start(t, engagesim.Config{Seed: 3, Scale: 60, CapDetails: 37}))
	for path, n := range whole {
		if want := min(n, 37); capped[path] != want {
			t.Errorf("%s: %d elements capped, want %d (of %d)", path, capped[path], want, n)
		}
	}
	if whole["/report/chat/conversations"] <= 37 {
		t.Fatalf("the world is too small to show the cap: %v", whole)
	}
}

// TestEveryConversationOfASpringForwardDayHasItsMessages: on the day the
// clocks skip an hour the day is 23 hours long, and a conversation drawn
// for its last second starts after midnight, among the next day's. Every
// conversation the API lists around it must still answer its messages
// (they were looked up in a list no longer sorted by start: 404).
func TestEveryConversationOfASpringForwardDayHasItsMessages(t *testing.T) {
	cfg := engagesim.Config{Seed: 3, Start: civil.Date{Year: 2026, Month: 3, Day: 28}, Days: 3, Scale: 2000,
		Now:     time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC),
		Tenants: []engagesim.TenantConfig{{ID: "vienna", Token: "tok", Timezone: "Europe/Vienna"}}}
	sim, err := engagesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	convs, err := sim.ConversationKPIs("vienna", civil.Date{Year: 2026, Month: 3, Day: 29}, civil.Date{Year: 2026, Month: 3, Day: 31})
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, c := range convs {
		req, _ := http.NewRequest("GET", srv.URL+engagesim.Prefix+"/report/chat/messages?conversationId="+c.ID, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			missing++
			if missing <= 3 {
				t.Errorf("conversation %s started %s: messages answered %s", c.ID, c.Start.In(time.FixedZone("", 7200)), resp.Status)
			}
		}
	}
	if len(convs) < 1000 || missing > 0 {
		t.Errorf("%d of %d conversations of the two days have no messages", missing, len(convs))
	}
}
