package engagesim

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// The four activity logs (CONTRACT.md §6).
const (
	logCall = iota
	logLivechat
	logStatus
	logLiveview
	numLogs
)

var logNames = [numLogs]string{"call", "livechat", "status", "liveview"}

// event is one activity log entry, kept small: what it refers to is looked
// up (or re-derived) only when a page shows it.
type event struct {
	atMs int64 // epoch milliseconds: a third of a time.Time, and these are millions
	ref  int32 // conversation, conference or co-browse index
	sub  int16 // message or status-change index within a conversation
}

func (e event) at() time.Time { return time.UnixMilli(e.atMs) }

func ev(at time.Time, ref, sub int) event { return event{at.UnixMilli(), int32(ref), int16(sub)} }

// buildLogs derives every activity event from the world: a status change of
// a conversation, a message an agent sent, a conference, a co-browse session.
func (t *tenant) buildLogs() {
	for i := range t.convs {
		c := &t.convs[i]
		tl := t.timeline(c)
		for k, s := range tl.status {
			t.logs[logStatus] = append(t.logs[logStatus], ev(s.at, i, k))
		}
		for k, m := range tl.msgs {
			if !m.fromCustomer {
				t.logs[logLivechat] = append(t.logs[logLivechat], ev(m.at, i, k))
			}
		}
	}
	for i, c := range t.conferences {
		t.logs[logCall] = append(t.logs[logCall], ev(c.start, i, 0))
	}
	for i, c := range t.cobrowses {
		t.logs[logLiveview] = append(t.logs[logLiveview], ev(c.start, i, 0))
	}
	for _, l := range t.logs {
		sort.Slice(l, func(i, j int) bool {
			if l[i].atMs != l[j].atMs {
				return l[i].atMs < l[j].atMs
			}
			if l[i].ref != l[j].ref {
				return l[i].ref < l[j].ref
			}
			return l[i].sub < l[j].sub
		})
	}
}

// activityEvent is the wire form of a log entry.
type activityEvent struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	UserID    *string           `json:"userId"`
	Timestamp isoTime           `json:"timestamp"`
	Data      map[string]string `json:"data"`
}

func (t *tenant) render(log int, e event) activityEvent {
	at := e.at()
	id := idOf(at, t.id, logNames[log], e.ref, e.sub)
	switch log {
	case logCall:
		c := t.conferences[e.ref]
		return activityEvent{id, "START_CALL", strPtr(t.agents[c.agent].email), isoTime(at),
			map[string]string{"callId": c.id, "customerId": t.customerID(c.customer)}}
	case logLiveview:
		c := t.cobrowses[e.ref]
		return activityEvent{id, "LIVE_VIEW", strPtr(t.agents[c.agent].email), isoTime(at),
			map[string]string{"sessionId": c.id}}
	}
	c := &t.convs[e.ref]
	tl := t.timeline(c)
	if log == logLivechat {
		m := tl.msgs[e.sub]
		return activityEvent{id, "MESSENGER_SEND", strPtr(t.agents[m.agent].email), isoTime(at),
			map[string]string{"customerId": t.customers[c.customer].id}}
	}
	s := tl.status[e.sub]
	var user *string
	if m := tl.msgs[s.msg]; !m.fromCustomer {
		user = strPtr(t.agents[m.agent].email)
	}
	return activityEvent{id, "STATUS_CHANGE", user, isoTime(at),
		map[string]string{"customerId": t.customers[c.customer].id, "status": s.status, "messageId": messageID(c, s.msg)}}
}

func (t *tenant) customerID(i int32) string {
	if int(i) < len(t.customers) {
		return t.customers[i].id
	}
	return ""
}

// visibleEvents is the prefix of a log that happened before now.
func visibleEvents(l []event, now time.Time) []event {
	ms := now.UnixMilli()
	return l[:sort.Search(len(l), func(i int) bool { return l[i].atMs >= ms })]
}

// MaxActivityPageSize is the largest activity page served: Spring Data's
// default max-page-size.
const MaxActivityPageSize = 2000

// activity serves GET /activity/{log} as a Spring Page, newest first. There
// is no date filter: a client pages back until it reaches its cursor. Events
// that arrive between two page requests push older ones onto later pages, so
// a client sees some events twice but never misses one.
func (s *Server) activity(log int) handler {
	return func(r *http.Request, t *tenant, now time.Time) (any, error) {
		q := r.URL.Query()
		page, err := intParam(q.Get("page"), 0, 0, 1<<30, "page")
		if err != nil {
			return nil, err
		}
		// Spring Data's binding: a size above its max-page-size (2000 by
		// default) is served at that size, silently; the answer's size says it.
		size, err := intParam(q.Get("size"), 20, 1, 1<<30, "size")
		if err != nil {
			return nil, err
		}
		size = min(size, MaxActivityPageSize)
		desc := true
		switch q.Get("sort") {
		case "", "timestamp,desc", "timestamp":
		case "timestamp,asc":
			desc = false
		default:
			return nil, badRequest("cannot sort by %q: use timestamp,desc or timestamp,asc", q.Get("sort"))
		}
		events := visibleEvents(t.logs[log], now)
		total := len(events)
		content := []activityEvent{}
		for k := page * size; k < total && k < (page+1)*size; k++ {
			i := k
			if desc {
				i = total - 1 - k
			}
			content = append(content, t.render(log, events[i]))
		}
		totalPages := (total + size - 1) / size
		return map[string]any{
			"content": content, "number": page, "size": size, "numberOfElements": len(content),
			"totalElements": total, "totalPages": totalPages,
			"first": page == 0, "last": page >= totalPages-1, "empty": len(content) == 0,
		}, nil
	}
}

func intParam(v string, def, lo, hi int, name string) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s=%q must be a number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

func strPtr(s string) *string { return &s }

func messageID(c *conv, k int) string { return c.id + "-" + strconv.Itoa(k) }
