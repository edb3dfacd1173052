package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// The requests of the large backfill, by stream group, and what they would
// cost at the API's pace: the simulator counts the requests it receives by
// route (GET /__sim/requests), the harness reads the count before and after
// the first run of the large backfill.

const (
	// pacedRate is the API's rate per token, requests per second: a real
	// tenant's backfill waits for it, the unpaced bench does not.
	pacedRate = 5
	// targetYearRequests bounds a year of every stream but messages.
	targetYearRequests = 1500

	groupMessages = "messages"
	groupLists    = "lists"
	groupOther    = "other" // a route no stream of the catalog asks
)

// groupOrder is the order of the groups in the report; a group of the
// catalog not named here follows them.
var groupOrder = []string{"reports", "details", groupMessages, "activity", groupLists, "realtime"}

// simRequests reads the simulator's count of the requests it received, by
// route ("GET /activity/call"), whatever it answered.
func (b *bench) simRequests(ctx context.Context) (map[string]int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.simURL+"/__sim/requests", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /__sim/requests: %s: %s", resp.Status, body)
	}
	var out map[string]int
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /__sim/requests: %w", err)
	}
	return out, nil
}

// route is a stream's request as the simulator counts it: method and path,
// the path's query left out.
func route(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	return method + " " + path
}

// routeGroups maps every route the streams ask to its stream group
// (Stream.Group), except that a messages stream's per-conversation requests
// make a group of their own. The conversation list a messages stream asks
// first (IDsPath) is the conversations stream's route, so it stays with
// that stream's group.
func routeGroups(streams []catalog.Stream) map[string]string {
	out := map[string]string{}
	for _, s := range streams {
		if s.Kind != catalog.KindMessages {
			out[route(s.Method, s.Path)] = s.Group
		}
	}
	for _, s := range streams {
		if s.Kind != catalog.KindMessages {
			continue
		}
		out[route(s.Method, s.Path)] = groupMessages
		if s.IDsPath != "" {
			if _, ok := out[route(s.IDsMethod, s.IDsPath)]; !ok {
				out[route(s.IDsMethod, s.IDsPath)] = s.Group
			}
		}
	}
	return out
}

// requestCount is what one run asked of the simulator.
type requestCount struct {
	days    int
	byRoute map[string]int // requests received during the run
	routes  map[string]string
	byGroup map[string]int
	groups  []string // in report order, every group of the catalog (and other, if any)
	// fromHistory: byGroup holds the run history's requests per stream
	// (etl.run_stream.requests), received the simulator's total; probes
	// the difference (planning's counts and the estimate).
	fromHistory     bool
	received, probe int
}

// byStream replaces the groups' figures with the run history's: lines of
// "stream requests", each stream in its catalog group, the messages stream
// (conversation lists and all) in messages.
func (c *requestCount) byStream(streams []catalog.Stream, lines string) {
	group := map[string]string{}
	for _, s := range streams {
		group[s.Name] = s.Group
		if s.Kind == catalog.KindMessages {
			group[s.Name] = groupMessages
		}
	}
	c.received = c.total()
	c.byGroup = map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		var name string
		var n int
		if _, err := fmt.Sscan(l, &name, &n); err == nil {
			c.byGroup[cmp.Or(group[name], groupOther)] += n
		}
	}
	c.fromHistory, c.probe = true, c.received-c.total()
}

// newRequestCount is after minus before, grouped by routeGroups.
func newRequestCount(streams []catalog.Stream, before, after map[string]int, days int) requestCount {
	c := requestCount{days: days, byRoute: map[string]int{}, routes: routeGroups(streams), byGroup: map[string]int{}}
	for r, n := range after {
		if d := n - before[r]; d > 0 {
			c.byRoute[r] = d
			c.byGroup[c.group(r)] += d
		}
	}
	seen := map[string]bool{}
	for _, g := range c.routes {
		seen[g] = true
	}
	for _, g := range groupOrder {
		if seen[g] {
			c.groups = append(c.groups, g)
		}
	}
	var rest []string
	for g := range seen {
		if !slices.Contains(groupOrder, g) {
			rest = append(rest, g)
		}
	}
	sort.Strings(rest)
	c.groups = append(c.groups, rest...)
	if c.byGroup[groupOther] > 0 {
		c.groups = append(c.groups, groupOther)
	}
	return c
}

func (c requestCount) group(route string) string {
	if g, ok := c.routes[route]; ok {
		return g
	}
	return groupOther
}

func (c requestCount) total() int {
	n := 0
	for _, v := range c.byGroup {
		n += v
	}
	return n
}

// routesOf lists a group's routes: every route of the catalog in it, and
// the routes of other that were asked.
func (c requestCount) routesOf(group string) []string {
	var out []string
	for r, g := range c.routes {
		if g == group {
			out = append(out, r)
		}
	}
	if group == groupOther {
		for r := range c.byRoute {
			if c.group(r) == groupOther {
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// describe lists routes, the method written once when they share it:
// "GET /user, /team".
func describe(routes []string) string {
	var out []string
	last := ""
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		if method == last {
			out = append(out, path)
		} else {
			out = append(out, r)
		}
		last = method
	}
	return strings.Join(out, ", ")
}

// at5 is how long requests take at pacedRate requests per second.
func at5(requests int) string {
	return hoursMinutes(time.Duration(float64(requests) / pacedRate * float64(time.Second)))
}

// hoursMinutes formats a duration as "2 h 05 min", "12 min" or, under a
// minute, "40 s".
func hoursMinutes(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	m := int(math.Round(d.Minutes()))
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d min", m/60, m%60)
}

// thousands writes n with thousands separators: 1,500.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// yearTarget is the measured cell and the result of "a year of every
// stream but messages ≤ 1,500 requests": judged only when the large
// backfill is a year.
func (c requestCount) yearTarget() (measured, result string) {
	n := c.total() - c.byGroup[groupMessages]
	measured = fmt.Sprintf("%s requests in %s (%s at %d requests/s)", thousands(n), plural(c.days, "day"), at5(n), pacedRate)
	if c.days != 365 {
		return measured, "not judged: the backfill is not 365 days"
	}
	return measured, passMiss(n <= targetYearRequests)
}

// requestsReport writes the section of the report on the requests.
func (c requestCount) requestsReport(p func(string, ...any)) {
	p("## Requests of the %d-day backfill", c.days)
	p("")
	if c.fromHistory {
		p("What the (first) %d-day backfill asked, by stream group, as its run history counts each stream's requests (`etl.run_stream.requests`, retries included): each stream's `Group` in the catalog (`catalog.All()`), the messages stream in a group of its own (its conversation list per window and a request per conversation). The simulator received %s requests during the run (`GET /__sim/requests` before and after): the streams' %s and %s that planning and the estimate asked to count (the reports' counts per day, list ends, log depths). The last column is what the requests would take at %d requests/s, the API's pace per token: the bench itself runs unpaced.",
			c.days, thousands(c.received), thousands(c.total()), thousands(c.probe), pacedRate)
	} else {
		p("What the simulator received during the (first) %d-day backfill (`GET /__sim/requests` before and after), by stream group: each stream's `Group` in the catalog (`catalog.All()`), except that the messages streams' `GET` of each conversation's messages make a group of their own. The conversation list the messages stream asks for each window first (its `IDsPath`) is the route of the conversations stream, so the simulator counts both as one: they are in details, with the conversations. The last column is what the requests would take at %d requests/s, the API's pace per token: the bench itself runs unpaced.", c.days, pacedRate)
	}
	p("")
	p("| stream group | routes | requests | at %d requests/s |", pacedRate)
	p("|---|---|---|---|")
	for _, g := range c.groups {
		routes := describe(c.routesOf(g))
		if g == "details" && !c.fromHistory {
			routes += " (the conversation list of the messages stream included)"
		}
		if g == groupLists {
			routes += " (read whole, whatever the range)"
		}
		p("| %s | %s | %s | %s |", g, routes, thousands(c.byGroup[g]), at5(c.byGroup[g]))
	}
	total := c.total()
	noMessages := total - c.byGroup[groupMessages]
	noLists := noMessages - c.byGroup[groupLists]
	p("| all | | %s | %s |", thousands(total), at5(total))
	p("| all but messages | | %s | %s |", thousands(noMessages), at5(noMessages))
	p("| all but messages and lists | | %s | %s |", thousands(noLists), at5(noLists))
	p("")
	if _, result := c.yearTarget(); c.days == 365 {
		p("A year of every stream but messages: %s requests (target ≤ %s): %s.", thousands(noMessages), thousands(targetYearRequests), result)
	} else {
		p("%s of every stream but messages: %s requests (%s at %d requests/s); the target ≤ %s is for a year (365 days): not judged.", plural(c.days, "day"), thousands(noMessages), at5(noMessages), pacedRate, thousands(targetYearRequests))
	}
	p("Without the lists: %s requests (%s at %d requests/s). The lists (%s requests) are read whole whatever the range, so their cost does not depend on how many days are loaded; the rest grows with the days.",
		thousands(noLists), at5(noLists), pacedRate, thousands(c.byGroup[groupLists]))
	p("")
	p("By route:")
	p("")
	p("| route | stream group | requests |")
	p("|---|---|---|")
	var routes []string
	for r := range c.byRoute {
		routes = append(routes, r)
	}
	sort.Slice(routes, func(i, j int) bool {
		gi, gj := slices.Index(c.groups, c.group(routes[i])), slices.Index(c.groups, c.group(routes[j]))
		if gi != gj {
			return gi < gj
		}
		return routes[i] < routes[j]
	})
	for _, r := range routes {
		p("| %s | %s | %s |", r, c.group(r), thousands(c.byRoute[r]))
	}
}
