package engagesim

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// How a metric's contributions combine within a bucket.
type aggregation int

const (
	sum      aggregation = iota // counts and seconds
	mean                        // mean seconds
	distinct                    // count of distinct keys
)

// emitFn adds one contribution: at decides the local day, groups the group
// values for a groupBy (none: the contribution has no such group).
type emitFn func(at time.Time, groups func(groupBy string) []string, value float64, key string)

// metricDef computes one metric from the world.
type metricDef struct {
	agg    aggregation
	source func(t *tenant, from, to, now time.Time, emit emitFn)
}

// reportDef is one bucketed report: its metrics and the groupBys it allows
// ("" allows an ungrouped request).
type reportDef struct {
	groupBys []string
	metrics  map[string]metricDef
}

// reportDefs mirrors CONTRACT.md §3. Every metric is computed from the same
// records the detail reports, lists and activity logs show.
var reportDefs = map[string]reportDef{
	"agent": {[]string{"AGENT"}, map[string]metricDef{
		"ONLINE_TIME":    {sum, spanSeconds(func(t *tenant) []span { return t.online })},
		"LOGGED_IN_TIME": {sum, spanSeconds(func(t *tenant) []span { return t.loggedIn })},
		"CONVERSATIONS":  {sum, convMetric(func(v convView) (float64, bool) { return 1, len(v.agents) > 0 })},
		"MESSAGES_SENT":  {sum, messageMetric(true)},
	}},
	"chat": {[]string{"", "AGENT", "TEAM", "CHANNEL"}, map[string]metricDef{
		"CONVERSATIONS": {sum, convMetric(func(v convView) (float64, bool) { return 1, true })},
		"MESSAGES":      {sum, convMetric(func(v convView) (float64, bool) { return float64(v.messages), v.messages > 0 })},
		"FIRST_RESPONSE_TIME": {mean, convMetric(func(v convView) (float64, bool) {
			return v.firstResponse.Seconds(), v.firstResponse >= 0
		})},
		"CONVERSATION_DURATION": {mean, convMetric(func(v convView) (float64, bool) {
			return v.duration.Seconds(), v.status == "DONE"
		})},
		"DONE":       {sum, convMetric(func(v convView) (float64, bool) { return 1, v.status == "DONE" })},
		"UNRESOLVED": {sum, convMetric(func(v convView) (float64, bool) { return 1, v.status == "UNRESOLVED" })},
	}},
	"session": {[]string{"", "DEVICE", "BROWSER", "COUNTRY"}, map[string]metricDef{
		"SESSIONS": {sum, sessionMetric(func(t *tenant, s *session, end time.Time, now time.Time) (float64, string, bool) {
			return 1, "", true
		})},
		"SESSION_DURATION": {mean, sessionMetric(func(t *tenant, s *session, end time.Time, now time.Time) (float64, string, bool) {
			return end.Sub(s.start).Seconds(), "", !end.After(now)
		})},
		"UNIQUE_VISITORS": {distinct, sessionMetric(func(t *tenant, s *session, end time.Time, now time.Time) (float64, string, bool) {
			return 1, strconv.Itoa(int(s.visitor)), true
		})},
	}},
	"session/metrics": {[]string{"REASON"}, map[string]metricDef{
		"SESSION_METRIC": {sum, sessionMetric(func(t *tenant, s *session, end time.Time, now time.Time) (float64, string, bool) {
			return 1, "", !end.After(now)
		})},
	}},
	"visit": {[]string{"", "PATH"}, map[string]metricDef{
		"VISITS":         {sum, visitMetric(func(v visit, n int) (float64, bool) { return 1, true })},
		"VISIT_DURATION": {mean, visitMetric(func(v visit, n int) (float64, bool) { return v.end.Sub(v.start).Seconds(), true })},
		"BOUNCES":        {sum, visitMetric(func(v visit, n int) (float64, bool) { return 1, n == 1 })},
	}},
	"cobrowse": {[]string{"", "AGENT"}, map[string]metricDef{
		"COBROWSE_SESSIONS": {sum, cobrowseMetric(func(c cobrowse) float64 { return 1 })},
		"COBROWSE_DURATION": {mean, cobrowseMetric(func(c cobrowse) float64 { return c.end.Sub(c.start).Seconds() })},
	}},
	"conference": {[]string{"", "AGENT"}, map[string]metricDef{
		"CONFERENCES":         {sum, conferenceMetric(func(c conference) float64 { return 1 })},
		"CONFERENCE_DURATION": {mean, conferenceMetric(func(c conference) float64 { return c.end.Sub(c.start).Seconds() })},
		"PARTICIPANTS":        {sum, conferenceMetric(func(c conference) float64 { return float64(c.participants) })},
	}},
	"rule": {[]string{"RULE"}, map[string]metricDef{
		"RULE_MATCHES": {sum, func(t *tenant, from, to, now time.Time, emit emitFn) {
			for _, c := range t.convsStarting(from, to, now) {
				id := t.rules[c.rule].id
				emit(c.start, func(string) []string { return []string{id} }, 1, "")
			}
		}},
	}},
	"message": {[]string{"", "TYPE", "CHANNEL", "AGENT"}, map[string]metricDef{
		"MESSAGES": {sum, messageMetric(false)},
	}},
}

// realtimeMetrics are the snapshot figures of POST /report/realtime.
var realtimeMetrics = map[string]func(t *tenant, now time.Time) int{
	"ONLINE_AGENTS": func(t *tenant, now time.Time) int {
		on := map[int]bool{}
		for _, s := range t.online {
			if !s.start.After(now) && s.end.After(now) {
				on[s.agent] = true
			}
		}
		return len(on)
	},
	"OPEN_CONVERSATIONS": func(t *tenant, now time.Time) int {
		return t.countRecent(now, func(v convView) bool { return v.status != "DONE" })
	},
	"QUEUE_SIZE": func(t *tenant, now time.Time) int {
		return t.countRecent(now, func(v convView) bool { return v.status == "UNREAD" })
	},
	"ACTIVE_SESSIONS": func(t *tenant, now time.Time) int {
		n := 0
		for _, s := range t.sessionsStarting(now.Add(-maxSessionLength), now) {
			if t.sessionEnd(&s).After(now) {
				n++
			}
		}
		return n
	},
}

// countRecent counts conversations of the last three days in a state.
func (t *tenant) countRecent(now time.Time, pred func(convView) bool) int {
	n := 0
	for _, c := range t.convsStarting(now.Add(-maxConversationLength), now, now) {
		if pred(t.view(&c, now)) {
			n++
		}
	}
	return n
}

// ---------------------------------------------------------------- sources

func spanSeconds(spansOf func(*tenant) []span) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, sp := range spansOf(t) {
			sp, ok := sp.visible(now)
			if !ok || !sp.end.After(from) || !sp.start.Before(to) {
				continue
			}
			email := t.agents[sp.agent].email
			splitByDay(maxTime(sp.start, from), minTime(sp.end, to), t.loc, func(_ civil.Date, at time.Time, d time.Duration) {
				emit(at, func(string) []string { return []string{email} }, d.Seconds(), "")
			})
		}
	}
}

func convMetric(value func(convView) (float64, bool)) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, c := range t.convsStarting(from, to, now) {
			v := t.view(&c, now)
			x, ok := value(v)
			if !ok {
				continue
			}
			emit(c.start, func(groupBy string) []string {
				switch groupBy {
				case "AGENT":
					var out []string
					for _, a := range v.agents {
						out = append(out, t.agents[a].email)
					}
					return out
				case "TEAM":
					return []string{t.teams[c.team].id}
				case "CHANNEL":
					return []string{channels[c.channel]}
				}
				return nil
			}, x, "")
		}
	}
}

// messageMetric counts messages by the time they were sent; agentOnly keeps
// the messages agents sent.
func messageMetric(agentOnly bool) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, c := range t.convsStarting(from.Add(-maxConversationLength), to, now) {
			for _, m := range t.timeline(&c).msgs {
				if m.at.Before(from) || !m.at.Before(to) || !m.at.Before(now) || (agentOnly && m.fromCustomer) {
					continue
				}
				emit(m.at, func(groupBy string) []string {
					switch groupBy {
					case "AGENT":
						if m.fromCustomer {
							return nil
						}
						return []string{t.agents[m.agent].email}
					case "TYPE":
						return []string{messageTypes[m.typ]}
					case "CHANNEL":
						return []string{channels[c.channel]}
					}
					return nil
				}, 1, "")
			}
		}
	}
}

func sessionMetric(value func(t *tenant, s *session, end, now time.Time) (float64, string, bool)) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, s := range t.sessionsStarting(from, minTime(to, now)) {
			x, key, ok := value(t, &s, t.sessionEnd(&s), now)
			if !ok {
				continue
			}
			emit(s.start, func(groupBy string) []string {
				switch groupBy {
				case "DEVICE":
					return []string{devices[s.device]}
				case "BROWSER":
					return []string{browsers[s.browser]}
				case "COUNTRY":
					return []string{countries[s.country]}
				case "REASON":
					return []string{reasons[s.reason]}
				}
				return nil
			}, x, key)
		}
	}
}

// visitMetric sees visits that started in the window and have ended.
func visitMetric(value func(v visit, visitsInSession int) (float64, bool)) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, s := range t.sessionsStarting(from.Add(-maxSessionLength), minTime(to, now)) {
			vs := t.visits(&s)
			for _, v := range vs {
				if v.start.Before(from) || !v.start.Before(to) || v.end.After(now) {
					continue
				}
				if x, ok := value(v, len(vs)); ok {
					emit(v.start, func(string) []string { return []string{v.path} }, x, "")
				}
			}
		}
	}
}

func cobrowseMetric(value func(cobrowse) float64) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, c := range t.cobrowses {
			if c.start.Before(from) || !c.start.Before(to) || c.end.After(now) {
				continue
			}
			email := t.agents[c.agent].email
			emit(c.start, func(string) []string { return []string{email} }, value(c), "")
		}
	}
}

func conferenceMetric(value func(conference) float64) func(t *tenant, from, to, now time.Time, emit emitFn) {
	return func(t *tenant, from, to, now time.Time, emit emitFn) {
		for _, c := range t.conferences {
			if c.start.Before(from) || !c.start.Before(to) || c.end.After(now) {
				continue
			}
			email := t.agents[c.agent].email
			emit(c.start, func(string) []string { return []string{email} }, value(c), "")
		}
	}
}

// ---------------------------------------------------------------- engine

type bucket struct {
	sum  float64
	n    int
	keys map[string]bool
}

// computeReport evaluates one metric over [from, to) at now, bucketed by the
// tenant's local day and the group. Empty days and groups never appear.
func (t *tenant) computeReport(report, metric, groupBy string, from, to, now time.Time) (map[string]map[string]string, error) {
	def, ok := reportDefs[report]
	if !ok {
		return nil, &apiError{http.StatusNotFound, "no report " + report}
	}
	m, ok := def.metrics[metric]
	if !ok {
		return nil, badRequest("unknown metricName %q for report %s (allowed: %s)", metric, report, joinKeys(def.metrics))
	}
	if !containsString(def.groupBys, groupBy) {
		return nil, badRequest("groupBy %q is not allowed for report %s (allowed: %s)", groupBy, report, joinGroupBys(def.groupBys))
	}
	buckets := map[civil.Date]map[string]*bucket{}
	m.source(t, from, to, now, func(at time.Time, groups func(string) []string, v float64, key string) {
		if at.Before(from) || !at.Before(to) || !at.Before(now) {
			return
		}
		values := []string{metric}
		if groupBy != "" {
			values = groups(groupBy)
		}
		d := civil.Of(at, t.loc)
		for _, g := range values {
			if buckets[d] == nil {
				buckets[d] = map[string]*bucket{}
			}
			b := buckets[d][g]
			if b == nil {
				b = &bucket{keys: map[string]bool{}}
				buckets[d][g] = b
			}
			b.sum += v
			b.n++
			b.keys[key] = true
		}
	})
	out := map[string]map[string]string{}
	for d, groups := range buckets {
		day := map[string]string{}
		for g, b := range groups {
			var v float64
			switch m.agg {
			case sum:
				v = b.sum
			case mean:
				v = b.sum / float64(b.n)
			case distinct:
				v = float64(len(b.keys))
			}
			if v == 0 && m.agg != mean {
				continue
			}
			day[g] = formatValue(v)
		}
		if len(day) > 0 {
			out[d.Slash()] = day
		}
	}
	return out, nil
}

// formatValue writes a value as Engage does: a decimal string, whole numbers
// without a fraction, means to the millisecond.
func formatValue(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// report serves POST /report/{name}.
func (s *Server) report(name string) handler {
	return func(r *http.Request, t *tenant, now time.Time) (any, error) {
		var req reportRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		if len(req.Metrics) == 0 {
			return nil, badRequest("metrics must not be empty")
		}
		from, to, err := req.DateFilter.resolve(t, now)
		if err != nil {
			return nil, err
		}
		// Several metrics share one map, as the real API does: with a groupBy
		// their keys collide, which is why clients send one metric a request.
		results := map[string]map[string]string{}
		for _, m := range req.Metrics {
			res, err := t.computeReport(name, m.MetricName, m.GroupBy, from, to, now)
			if err != nil {
				return nil, err
			}
			for day, groups := range res {
				if results[day] == nil {
					results[day] = map[string]string{}
				}
				for g, v := range groups {
					results[day][g] = v
				}
			}
		}
		return map[string]any{"results": results}, nil
	}
}

// realtime serves POST /report/realtime: figures at now, no date filter.
func (s *Server) realtime(r *http.Request, t *tenant, now time.Time) (any, error) {
	var req reportRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if len(req.Metrics) == 0 {
		return nil, badRequest("metrics must not be empty")
	}
	results := map[string]string{}
	for _, m := range req.Metrics {
		fn, ok := realtimeMetrics[m.MetricName]
		if !ok {
			return nil, badRequest("unknown realtime metricName %q", m.MetricName)
		}
		if m.GroupBy != "" {
			return nil, badRequest("realtime metrics take no groupBy")
		}
		results[m.MetricName] = strconv.Itoa(fn(t, now))
	}
	return map[string]any{"results": results}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func joinKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return joinGroupBys(keys)
}

func joinGroupBys(gs []string) string {
	out := ""
	for i, g := range gs {
		if i > 0 {
			out += ", "
		}
		if g == "" {
			g = "none"
		}
		out += g
	}
	return out
}
