package engagesim

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// Truth is what a stream must load for a tenant over local days [From, To):
// Rows is the number of warehouse rows, Total the sum of the stream's main
// value (report values, seconds, messages, members), as decimal text.
type Truth struct {
	Tenant string `json:"tenant"`
	Stream string `json:"stream"`
	From   string `json:"from"`
	To     string `json:"to"`
	Rows   int    `json:"rows"`
	Total  string `json:"total"`
}

// ReportStreamName is how engage-etl's catalog names a bucketed report
// stream: report (with / as _), metric, and _by_groupBy when grouped.
func ReportStreamName(report, metric, groupBy string) string {
	name := strings.ReplaceAll(report, "/", "_") + "_" + strings.ToLower(metric)
	if groupBy != "" {
		name += "_by_" + strings.ToLower(groupBy)
	}
	return name
}

// detailTruths count what the detail, list and activity streams load.
var detailTruths = map[string]func(t *tenant, from, to, now time.Time) (rows int, total float64){
	"agent_times_online":   spanTruth(func(t *tenant) []span { return t.online }),
	"agent_times_loggedin": spanTruth(func(t *tenant) []span { return t.loggedIn }),
	"conversations": func(t *tenant, from, to, now time.Time) (int, float64) {
		convs := t.convsStarting(from, to, now)
		msgs := 0
		for i := range convs {
			msgs += t.view(&convs[i], now).messages
		}
		return len(convs), float64(msgs)
	},
	"conversation_agents": func(t *tenant, from, to, now time.Time) (int, float64) {
		rows, msgs := 0, 0
		for _, c := range t.convsStarting(from, to, now) {
			v := t.view(&c, now)
			rows += len(v.agents)
			msgs += v.messages - v.fromCustomer
		}
		return rows, float64(msgs)
	},
	"messages": func(t *tenant, from, to, now time.Time) (int, float64) {
		n := 0
		for _, c := range t.convsStarting(from, to, now) {
			n += t.view(&c, now).messages
		}
		return n, float64(n)
	},
	"visits": func(t *tenant, from, to, now time.Time) (int, float64) {
		rows, secs := 0, 0.0
		for _, s := range t.sessionsStarting(from.Add(-maxSessionLength), minTime(to, now)) {
			for _, v := range t.visits(&s) {
				if !v.start.Before(from) && v.start.Before(to) && !v.end.After(now) {
					rows++
					secs += v.end.Sub(v.start).Seconds()
				}
			}
		}
		return rows, secs
	},
	"cobrowse_sessions": func(t *tenant, from, to, now time.Time) (int, float64) {
		rows, secs := 0, 0.0
		for _, c := range t.cobrowses {
			if !c.start.Before(from) && c.start.Before(to) && !c.end.After(now) {
				rows++
				secs += c.end.Sub(c.start).Seconds()
			}
		}
		return rows, secs
	},
	"users": func(t *tenant, _, _, now time.Time) (int, float64) { return len(t.agents), float64(len(t.agents)) },
	"roles": func(t *tenant, _, _, now time.Time) (int, float64) { return len(t.roles), float64(len(t.roles)) },
	"rules": func(t *tenant, _, _, now time.Time) (int, float64) { return len(t.rules), float64(len(t.rules)) },
	"opening_hours": func(t *tenant, _, _, now time.Time) (int, float64) {
		return len(t.openingHours), float64(len(t.openingHours))
	},
	"sla_rules": func(t *tenant, _, _, now time.Time) (int, float64) { return len(t.slaRules), float64(len(t.slaRules)) },
	// Every agent is in exactly one team at any time.
	"teams": func(t *tenant, _, _, now time.Time) (int, float64) { return len(t.teams), float64(len(t.agents)) },
	"customers": func(t *tenant, _, _, now time.Time) (int, float64) {
		n := 0
		for n < len(t.customers) && t.customers[n].firstSeen.Before(now) {
			n++
		}
		return n, float64(n)
	},
	"activity_call":     activityTruth(logCall),
	"activity_livechat": activityTruth(logLivechat),
	"activity_status":   activityTruth(logStatus),
	"activity_liveview": activityTruth(logLiveview),
}

func spanTruth(spansOf func(*tenant) []span) func(t *tenant, from, to, now time.Time) (int, float64) {
	return func(t *tenant, from, to, now time.Time) (int, float64) {
		rows, secs := 0, 0.0
		for _, sp := range spansOf(t) {
			if sp, ok := sp.visible(now); ok && !sp.start.Before(from) && sp.start.Before(to) {
				rows++
				secs += sp.end.Sub(sp.start).Seconds()
			}
		}
		return rows, secs
	}
}

func activityTruth(log int) func(t *tenant, from, to, now time.Time) (int, float64) {
	return func(t *tenant, from, to, now time.Time) (int, float64) {
		n := 0
		for _, e := range visibleEvents(t.logs[log], now) {
			if at := e.at(); !at.Before(from) && at.Before(to) {
				n++
			}
		}
		return n, float64(n)
	}
}

// Truth computes the ground truth of a stream, outside the API.
func (s *Server) Truth(tenantID, stream string, from, to civil.Date) (Truth, error) {
	t := s.tenantByID(tenantID)
	if t == nil {
		return Truth{}, badRequest("no tenant %q", tenantID)
	}
	now := s.clock.now()
	start, end := from.Start(t.loc), to.Start(t.loc)
	tr := Truth{Tenant: tenantID, Stream: stream, From: from.String(), To: to.String()}
	if fn, ok := detailTruths[stream]; ok {
		rows, total := fn(t, start, end, now)
		tr.Rows, tr.Total = rows, formatValue(total)
		return tr, nil
	}
	for report, def := range reportDefs {
		for metric := range def.metrics {
			for _, g := range def.groupBys {
				if ReportStreamName(report, metric, g) != stream {
					continue
				}
				res, err := t.computeReport(report, metric, g, start, end, now)
				if err != nil {
					return tr, err
				}
				total := 0.0
				for _, groups := range res {
					for _, v := range groups {
						f, _ := strconv.ParseFloat(v, 64) // formatValue wrote it
						total += f
						tr.Rows++
					}
				}
				tr.Total = formatValue(total)
				return tr, nil
			}
		}
	}
	return tr, &apiError{http.StatusNotFound, "no ground truth for stream " + stream}
}

func (s *Server) truthHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := civil.Parse(q.Get("from"))
	to, err2 := civil.Parse(q.Get("to"))
	if err1 != nil || err2 != nil || !from.Before(to) {
		s.fail(w, r, s.clock.now(), badRequest("from and to must be dates YYYY-MM-DD with from before to").(*apiError))
		return
	}
	tr, err := s.Truth(q.Get("tenant"), q.Get("stream"), from, to)
	if err != nil {
		s.fail(w, r, s.clock.now(), err.(*apiError))
		return
	}
	writeJSON(w, http.StatusOK, tr)
}
