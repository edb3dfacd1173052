package engagesim_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

type conversation struct {
	ConversationID string    `json:"conversationId"`
	Status         string    `json:"status"`
	Start          time.Time `json:"start"`
	UserIDs        []string  `json:"userIds"`
	MessageCount   int       `json:"messageCount"`
}

// perDay reads a report into local day -> group -> value.
func perDay(t *testing.T, w *world, report, metric, groupBy string) map[string]map[string]float64 {
	t.Helper()
	var resp struct {
		Results map[string]map[string]string `json:"results"`
	}
	w.ok(t, "POST", "/report/"+report, acme, reportReq(metric, groupBy, d0, dEnd, vienna), &resp)
	out := map[string]map[string]float64{}
	for day, groups := range resp.Results {
		out[day] = map[string]float64{}
		for g, v := range groups {
			out[day][g], _ = strconv.ParseFloat(v, 64)
		}
	}
	return out
}

func TestChatReportReconcilesWithConversations(t *testing.T) {
	w := newWorld(t, nil)
	var convs []conversation
	w.ok(t, "POST", "/report/chat/conversations", acme, days(d0, dEnd, vienna), &convs)

	started, done, byAgent := map[string]float64{}, map[string]float64{}, map[string]map[string]float64{}
	for _, c := range convs {
		day := civil.Of(c.Start, vienna).Slash()
		started[day]++
		if c.Status == "DONE" {
			done[day]++
		}
		for _, u := range c.UserIDs {
			if byAgent[day] == nil {
				byAgent[day] = map[string]float64{}
			}
			byAgent[day][u]++
		}
	}
	conversations := perDay(t, w, "chat", "CONVERSATIONS", "")
	doneReport := perDay(t, w, "chat", "DONE", "")
	if len(conversations) != 14 {
		t.Errorf("CONVERSATIONS has %d days, want 14", len(conversations))
	}
	for day, n := range started {
		if got := conversations[day]["CONVERSATIONS"]; got != n {
			t.Errorf("%s: CONVERSATIONS %v, but %v conversations started that day", day, got, n)
		}
		if got := doneReport[day]["DONE"]; got != done[day] {
			t.Errorf("%s: DONE %v, but %v of its conversations are DONE", day, got, done[day])
		}
	}
	agentConvs := perDay(t, w, "agent", "CONVERSATIONS", "AGENT")
	if fmt.Sprint(agentConvs) != fmt.Sprint(byAgent) {
		t.Errorf("agent CONVERSATIONS differ from the conversations' userIds:\n%v\n%v", agentConvs, byAgent)
	}
	// Every conversation matches one routing rule.
	for day, groups := range perDay(t, w, "rule", "RULE_MATCHES", "RULE") {
		sum := 0.0
		for _, v := range groups {
			sum += v
		}
		if sum != started[day] {
			t.Errorf("%s: %v rule matches for %v conversations", day, sum, started[day])
		}
	}
}

// allEvents pages a log back to its start at a fixed clock.
func allEvents(t *testing.T, w *world, log string) []string {
	t.Helper()
	var out []string
	for page := 0; ; page++ {
		var p springPage
		w.ok(t, "GET", fmt.Sprintf("/activity/%s?page=%d&size=1000", log, page), acme, "", &p)
		for _, e := range p.Content {
			out = append(out, civil.Of(e.Timestamp, vienna).Slash()+" "+*e.UserID)
		}
		if p.Last {
			return out
		}
	}
}

func TestAgentMessagesReconcileWithTheLivechatLog(t *testing.T) {
	w := newWorld(t, nil)
	fromLog := map[string]map[string]float64{}
	for _, e := range allEvents(t, w, "livechat") {
		var day, user string
		fmt.Sscan(e, &day, &user)
		if day < d0.Slash() {
			continue
		}
		if fromLog[day] == nil {
			fromLog[day] = map[string]float64{}
		}
		fromLog[day][user]++
	}
	if got := perDay(t, w, "agent", "MESSAGES_SENT", "AGENT"); fmt.Sprint(got) != fmt.Sprint(fromLog) {
		t.Errorf("MESSAGES_SENT differs from MESSENGER_SEND events:\nreport %v\nlog    %v", got, fromLog)
	}
}

func TestLateUpdatesAppearWhenTheClockMoves(t *testing.T) {
	w := newWorld(t, nil)
	yesterday := civil.Of(now, vienna).AddDays(-1)
	body := days(yesterday, yesterday.AddDays(1), vienna)
	var before, after []conversation
	w.ok(t, "POST", "/report/chat/conversations", acme, body, &before)
	w.sim.Advance(36 * time.Hour)
	w.ok(t, "POST", "/report/chat/conversations", acme, body, &after)
	if len(before) != len(after) {
		t.Fatalf("the same window holds %d conversations, then %d", len(before), len(after))
	}
	changed := 0
	for i := range before {
		if before[i].Status != after[i].Status || before[i].MessageCount != after[i].MessageCount {
			changed++
		}
	}
	if changed == 0 {
		t.Error("no conversation of yesterday changed after 36 more hours")
	}
	var today []conversation
	w.ok(t, "POST", "/report/chat/conversations", acme, days(civil.Of(now, vienna).AddDays(1), civil.Of(now, vienna).AddDays(2), vienna), &today)
	if len(today) == 0 {
		t.Error("no new conversations appeared on the next day")
	}
}

// TestActivityPagingWhileEventsArrive pages the status log newest first while
// the clock moves between pages: later pages shift, so some events come
// twice, but every event older than the first page's moment is seen.
func TestActivityPagingWhileEventsArrive(t *testing.T) {
	w := newWorld(t, func(c *engagesim.Config) { c.Scale = 60 })
	start := w.sim.Now()
	seen := map[string]int{}
	var oldest time.Time
	for page := 0; page < 12; page++ {
		var p springPage
		w.ok(t, "GET", fmt.Sprintf("/activity/status?page=%d&size=50", page), acme, "", &p)
		for _, e := range p.Content {
			seen[e.ID]++
			oldest = e.Timestamp
		}
		w.sim.Advance(20 * time.Minute)
	}
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	if twice == 0 {
		t.Error("no event was seen twice: the clock did not push events to later pages")
	}
	// Ask for everything between the oldest event reached and the start
	// moment at a clock that no longer moves: each must have been seen.
	var all springPage
	w.ok(t, "GET", "/activity/status?page=0&size=1000", acme, "", &all)
	checked := 0
	for p := 0; ; p++ {
		for _, e := range all.Content {
			if !e.Timestamp.Before(start) || e.Timestamp.Before(oldest) {
				continue
			}
			checked++
			if seen[e.ID] == 0 {
				t.Fatalf("event %s at %v was skipped", e.ID, e.Timestamp)
			}
		}
		if all.Last || all.Content[len(all.Content)-1].Timestamp.Before(oldest) {
			break
		}
		w.ok(t, "GET", fmt.Sprintf("/activity/status?page=%d&size=1000", p+1), acme, "", &all)
	}
	if checked < 300 {
		t.Errorf("only %d events checked", checked)
	}
}

func TestTruthMatchesTheAPI(t *testing.T) {
	w := newWorld(t, nil)
	var convs []conversation
	w.ok(t, "POST", "/report/chat/conversations", acme, days(d0, dEnd, vienna), &convs)
	msgs := 0
	for _, c := range convs {
		msgs += c.MessageCount
	}
	tr, err := w.sim.Truth("acme", "conversations", d0, dEnd)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Rows != len(convs) || tr.Total != strconv.Itoa(msgs) {
		t.Errorf("truth %+v, API has %d conversations with %d messages", tr, len(convs), msgs)
	}
	var truth engagesim.Truth
	resp, err := http.Get(w.base + "/__sim/truth?tenant=acme&stream=chat_conversations_by_channel&from=2026-10-21&to=2026-11-04")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&truth)
	resp.Body.Close()
	if truth.Rows == 0 || truth.Total != strconv.Itoa(len(convs)) {
		t.Errorf("chat_conversations_by_channel truth = %+v, want total %d", truth, len(convs))
	}
	resp, err = http.Get(w.base + "/__sim/truth?tenant=acme&stream=nope&from=2026-10-21&to=2026-11-04")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown stream: %v %v, want 404", resp.StatusCode, err)
	}
}

func TestSameConfigByteIdenticalAnswers(t *testing.T) {
	hash := func() string {
		w := newWorld(t, nil)
		h := sha256.New()
		var names []string
		for report := range reports {
			names = append(names, report)
		}
		sort.Strings(names) // map order is random; the hash must not be
		for _, report := range names {
			r := reports[report]
			for _, m := range r.metrics {
				h.Write(w.ok(t, "POST", "/report/"+report, acme, reportReq(m, r.groupBys[len(r.groupBys)-1], d0, dEnd, vienna), nil))
			}
		}
		body := days(d0, dEnd, vienna)
		for _, p := range []string{"/report/chat/conversations", "/report/chat/agents", "/report/agent/times/online", "/report/visit/table", "/report/cobrowse/table"} {
			h.Write(w.ok(t, "POST", p, acme, body, nil))
		}
		for _, p := range []string{"/user", "/team", "/customer?pageSize=100", "/role", "/rule", "/activity/status?size=500", "/activity/livechat?page=3", "/activity/call", "/activity/liveview"} {
			h.Write(w.ok(t, "GET", p, "globex-token", "", nil))
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	if a, b := hash(), hash(); a != b {
		t.Errorf("same config, different answers: %s vs %s", a, b)
	}
}
