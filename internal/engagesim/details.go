package engagesim

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// dateWindow reads a bare date filter body (CONTRACT.md §4).
func dateWindow(r *http.Request, t *tenant, now time.Time) (from, to time.Time, err error) {
	var f dateFilter
	if err := decodeBody(r, &f); err != nil {
		return from, to, err
	}
	return f.resolve(t, now)
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
		from, to, err := dateWindow(r, t, now)
		if err != nil {
			return nil, err
		}
		byAgent := map[int]*agentTimes{}
		total := map[int]time.Duration{}
		var order []int
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
		slices.Sort(order)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		out := make([]agentTimes, 0, len(order))
		for _, a := range order {
			e := byAgent[a]
			rng.Shuffle(len(e.TimeRanges), func(i, j int) { e.TimeRanges[i], e.TimeRanges[j] = e.TimeRanges[j], e.TimeRanges[i] })
			e.SumMinutes = int64(total[a] / time.Minute)
			out = append(out, *e)
		}
		return out, nil
	}
}

type conversationRow struct {
	ConversationID       string   `json:"conversationId"`
	CustomerID           string   `json:"customerId"`
	TeamID               string   `json:"teamId"`
	Channel              string   `json:"channel"`
	Status               string   `json:"status"`
	Start                isoTime  `json:"start"`
	End                  *isoTime `json:"end"`
	UserIDs              []string `json:"userIds"`
	MessageCount         int      `json:"messageCount"`
	CustomerMessageCount int      `json:"customerMessageCount"`
	AgentMessageCount    int      `json:"agentMessageCount"`
	FirstResponseTimeMs  *int64   `json:"firstResponseTimeMs"`
	AvgResponseTimeMs    *int64   `json:"avgResponseTimeMs"`
	DurationMs           int64    `json:"durationMs"`
}

// conversationsReport serves POST /report/chat/conversations: every
// conversation that started in the window, as it stands at now.
func (s *Server) conversationsReport(r *http.Request, t *tenant, now time.Time) (any, error) {
	from, to, err := dateWindow(r, t, now)
	if err != nil {
		return nil, err
	}
	convs := t.convsStarting(from, to, now)
	out := make([]conversationRow, 0, len(convs))
	for i := range convs {
		out = append(out, t.conversationRow(&convs[i], now))
	}
	return out, nil
}

func (t *tenant) conversationRow(c *conv, now time.Time) conversationRow {
	v := t.view(c, now)
	row := conversationRow{
		ConversationID: c.id, CustomerID: t.customers[c.customer].id, TeamID: t.teams[c.team].id,
		Channel: channels[c.channel], Status: v.status, Start: isoTime(c.start), UserIDs: []string{},
		MessageCount: v.messages, CustomerMessageCount: v.fromCustomer, AgentMessageCount: v.messages - v.fromCustomer,
		FirstResponseTimeMs: msPtr(v.firstResponse), AvgResponseTimeMs: msPtr(v.avgResponse),
		DurationMs: v.duration.Milliseconds(),
	}
	if !v.end.IsZero() {
		end := isoTime(v.end)
		row.End = &end
	}
	for _, a := range v.agents {
		row.UserIDs = append(row.UserIDs, t.agents[a].email)
	}
	return row
}

type chatAgentRow struct {
	UserID              string `json:"userId"`
	ConversationID      string `json:"conversationId"`
	MessageCount        int    `json:"messageCount"`
	FirstResponseTimeMs *int64 `json:"firstResponseTimeMs"`
	AvgResponseTimeMs   *int64 `json:"avgResponseTimeMs"`
}

// chatAgentsReport serves POST /report/chat/agents: per agent and
// conversation started in the window, the agent's messages and response times.
func (s *Server) chatAgentsReport(r *http.Request, t *tenant, now time.Time) (any, error) {
	from, to, err := dateWindow(r, t, now)
	if err != nil {
		return nil, err
	}
	out := []chatAgentRow{}
	for _, c := range t.convsStarting(from, to, now) {
		v := t.view(&c, now)
		for _, a := range v.agents {
			row := chatAgentRow{UserID: t.agents[a].email, ConversationID: c.id}
			var waiting time.Time
			var sum time.Duration
			replies := 0
			for _, m := range v.visible {
				switch {
				case m.fromCustomer:
					if waiting.IsZero() {
						waiting = m.at
					}
				case int(m.agent) == a:
					row.MessageCount++
					if row.FirstResponseTimeMs == nil {
						row.FirstResponseTimeMs = msPtr(m.at.Sub(c.start))
					}
					if !waiting.IsZero() {
						sum += m.at.Sub(waiting)
						replies++
					}
					waiting = time.Time{}
				default:
					waiting = time.Time{}
				}
			}
			if replies > 0 {
				row.AvgResponseTimeMs = msPtr(sum / time.Duration(replies))
			}
			out = append(out, row)
		}
	}
	return out, nil
}

type messageRow struct {
	ID             string  `json:"id"`
	ConversationID string  `json:"conversationId"`
	CustomerID     string  `json:"customerId"`
	UserID         *string `json:"userId"`
	FromCustomer   bool    `json:"fromCustomer"`
	Type           string  `json:"type"`
	Message        string  `json:"message"`
	URL            *string `json:"url"`
	Timestamp      isoTime `json:"timestamp"`
}

// messagesReport serves GET /report/chat/messages?conversationId=.
func (s *Server) messagesReport(r *http.Request, t *tenant, now time.Time) (any, error) {
	id := r.URL.Query().Get("conversationId")
	if id == "" {
		return nil, badRequest("conversationId is required")
	}
	c := t.convByID(id)
	if c == nil || !c.start.Before(now) {
		return nil, &apiError{http.StatusNotFound, "no conversation " + id}
	}
	v := t.view(c, now)
	out := make([]messageRow, 0, len(v.visible))
	for k, m := range v.visible {
		out = append(out, t.messageRow(c, k, m))
	}
	return out, nil
}

// messageRow is a message in the API's shape.
func (t *tenant) messageRow(c *conv, k int, m message) messageRow {
	row := messageRow{
		ID: messageID(c, k), ConversationID: c.id, CustomerID: t.customers[c.customer].id,
		FromCustomer: m.fromCustomer, Type: messageTypes[m.typ], Message: phrases[m.phrase], Timestamp: isoTime(m.at),
	}
	if !m.fromCustomer {
		row.UserID = strPtr(t.agents[m.agent].email)
	}
	if m.typ >= 1 && m.typ <= 3 { // audio, video, file
		row.URL = strPtr("https://files." + t.id + ".example/" + row.ID)
		row.Message = ""
	}
	return row
}

type visitRow struct {
	VisitID         string  `json:"visitId"`
	SessionID       string  `json:"sessionId"`
	VisitorID       string  `json:"visitorId"`
	URL             string  `json:"url"`
	Path            string  `json:"path"`
	Start           isoTime `json:"start"`
	End             isoTime `json:"end"`
	DurationSeconds float64 `json:"durationSeconds"`
}

// visitTable serves POST /report/visit/table: visits that started in the
// window and have ended.
func (s *Server) visitTable(r *http.Request, t *tenant, now time.Time) (any, error) {
	from, to, err := dateWindow(r, t, now)
	if err != nil {
		return nil, err
	}
	out := []visitRow{}
	for _, ss := range t.sessionsStarting(from.Add(-maxSessionLength), minTime(to, now)) {
		for _, v := range t.visits(&ss) {
			if v.start.Before(from) || !v.start.Before(to) || v.end.After(now) {
				continue
			}
			out = append(out, visitRow{v.id, ss.id, t.visitorID(ss.visitor), t.url(v.path), v.path,
				isoTime(v.start), isoTime(v.end), v.end.Sub(v.start).Seconds()})
		}
	}
	return out, nil
}

type cobrowseRow struct {
	SessionID       string  `json:"sessionId"`
	UserID          string  `json:"userId"`
	CustomerID      string  `json:"customerId"`
	Start           isoTime `json:"start"`
	End             isoTime `json:"end"`
	DurationSeconds float64 `json:"durationSeconds"`
}

// cobrowseTable serves POST /report/cobrowse/table: co-browse sessions that
// started in the window and have ended. The session id is the co-browse's own.
func (s *Server) cobrowseTable(r *http.Request, t *tenant, now time.Time) (any, error) {
	from, to, err := dateWindow(r, t, now)
	if err != nil {
		return nil, err
	}
	out := []cobrowseRow{}
	for _, c := range t.cobrowses {
		if c.start.Before(from) || !c.start.Before(to) || c.end.After(now) {
			continue
		}
		out = append(out, cobrowseRow{c.id, t.agents[c.agent].email, t.customerID(c.customer),
			isoTime(c.start), isoTime(c.end), c.end.Sub(c.start).Seconds()})
	}
	return out, nil
}

func msPtr(d time.Duration) *int64 {
	if d < 0 {
		return nil
	}
	ms := d.Milliseconds()
	return &ms
}
