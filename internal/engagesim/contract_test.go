package engagesim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// world is a two-tenant simulator (Vienna and New York) for contract tests.
type world struct {
	sim  *engagesim.Server
	base string
}

func newWorld(t *testing.T, mod func(*engagesim.Config)) *world {
	t.Helper()
	cfg := engagesim.Config{Seed: 11, Days: 14, Now: now, Scale: 30, Tenants: engagesim.DefaultTenants(2)}
	if mod != nil {
		mod(&cfg)
	}
	sim, err := engagesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &world{sim, srv.URL}
}

func (w *world) do(t *testing.T, method, path, token, body string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, w.base+engagesim.Prefix+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// ok requires a 200 and decodes the body into v.
func (w *world) ok(t *testing.T, method, path, token, body string, v any) []byte {
	t.Helper()
	code, b, _ := w.do(t, method, path, token, body)
	if code != 200 {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return b
}

const acme = "acme-token" // Europe/Vienna

var vienna, _ = time.LoadLocation("Europe/Vienna")

// days is the body of a CUSTOM date filter over local days [from, to).
func days(from, to civil.Date, loc *time.Location) string {
	return fmt.Sprintf(`{"grouping":"CUSTOM","from":%d,"to":%d}`, from.Start(loc).UnixMilli(), to.Start(loc).UnixMilli())
}

func reportReq(metric, groupBy string, from, to civil.Date, loc *time.Location) string {
	g := ""
	if groupBy != "" {
		g = fmt.Sprintf(`,"groupBy":%q`, groupBy)
	}
	return fmt.Sprintf(`{"metrics":[{"metricName":%q%s}],"dateFilter":%s}`, metric, g, days(from, to, loc))
}

var (
	d0, _    = civil.Parse("2026-10-21") // first day of the world
	dEnd, _  = civil.Parse("2026-11-04") // the day after now
	isoRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	dayKeyRE = regexp.MustCompile(`^\d{4}/\d\d/\d\d$`)
)

// reports lists every report, metric and allowed groupBy of CONTRACT.md §3.
var reports = map[string]struct {
	metrics, groupBys []string
}{
	"agent":           {[]string{"ONLINE_TIME", "LOGGED_IN_TIME", "CONVERSATIONS", "MESSAGES_SENT"}, []string{"AGENT"}},
	"chat":            {[]string{"CONVERSATIONS", "MESSAGES", "FIRST_RESPONSE_TIME", "CONVERSATION_DURATION", "DONE", "UNRESOLVED"}, []string{"", "AGENT", "TEAM", "CHANNEL"}},
	"session":         {[]string{"SESSIONS", "SESSION_DURATION", "UNIQUE_VISITORS"}, []string{"", "DEVICE", "BROWSER", "COUNTRY"}},
	"session/metrics": {[]string{"SESSION_METRIC"}, []string{"REASON"}},
	"visit":           {[]string{"VISITS", "VISIT_DURATION", "BOUNCES"}, []string{"", "PATH"}},
	"cobrowse":        {[]string{"COBROWSE_SESSIONS", "COBROWSE_DURATION"}, []string{"", "AGENT"}},
	"conference":      {[]string{"CONFERENCES", "CONFERENCE_DURATION", "PARTICIPANTS"}, []string{"", "AGENT"}},
	"rule":            {[]string{"RULE_MATCHES"}, []string{"RULE"}},
	"message":         {[]string{"MESSAGES"}, []string{"", "TYPE", "CHANNEL", "AGENT"}},
}

func TestEveryBucketedReport(t *testing.T) {
	w := newWorld(t, nil)
	for report, r := range reports {
		for _, metric := range r.metrics {
			for _, g := range r.groupBys {
				var resp struct {
					Results map[string]map[string]string `json:"results"`
				}
				w.ok(t, "POST", "/report/"+report, acme, reportReq(metric, g, d0, dEnd, vienna), &resp)
				if len(resp.Results) == 0 {
					t.Errorf("%s %s by %q: empty over 14 days", report, metric, g)
				}
				for day, groups := range resp.Results {
					if !dayKeyRE.MatchString(day) || day < d0.Slash() || day >= dEnd.Slash() {
						t.Errorf("%s %s: day key %q outside the window", report, metric, day)
					}
					if len(groups) == 0 {
						t.Errorf("%s %s: empty day %s is not omitted", report, metric, day)
					}
					for group, v := range groups {
						if g == "" && group != metric {
							t.Errorf("%s %s ungrouped: inner key %q, want the metric name", report, metric, group)
						}
						if _, err := strconv.ParseFloat(v, 64); err != nil {
							t.Errorf("%s %s: value %q is not a decimal string", report, metric, v)
						}
					}
				}
			}
			// A groupBy the report does not allow is a 400.
			if code, b, _ := w.do(t, "POST", "/report/"+report, acme, reportReq(metric, "BROWSER_ENGINE", d0, dEnd, vienna)); code != 400 {
				t.Errorf("%s %s by BROWSER_ENGINE: %d %s", report, metric, code, b)
			}
		}
		if code, _, _ := w.do(t, "POST", "/report/"+report, acme, reportReq("NOT_A_METRIC", r.groupBys[0], d0, dEnd, vienna)); code != 400 {
			t.Errorf("%s unknown metric: %d, want 400", report, code)
		}
	}
}

func TestRealtime(t *testing.T) {
	w := newWorld(t, nil)
	var resp struct {
		Results map[string]string `json:"results"`
	}
	w.ok(t, "POST", "/report/realtime", acme, `{"metrics":[{"metricName":"ONLINE_AGENTS"},{"metricName":"OPEN_CONVERSATIONS"},{"metricName":"QUEUE_SIZE"},{"metricName":"ACTIVE_SESSIONS"}]}`, &resp)
	if len(resp.Results) != 4 {
		t.Errorf("results = %v", resp.Results)
	}
	for k, v := range resp.Results {
		if _, err := strconv.Atoi(v); err != nil {
			t.Errorf("%s = %q, want an integer string", k, v)
		}
	}
	if code, _, _ := w.do(t, "POST", "/report/realtime", acme, `{"metrics":[{"metricName":"MOOD"}]}`); code != 400 {
		t.Errorf("unknown realtime metric: %d, want 400", code)
	}
}

// keys asserts that every element of a JSON array has exactly the fields want.
func keys(t *testing.T, route string, b []byte, want ...string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("%s: not a JSON array: %v", route, err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: empty", route)
	}
	sort.Strings(want)
	for _, r := range rows {
		var got []string
		for k := range r {
			got = append(got, k)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: fields %v, want %v", route, got, want)
		}
	}
	return rows
}

func TestDetailReportShapes(t *testing.T) {
	w := newWorld(t, nil)
	body := days(d0, dEnd, vienna)
	convs := keys(t, "conversations", w.ok(t, "POST", "/report/chat/conversations", acme, body, nil),
		"conversationId", "customerId", "teamId", "channel", "status", "start", "end", "userIds", "messageCount",
		"customerMessageCount", "agentMessageCount", "firstResponseTimeMs", "avgResponseTimeMs", "durationMs")
	statuses := map[string]int{}
	for _, c := range convs {
		statuses[c["status"].(string)]++
		if !isoRE.MatchString(c["start"].(string)) {
			t.Fatalf("start %v is not ISO UTC with milliseconds", c["start"])
		}
		if (c["status"] == "DONE") != (c["end"] != nil) {
			t.Fatalf("status %v with end %v", c["status"], c["end"])
		}
	}
	for _, s := range []string{"UNREAD", "UNRESOLVED", "DONE"} {
		if statuses[s] == 0 {
			t.Errorf("no conversation is %s (%v)", s, statuses)
		}
	}
	keys(t, "chat agents", w.ok(t, "POST", "/report/chat/agents", acme, body, nil),
		"userId", "conversationId", "messageCount", "firstResponseTimeMs", "avgResponseTimeMs")
	keys(t, "times", w.ok(t, "POST", "/report/agent/times/loggedin", acme, body, nil), "userId", "timeRanges", "sumMinutes")
	keys(t, "visits", w.ok(t, "POST", "/report/visit/table", acme, body, nil),
		"visitId", "sessionId", "visitorId", "url", "path", "start", "end", "durationSeconds")
	keys(t, "cobrowse", w.ok(t, "POST", "/report/cobrowse/table", acme, body, nil),
		"sessionId", "userId", "customerId", "start", "end", "durationSeconds")

	types := map[string]bool{}
	for _, c := range convs[:min(len(convs), 200)] {
		msgs := keys(t, "messages", w.ok(t, "GET", "/report/chat/messages?conversationId="+c["conversationId"].(string), acme, "", nil),
			"id", "conversationId", "customerId", "userId", "fromCustomer", "type", "message", "url", "timestamp")
		if len(msgs) != int(c["messageCount"].(float64)) {
			t.Fatalf("conversation %v: %d messages, messageCount %v", c["conversationId"], len(msgs), c["messageCount"])
		}
		for _, m := range msgs {
			types[m["type"].(string)] = true
			if (m["userId"] == nil) != m["fromCustomer"].(bool) {
				t.Fatalf("message %v: userId %v with fromCustomer %v", m["id"], m["userId"], m["fromCustomer"])
			}
		}
	}
	if len(types) != 5 {
		t.Errorf("message types seen: %v, want all five", types)
	}
	if code, _, _ := w.do(t, "GET", "/report/chat/messages?conversationId=000000000000000000000000", acme, ""); code != 404 {
		t.Errorf("unknown conversation: %d, want 404", code)
	}
	if code, _, _ := w.do(t, "GET", "/report/chat/messages", acme, ""); code != 400 {
		t.Errorf("missing conversationId: %d, want 400", code)
	}
}

func TestListsPageUntilAShortPage(t *testing.T) {
	w := newWorld(t, nil)
	for _, list := range []string{"/user", "/team?unused=x", "/customer", "/role"} {
		sep := "?"
		if strings.Contains(list, "?") {
			sep = "&"
		}
		seen := map[string]bool{}
		pages := 0
		for page := 0; ; page++ {
			var resp struct {
				Page    int              `json:"page"`
				Results []map[string]any `json:"results"`
			}
			w.ok(t, "GET", fmt.Sprintf("%s%spageNumber=%d&pageSize=3", list, sep, page), acme, "", &resp)
			if resp.Page != page {
				t.Errorf("%s: page %d answered as %d", list, page, resp.Page)
			}
			for _, r := range resp.Results {
				id := r["id"].(string)
				if seen[id] {
					t.Errorf("%s: %s on two pages", list, id)
				}
				seen[id] = true
			}
			pages++
			if len(resp.Results) < 3 {
				break
			}
		}
		if len(seen) == 0 || pages < 2 {
			t.Errorf("%s: %d items over %d pages", list, len(seen), pages)
		}
	}
	var capped struct {
		Results []any `json:"results"`
	}
	w.ok(t, "GET", "/customer?pageSize=500", acme, "", &capped)
	if len(capped.Results) != 100 {
		t.Errorf("pageSize=500 answered %d items, want the cap of 100", len(capped.Results))
	}
	var rules []map[string]any
	w.ok(t, "GET", "/rule", acme, "", &rules)
	if len(rules) != 5 || rules[0]["types"] == nil {
		t.Errorf("rules = %v", rules)
	}
	if code, _, _ := w.do(t, "GET", "/user?pageNumber=-1", acme, ""); code != 400 {
		t.Errorf("negative page: %d, want 400", code)
	}
}

type springPage struct {
	Content []struct {
		ID        string            `json:"id"`
		Type      string            `json:"type"`
		UserID    *string           `json:"userId"`
		Timestamp time.Time         `json:"timestamp"`
		Data      map[string]string `json:"data"`
	} `json:"content"`
	Number           int  `json:"number"`
	Size             int  `json:"size"`
	NumberOfElements int  `json:"numberOfElements"`
	TotalElements    int  `json:"totalElements"`
	TotalPages       int  `json:"totalPages"`
	First            bool `json:"first"`
	Last             bool `json:"last"`
	Empty            bool `json:"empty"`
}

func TestActivityPagesAreConsistentSpringPages(t *testing.T) {
	w := newWorld(t, nil)
	want := map[string]string{"call": "START_CALL", "livechat": "MESSENGER_SEND", "status": "STATUS_CHANGE", "liveview": "LIVE_VIEW"}
	for log, typ := range want {
		var first springPage
		w.ok(t, "GET", "/activity/"+log+"?page=0&size=7&sort=timestamp,desc", acme, "", &first)
		if first.TotalElements == 0 {
			t.Fatalf("%s: no events", log)
		}
		lastPage := first.TotalPages - 1
		var last springPage
		w.ok(t, "GET", fmt.Sprintf("/activity/%s?page=%d&size=7", log, lastPage), acme, "", &last)
		for _, p := range []springPage{first, last} {
			if p.TotalPages != (p.TotalElements+6)/7 || p.NumberOfElements != len(p.Content) || p.Size != 7 ||
				p.First != (p.Number == 0) || p.Last != (p.Number == lastPage) || p.Empty != (len(p.Content) == 0) {
				t.Errorf("%s page %d: inconsistent page fields %+v", log, p.Number, p)
			}
			for i, e := range p.Content {
				if e.Type != typ || e.ID == "" || len(e.Data) == 0 {
					t.Errorf("%s: event %+v", log, e)
				}
				if i > 0 && e.Timestamp.After(p.Content[i-1].Timestamp) {
					t.Errorf("%s: not newest first", log)
				}
			}
		}
		if len(last.Content) != first.TotalElements-7*lastPage {
			t.Errorf("%s: last page has %d events, want %d", log, len(last.Content), first.TotalElements-7*lastPage)
		}
	}
	for _, q := range []string{"sort=id,desc", "size=0", "page=x"} {
		if code, _, _ := w.do(t, "GET", "/activity/status?"+q, acme, ""); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}

func TestTokensMapToTenantsInTheirZones(t *testing.T) {
	w := newWorld(t, nil)
	ny, _ := time.LoadLocation("America/New_York")
	var a, g []map[string]any
	w.ok(t, "POST", "/report/chat/conversations", acme, days(d0, dEnd, vienna), &a)
	w.ok(t, "POST", "/report/chat/conversations", "globex-token", days(d0, dEnd, ny), &g)
	if len(a) == 0 || len(g) == 0 || a[0]["conversationId"] == g[0]["conversationId"] {
		t.Fatal("tenants share conversations")
	}
	var users []map[string]any
	var resp struct{ Results []map[string]any }
	w.ok(t, "GET", "/user?pageSize=100", "globex-token", "", &resp)
	users = resp.Results
	if !strings.HasSuffix(users[0]["email"].(string), "@globex.example") {
		t.Errorf("globex's users: %v", users[0])
	}
}

func TestRateLimitPerToken(t *testing.T) {
	w := newWorld(t, func(c *engagesim.Config) { c.RateLimit = 3 })
	limited := 0
	var retryAfter string
	for i := 0; i < 10; i++ {
		code, _, h := w.do(t, "GET", "/role", acme, "")
		if code == 429 {
			limited++
			retryAfter = h.Get("Retry-After")
		}
	}
	if limited == 0 || retryAfter == "" {
		t.Errorf("10 quick requests at 3/s: %d answered 429 (Retry-After %q)", limited, retryAfter)
	}
	if code, _, _ := w.do(t, "GET", "/role", "globex-token", ""); code != 200 {
		t.Errorf("another token is limited too: %d", code)
	}
}

func TestMovingClock(t *testing.T) {
	w := newWorld(t, func(c *engagesim.Config) { c.ClockRate = 3600 })
	before := w.sim.Now()
	time.Sleep(20 * time.Millisecond)
	if moved := w.sim.Now().Sub(before); moved < time.Minute {
		t.Errorf("at 3600x the clock moved %v in 20ms", moved)
	}
}
