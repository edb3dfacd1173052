package engagesim

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// agentReport serves POST /report/agent: ONLINE_TIME and LOGGED_IN_TIME in
// seconds per agent and local day, from the same ranges the time reports list.
func (s *Server) agentReport(r *http.Request, t *tenant, now time.Time) (any, error) {
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
	results := map[string]map[string]string{}
	for _, m := range req.Metrics {
		var spans []span
		switch m.MetricName {
		case "ONLINE_TIME":
			spans = t.online
		case "LOGGED_IN_TIME":
			spans = t.loggedIn
		default:
			return nil, badRequest("unknown metricName %q for report agent", m.MetricName)
		}
		if m.GroupBy != "AGENT" {
			return nil, badRequest("groupBy %q is not allowed for report agent (allowed: AGENT)", m.GroupBy)
		}
		total := map[civil.Date]map[string]time.Duration{}
		for _, sp := range spans {
			sp, ok := sp.visible(now)
			if !ok || !sp.end.After(from) || !sp.start.Before(to) {
				continue
			}
			start, end := maxTime(sp.start, from), minTime(sp.end, to)
			splitByDay(start, end, t.loc, func(d civil.Date, dur time.Duration) {
				if total[d] == nil {
					total[d] = map[string]time.Duration{}
				}
				total[d][t.agents[sp.agent].email] += dur
			})
		}
		for d, byAgent := range total {
			for email, dur := range byAgent {
				v := int64(dur / time.Second)
				if v == 0 {
					continue // empty groups are omitted, not zero
				}
				if results[d.Slash()] == nil {
					results[d.Slash()] = map[string]string{}
				}
				results[d.Slash()][email] = strconv.FormatInt(v, 10)
			}
		}
	}
	return map[string]any{"results": results}, nil
}

type timeRange struct {
	Start isoTime `json:"start"`
	End   isoTime `json:"end"`
}

type agentTimes struct {
	UserID     string      `json:"userId"`
	TimeRanges []timeRange `json:"timeRanges"`
	SumMinutes int64       `json:"sumMinutes"`
}

// agentTimes serves the time detail reports: the ranges that start in the
// window, per agent, unsorted (as the vendor documents) but deterministic.
func (s *Server) agentTimes(spansOf func(*tenant) []span) handler {
	return func(r *http.Request, t *tenant, now time.Time) (any, error) {
		var f dateFilter
		if err := decodeBody(r, &f); err != nil {
			return nil, err
		}
		from, to, err := f.resolve(t, now)
		if err != nil {
			return nil, err
		}
		byAgent := map[int]*agentTimes{}
		var order []int
		var total = map[int]time.Duration{}
		for _, sp := range spansOf(t) {
			sp, ok := sp.visible(now)
			if !ok || sp.start.Before(from) || !sp.start.Before(to) {
				continue
			}
			e := byAgent[sp.agent]
			if e == nil {
				e = &agentTimes{UserID: t.agents[sp.agent].email, TimeRanges: []timeRange{}}
				byAgent[sp.agent] = e
				order = append(order, sp.agent)
			}
			e.TimeRanges = append(e.TimeRanges, timeRange{isoTime(sp.start), isoTime(sp.end)})
			total[sp.agent] += sp.end.Sub(sp.start)
		}
		rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(from.UnixMilli())^uint64(to.UnixMilli())<<1))
		out := make([]agentTimes, 0, len(order))
		slices.Sort(order)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, a := range order {
			e := byAgent[a]
			rng.Shuffle(len(e.TimeRanges), func(i, j int) { e.TimeRanges[i], e.TimeRanges[j] = e.TimeRanges[j], e.TimeRanges[i] })
			e.SumMinutes = int64(total[a] / time.Minute)
			out = append(out, *e)
		}
		return out, nil
	}
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
