package engagesim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// dialectWorld serves one world twice: in the contract and in v2.
type dialectWorld struct {
	sim          *engagesim.Server
	contract, v2 *world
}

func newDialectWorld(t *testing.T, mod func(*engagesim.Config)) *dialectWorld {
	t.Helper()
	cfg := engagesim.Config{Seed: 11, Days: 14, Now: now, Scale: 30, Agents: 30,
		Tenants: engagesim.DefaultTenants(2), Dialect: "v2"}
	if mod != nil {
		mod(&cfg)
	}
	sim, err := engagesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	contract := httptest.NewServer(sim.ContractHandler())
	t.Cleanup(contract.Close)
	v2 := httptest.NewServer(sim.Handler()) // Config.Dialect
	t.Cleanup(v2.Close)
	return &dialectWorld{sim, &world{sim, contract.URL}, &world{sim, v2.URL}}
}

// decode reads JSON keeping numbers as json.Number, so that a number and a
// string holding it never compare equal.
func decode(t *testing.T, what string, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v in %.300s", what, err, b)
	}
	return v
}

// v2Renames is DIALECT-V2.md's table of answer keys, v2 key → contract key,
// written out here rather than read from DialectV2, so that the test checks
// the data against the spec.
var v2Renames = map[string]map[string]string{
	"conversations":       {"id": "conversationId", "startedAt": "start", "endedAt": "end"},
	"conversation_agents": {"agent": "userId"},
	"messages":            {"messageId": "id", "sentAt": "timestamp"},
	"users":               {"mail": "email", "name": "displayName"},
	"customers":           {"givenName": "firstName", "familyName": "lastName"},
	"agent_times":         {"agent": "userId"},
	"visits":              {"id": "visitId"},
	"activity":            {"time": "timestamp"},
}

// backToContract turns one v2 element into the contract's, failing when a
// v2 key is missing or a contract key survived.
func backToContract(t *testing.T, route, kind string, v any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: element %v is not an object", route, v)
	}
	out := map[string]any{}
	for k, val := range m {
		out[k] = val
	}
	for v2Key, contractKey := range v2Renames[kind] {
		if _, renamed := v2Renames[kind][contractKey]; !renamed { // id→x and x→id both exist in a kind only if swapped
			if _, stale := m[contractKey]; stale {
				t.Fatalf("%s: element still has the contract's key %q: %v", route, contractKey, m)
			}
		}
		val, ok := m[v2Key]
		if !ok {
			t.Fatalf("%s: element lacks the v2 key %q: %v", route, v2Key, m)
		}
		delete(out, v2Key)
		out[contractKey] = val
	}
	if kind == "visits" || kind == "cobrowse" {
		if _, ok := m["durationSeconds"].(json.Number); !ok {
			t.Fatalf("%s: durationSeconds %#v is not a JSON number", route, m["durationSeconds"])
		}
	}
	return out
}

// numbersBack turns the JSON numbers of a report's results back into the
// contract's decimal strings, failing on a string.
func numbersBack(t *testing.T, route string, v any, depth int) any {
	t.Helper()
	if depth == 0 {
		n, ok := v.(json.Number)
		if !ok {
			t.Fatalf("%s: value %#v is not a JSON number", route, v)
		}
		return string(n)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %v is not an object", route, v)
	}
	for k, val := range m {
		m[k] = numbersBack(t, route, val, depth-1)
	}
	return m
}

func v2Days(from, to civil.Date) string {
	return fmt.Sprintf(`{"period":"CUSTOM","fromDate":%q,"toDate":%q}`, from, to)
}

type dialectCase struct {
	name                   string
	method                 string
	v2Path, contractPath   string
	v2Body, contractBody   string
	kind                   string
	shape                  string // report, realtime, array, list, activity
	contractPage, v2PageNo int    // list and activity: the page asked for
}

// dialectCases covers every route of CONTRACT.md, in both forms.
func dialectCases(t *testing.T, dw *dialectWorld, token string, loc *time.Location) []dialectCase {
	from, to := d0.AddDays(9), d0.AddDays(12)
	v2f, cf := v2Days(from, to), days(from, to, loc)
	var cs []dialectCase
	for report, r := range reports {
		metric, g := r.metrics[0], r.groupBys[len(r.groupBys)-1]
		gb := ""
		if g != "" {
			gb = fmt.Sprintf(`,"groupBy":%q`, g)
		}
		metrics := fmt.Sprintf(`{"metrics":[{"metricName":%q%s}],`, metric, gb)
		cs = append(cs, dialectCase{name: "report " + report, method: "POST",
			v2Path: "/reports/" + report, contractPath: "/report/" + report,
			v2Body: metrics + `"dateFilter":` + v2f + "}", contractBody: metrics + `"dateFilter":` + cf + "}",
			kind: "reports", shape: "report"})
	}
	rt := `{"metrics":[{"metricName":"ONLINE_AGENTS"},{"metricName":"OPEN_CONVERSATIONS"},{"metricName":"QUEUE_SIZE"},{"metricName":"ACTIVE_SESSIONS"}]}`
	cs = append(cs, dialectCase{name: "realtime", method: "POST", v2Path: "/reports/realtime", contractPath: "/report/realtime",
		v2Body: rt, contractBody: rt, kind: "realtime", shape: "realtime"})
	for path, kind := range map[string]string{
		"/agent/times/online": "agent_times", "/agent/times/loggedin": "agent_times",
		"/chat/conversations": "conversations", "/chat/agents": "conversation_agents",
		"/visit/table": "visits", "/cobrowse/table": "cobrowse",
	} {
		cs = append(cs, dialectCase{name: "detail " + path, method: "POST", v2Path: "/reports" + path, contractPath: "/report" + path,
			v2Body: v2f, contractBody: cf, kind: kind, shape: "array"})
	}
	var convs []map[string]any
	dw.contract.ok(t, "POST", "/report/chat/conversations", token, cf, &convs)
	id := convs[len(convs)/2]["conversationId"].(string)
	cs = append(cs, dialectCase{name: "messages", method: "GET",
		v2Path: "/reports/chat/messages?conversation=" + id, contractPath: "/report/chat/messages?conversationId=" + id,
		kind: "messages", shape: "array"})
	for _, l := range []struct {
		v2, contract, kind string
		page, size         int
	}{
		{"/users", "/user", "users", 1, 10}, {"/users", "/user", "users", 2, 10},
		{"/teams?unused=x&", "/team?unused=x&", "teams", 1, 25},
		{"/customers", "/customer", "customers", 3, 7}, {"/customers", "/customer", "customers", 2, 25},
		{"/roles", "/role", "roles", 1, 25},
	} {
		sep := "?"
		if strings.HasSuffix(l.v2, "&") {
			sep = ""
		}
		cs = append(cs, dialectCase{name: fmt.Sprintf("list %s page %d", l.kind, l.page), method: "GET",
			v2Path:       fmt.Sprintf("%s%spage=%d&size=%d", l.v2, sep, l.page, l.size),
			contractPath: fmt.Sprintf("%s%spageNumber=%d&pageSize=%d", l.contract, sep, l.page-1, l.size),
			kind:         l.kind, shape: "list", contractPage: l.page - 1, v2PageNo: l.page})
	}
	cs = append(cs, dialectCase{name: "rules", method: "GET", v2Path: "/rules", contractPath: "/rule", kind: "rules", shape: "array"})
	for _, log := range []string{"call", "livechat", "status", "liveview"} {
		cs = append(cs, dialectCase{name: "activity " + log, method: "GET",
			v2Path: "/audit/" + log + "?p=1&n=7", contractPath: "/activity/" + log + "?page=1&size=7&sort=timestamp,desc",
			kind: "activity", shape: "activity", contractPage: 1, v2PageNo: 1})
	}
	return cs
}

// TestV2AnswersTheContractsData asks every route in both forms, for two
// tenants in different zones, and requires the same data after renaming the
// v2 answer back.
func TestV2AnswersTheContractsData(t *testing.T) {
	dw := newDialectWorld(t, nil)
	newYork, _ := time.LoadLocation("America/New_York")
	for _, tenant := range []struct {
		token string
		loc   *time.Location
	}{{acme, vienna}, {"globex-token", newYork}} {
		for _, c := range dialectCases(t, dw, tenant.token, tenant.loc) {
			t.Run(tenant.token+"/"+c.name, func(t *testing.T) {
				want := decode(t, "contract", dw.contract.ok(t, c.method, c.contractPath, tenant.token, c.contractBody, nil))
				got := decode(t, "v2", dw.v2.ok(t, c.method, c.v2Path, tenant.token, c.v2Body, nil))
				switch c.shape {
				case "report", "realtime":
					m := got.(map[string]any)
					depth := 2
					if c.shape == "realtime" {
						depth = 1
					}
					m["results"] = numbersBack(t, c.v2Path, m["results"], depth)
					if len(want.(map[string]any)["results"].(map[string]any)) == 0 {
						t.Fatalf("contract answer is empty: %v", want)
					}
				case "array":
					rows, ok := got.([]any)
					if !ok || len(rows) == 0 {
						t.Fatalf("v2 answer is not a non-empty array: %.200v", got)
					}
					for i := range rows {
						rows[i] = backToContract(t, c.v2Path, c.kind, rows[i])
					}
				case "list":
					m := got.(map[string]any)
					if len(m) != 2 || m["page"] != json.Number(fmt.Sprint(c.v2PageNo)) {
						t.Fatalf("v2 list answer %v: want exactly page=%d and items", keysOf(m), c.v2PageNo)
					}
					items, ok := m["items"].([]any)
					if !ok || len(items) == 0 {
						t.Fatalf("items = %.200v, want a non-empty array", m["items"])
					}
					for i := range items {
						items[i] = backToContract(t, c.v2Path, c.kind, items[i])
					}
					got = map[string]any{"page": json.Number(fmt.Sprint(c.contractPage)), "results": items}
				case "activity":
					m := got.(map[string]any)
					if want := "data,last,number,size,totalElements,totalPages"; strings.Join(keysOf(m), ",") != want {
						t.Fatalf("v2 activity answer has %v, want %s", keysOf(m), want)
					}
					events := m["data"].(map[string]any)["events"].([]any)
					if len(events) == 0 {
						t.Fatal("no events")
					}
					for i := range events {
						events[i] = backToContract(t, c.v2Path, c.kind, events[i])
					}
					page := want.(map[string]any)
					for _, k := range []string{"numberOfElements", "first", "empty"} {
						delete(page, k)
					}
					page["data"] = map[string]any{"events": page["content"]}
					delete(page, "content")
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("v2 %s %s renamed back differs from contract %s:\n v2: %.600v\nwant: %.600v", c.method, c.v2Path, c.contractPath, got, want)
				}
			})
		}
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// v2Page fetches a v2 list or activity page: its elements and the whole answer.
func v2Page(t *testing.T, w *world, path string) ([]any, map[string]any) {
	t.Helper()
	m := decode(t, path, w.ok(t, "GET", path, acme, "", nil)).(map[string]any)
	if items, ok := m["items"].([]any); ok {
		return items, m
	}
	return m["data"].(map[string]any)["events"].([]any), m
}

// TestV2ListTrap: a client sending the contract's pageNumber/pageSize gets
// the first 25 elements of page 1, whatever page it asks for.
func TestV2ListTrap(t *testing.T) {
	dw := newDialectWorld(t, nil)
	var all struct {
		Results []map[string]any `json:"results"`
	}
	dw.contract.ok(t, "GET", "/customer?pageSize=100", acme, "", &all)
	if len(all.Results) <= 50 {
		t.Fatalf("only %d customers: the trap needs more than two pages of 25", len(all.Results))
	}
	first, m := v2Page(t, dw.v2, "/customers?pageNumber=0&pageSize=100")
	if len(first) != 25 || m["page"] != json.Number("1") {
		t.Fatalf("pageNumber=0&pageSize=100: %d items, page %v; want 25 items of page 1", len(first), m["page"])
	}
	for k := range first {
		if first[k].(map[string]any)["id"] != all.Results[k]["id"] {
			t.Fatalf("item %d is %v, want the contract's %v", k, first[k].(map[string]any)["id"], all.Results[k]["id"])
		}
	}
	for _, q := range []string{"pageNumber=1&pageSize=100", "pageNumber=2&pageSize=25", "pageNumber=3", "offset=30", ""} {
		got, m := v2Page(t, dw.v2, "/customers?"+q)
		if !reflect.DeepEqual(got, first) || m["page"] != json.Number("1") {
			t.Errorf("/customers?%s: not the first 25 items of page 1 (page %v, %d items)", q, m["page"], len(got))
		}
	}
	// The v2 names do page.
	second, m := v2Page(t, dw.v2, "/customers?page=2&size=25")
	if len(second) != 25 || m["page"] != json.Number("2") || second[0].(map[string]any)["id"] != all.Results[25]["id"] {
		t.Errorf("page=2&size=25: page %v, %d items starting %v; want page 2 from customer 25 (%v)",
			m["page"], len(second), second[0].(map[string]any)["id"], all.Results[25]["id"])
	}
}

// TestV2ActivityTrap: a client sending page= gets page 0 forever, and sort
// never reverses the order.
func TestV2ActivityTrap(t *testing.T) {
	dw := newDialectWorld(t, nil)
	first, m := v2Page(t, dw.v2, "/audit/status")
	if len(first) != 50 || m["number"] != json.Number("0") || m["size"] != json.Number("50") {
		t.Fatalf("no p: %d events, number %v, size %v; want 50 of page 0", len(first), m["number"], m["size"])
	}
	for _, q := range []string{"page=1", "page=5&size=10", "page=2&size=100&sort=timestamp,desc", "sort=timestamp,asc"} {
		got, m := v2Page(t, dw.v2, "/audit/status?"+q)
		if !reflect.DeepEqual(got, first) || m["number"] != json.Number("0") {
			t.Errorf("/audit/status?%s: not page 0 (number %v)", q, m["number"])
		}
	}
	next, m := v2Page(t, dw.v2, "/audit/status?p=1&sort=timestamp,asc")
	if m["number"] != json.Number("1") || reflect.DeepEqual(next, first) {
		t.Fatalf("p=1: number %v, same as page 0: %v", m["number"], reflect.DeepEqual(next, first))
	}
	// Newest first across the two pages, whatever sort said.
	var prev string
	for i, e := range append(first, next...) {
		at := e.(map[string]any)["time"].(string)
		if i > 0 && at > prev {
			t.Fatalf("event %d at %s is newer than the one before (%s): not newest first", i, at, prev)
		}
		prev = at
	}
}

// TestV2SizeCaps: lists serve at most 25, activity at most 50, with the
// activity page's figures computed for the capped size.
func TestV2SizeCaps(t *testing.T) {
	dw := newDialectWorld(t, nil)
	for _, q := range []string{"size=100", "size=26", "size=1000000"} {
		if items, _ := v2Page(t, dw.v2, "/customers?page=1&"+q); len(items) != 25 {
			t.Errorf("/customers?%s: %d items, want 25", q, len(items))
		}
	}
	if items, _ := v2Page(t, dw.v2, "/customers?page=1&size=7"); len(items) != 7 {
		t.Errorf("size=7: %d items", len(items))
	}
	var page struct {
		TotalElements int `json:"totalElements"`
	}
	dw.contract.ok(t, "GET", "/activity/livechat?size=1", acme, "", &page)
	if page.TotalElements <= 100 {
		t.Fatalf("only %d livechat events", page.TotalElements)
	}
	events, m := v2Page(t, dw.v2, "/audit/livechat?p=1&n=500")
	wantPages := (page.TotalElements + 49) / 50
	if len(events) != 50 || m["size"] != json.Number("50") || m["number"] != json.Number("1") ||
		m["totalPages"] != json.Number(fmt.Sprint(wantPages)) || m["totalElements"] != json.Number(fmt.Sprint(page.TotalElements)) ||
		m["last"] != false {
		t.Errorf("n=500: %d events, size %v, number %v, totalPages %v (want %d), totalElements %v (want %d), last %v",
			len(events), m["size"], m["number"], m["totalPages"], wantPages, m["totalElements"], page.TotalElements, m["last"])
	}
	_, m = v2Page(t, dw.v2, fmt.Sprintf("/audit/livechat?p=%d&n=500", wantPages-1))
	if m["last"] != true {
		t.Errorf("page %d of %d: last = %v", wantPages-1, wantPages, m["last"])
	}
}

// errorBody requires the contract's error format naming the v2 path.
func errorBody(t *testing.T, w *world, method, path, token, body string, status int) map[string]any {
	t.Helper()
	code, b, _ := w.do(t, method, path, token, body)
	if code != status {
		t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, code, b, status)
	}
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s %s: error body %s: %v", method, path, b, err)
	}
	wantPath := engagesim.Prefix + strings.SplitN(path, "?", 2)[0]
	if strings.Join(keysOf(e), ",") != "error,message,path,status,timestamp" || e["status"] != float64(status) ||
		e["path"] != wantPath || !isoRE.MatchString(e["timestamp"].(string)) || e["message"] == "" {
		t.Fatalf("%s %s: error body %s, want the contract's format with path %s", method, path, b, wantPath)
	}
	return e
}

func TestV2BadDateFilterIs400(t *testing.T) {
	dw := newDialectWorld(t, nil)
	good := v2Days(d0, dEnd)
	// The good filter works, so the 400s below are the filter's.
	dw.v2.ok(t, "POST", "/reports/chat/conversations", acme, good, nil)
	dw.v2.ok(t, "POST", "/reports/chat", acme, `{"metrics":[{"metricName":"CONVERSATIONS"}],"dateFilter":`+good+`}`, nil)
	for _, f := range []string{
		`{"period":"CUSTOM","toDate":"2026-11-02"}`,
		`{"period":"CUSTOM","fromDate":"2026-11-01"}`,
		`{"period":"CUSTOM","fromDate":"2026/11/01","toDate":"2026-11-02"}`,
		`{"period":"CUSTOM","fromDate":"2026-11-01","toDate":"2026-11-31"}`,
		`{"period":"CUSTOM","fromDate":1793577600000,"toDate":"2026-11-02"}`,
		`{"period":"CUSTOM","fromDate":"","toDate":"2026-11-02"}`,
		`{"period":"CUSTOM","fromDate":"2026-11-02","toDate":"2026-11-02"}`,
		`{"period":"CUSTOM","fromDate":"2026-11-03","toDate":"2026-11-02"}`,
		`{"fromDate":"2026-11-01","toDate":"2026-11-02"}`,
		`{"period":"LAST_7_DAYS","fromDate":"2026-11-01","toDate":"2026-11-02"}`,
		days(d0, dEnd, vienna), // the contract's form
		`[]`, `not json`, ``,
	} {
		errorBody(t, dw.v2, "POST", "/reports/chat/conversations", acme, f, 400)
		errorBody(t, dw.v2, "POST", "/reports/agent/times/online", acme, f, 400)
		if strings.HasPrefix(f, "{") {
			errorBody(t, dw.v2, "POST", "/reports/agent", acme, `{"metrics":[{"metricName":"ONLINE_TIME","groupBy":"AGENT"}],"dateFilter":`+f+`}`, 400)
		}
	}
}

// TestV2ContractPathsAre404: the contract's paths, and others v2 does not
// have, are 404 in the contract's error format.
func TestV2ContractPathsAre404(t *testing.T) {
	dw := newDialectWorld(t, nil)
	body := days(d0, dEnd, vienna)
	for _, r := range []struct{ method, path string }{
		{"POST", "/report/agent"}, {"POST", "/report/chat/conversations"}, {"POST", "/report/realtime"},
		{"GET", "/report/chat/messages?conversationId=x"}, {"GET", "/activity/status"},
		{"GET", "/user"}, {"GET", "/team?unused=x"}, {"GET", "/customer"}, {"GET", "/role"}, {"GET", "/rule"},
		{"GET", "/reports"}, {"GET", "/audit"}, {"GET", "/users/1"}, {"GET", "/"}, {"GET", ""},
		{"POST", "/reports/nothing"}, {"GET", "/audit/nothing"},
	} {
		errorBody(t, dw.v2, r.method, r.path, acme, body, 404)
	}
	// The same contract paths do answer under the contract.
	dw.contract.ok(t, "GET", "/activity/status", acme, "", nil)
	dw.contract.ok(t, "POST", "/report/chat/conversations", acme, body, nil)
}

func TestV2PagingParametersAreValidated(t *testing.T) {
	dw := newDialectWorld(t, nil)
	for _, p := range []string{"/users?page=0", "/users?page=-1", "/users?page=x", "/users?size=0", "/customers?size=x",
		"/audit/call?p=-1", "/audit/call?p=x", "/audit/call?n=0"} {
		errorBody(t, dw.v2, "GET", p, acme, "", 400)
	}
	dw.v2.ok(t, "GET", "/users?page=1&size=1", acme, "", nil)
	dw.v2.ok(t, "GET", "/audit/call?p=0&n=1", acme, "", nil)
}

// TestV2PassesErrorsAndFaultsThrough: 401, 429 with Retry-After, truncated
// bodies and resets happen under v2 as under the contract.
func TestV2PassesErrorsAndFaultsThrough(t *testing.T) {
	dw := newDialectWorld(t, nil)
	errorBody(t, dw.v2, "GET", "/users", "wrong-token", "", 401)
	errorBody(t, dw.v2, "GET", "/nothing", "wrong-token", "", 401)
	e := errorBody(t, dw.v2, "GET", "/reports/chat/messages?conversation=000000000000000000000000", acme, "", 404)
	if strings.Contains(e["message"].(string), "/report/") {
		t.Errorf("message %q names the contract's path", e["message"])
	}
	errorBody(t, dw.v2, "GET", "/reports/chat/messages?conversationId=x", acme, "", 400) // v2 ignores conversationId
	errorBody(t, dw.v2, "POST", "/reports/chat", acme, `{"metrics":[],"dateFilter":`+v2Days(d0, dEnd)+`}`, 400)

	for _, f := range []struct {
		faults engagesim.Faults
		check  func(t *testing.T, resp *http.Response, err error)
	}{
		{engagesim.Faults{Rate429: 1, RetryAfter: 7 * time.Second}, func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
				t.Errorf("429 fault: %v %v", resp, err)
			}
		}},
		{engagesim.Faults{Rate5xx: 1}, func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 503 {
				t.Errorf("5xx fault: %v %v", resp, err)
			}
		}},
		{engagesim.Faults{RateTruncate: 1}, func(t *testing.T, resp *http.Response, err error) {
			if err == nil {
				_, err = io.ReadAll(resp.Body)
			}
			if err == nil {
				t.Error("truncate fault: the body read whole")
			}
		}},
		{engagesim.Faults{RateReset: 1}, func(t *testing.T, resp *http.Response, err error) {
			if err == nil {
				t.Errorf("reset fault: got %d", resp.StatusCode)
			}
		}},
	} {
		dw := newDialectWorld(t, func(c *engagesim.Config) { c.Days = 2; c.Faults = f.faults })
		req, _ := http.NewRequest("GET", dw.v2.base+engagesim.Prefix+"/users?page=1", nil)
		req.Header.Set("Authorization", "Bearer "+acme)
		tr := &http.Transport{DisableKeepAlives: true}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		f.check(t, resp, err)
		if resp != nil {
			resp.Body.Close()
		}
		tr.CloseIdleConnections()
	}
}

// TestWithDialectWrapsAnyContractHandler: the exported wrapper over a
// contract server serves v2; the contract dialect is the handler itself;
// unknown dialect names are refused, naming the allowed ones.
func TestWithDialectWrapsAnyContractHandler(t *testing.T) {
	sim, err := engagesim.New(engagesim.Config{Seed: 11, Days: 3, Now: now, Tenants: engagesim.DefaultTenants(2)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(engagesim.WithDialect(sim.Handler(), engagesim.DialectV2, sim.Tenants()))
	defer srv.Close()
	w := &world{sim, srv.URL}
	var rows []map[string]any
	w.ok(t, "POST", "/reports/chat/conversations", acme, v2Days(dEnd.AddDays(-3), dEnd), &rows)
	if len(rows) == 0 || rows[0]["id"] == nil || rows[0]["startedAt"] == nil {
		t.Fatalf("v2 conversations: %.300v", rows)
	}
	errorBody(t, w, "POST", "/report/chat/conversations", acme, days(dEnd.AddDays(-3), dEnd, vienna), 404)

	if h := engagesim.WithDialect(sim.Handler(), engagesim.DialectContract, nil); h != sim.Handler() {
		t.Error("the contract dialect wraps the handler")
	}
	for _, name := range []string{"", "contract"} {
		s, err := engagesim.New(engagesim.Config{Seed: 1, Days: 1, Now: now, Dialect: name})
		if err != nil || s.Handler() != s.ContractHandler() {
			t.Errorf("Dialect %q: %v, or Handler is not the contract's", name, err)
		}
	}
	_, err = engagesim.New(engagesim.Config{Seed: 1, Days: 1, Now: now, Dialect: "v3"})
	if err == nil || !strings.Contains(err.Error(), "contract, v2") {
		t.Errorf("Dialect v3: %v, want an error naming contract, v2", err)
	}
}

// TestDialectV2DocumentsItsData: DIALECT-V2.md names every rename, path,
// parameter and cap DialectV2 holds, so the file a config is written from
// cannot drift from what the simulator serves.
func TestDialectV2DocumentsItsData(t *testing.T) {
	b, err := os.ReadFile("DIALECT-V2.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	d := engagesim.DialectV2
	want := []string{"?" + d.ConversationParam + "=<id>", `"` + d.DateFilter.PeriodKey + `": "` + d.DateFilter.Period + `"`,
		`"` + d.DateFilter.FromKey + `"`, `"` + d.DateFilter.ToKey + `"`,
		"query `" + d.Lists.PageParam + "`", "query `" + d.Lists.SizeParam + "`", fmt.Sprintf("**%d**", d.Lists.MaxSize),
		"query `" + d.Activity.PageParam + "`", "query `" + d.Activity.SizeParam + "`", fmt.Sprintf("**%d**", d.Activity.MaxSize),
		"`" + d.Activity.Items + "`", `"` + d.Lists.Items + `": [`}
	for _, p := range d.Paths {
		want = append(want, "`"+p.Dialect)
	}
	for kind, renames := range d.Fields {
		for _, r := range renames {
			want = append(want, "`"+kind+"`", "`"+r.Contract+"`→`"+r.Dialect+"`")
		}
		if len(renames) != len(v2Renames[kind]) {
			t.Errorf("%s: DialectV2 renames %v, the test's spec %v", kind, renames, v2Renames[kind])
		}
	}
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("DIALECT-V2.md does not say %s", w)
		}
	}
	if len(d.Fields) != len(v2Renames) {
		t.Errorf("DialectV2 renames %d kinds, the test's spec %d", len(d.Fields), len(v2Renames))
	}
}
