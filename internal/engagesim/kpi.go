package engagesim

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// The tenant's opening hours and SLA rules (docs/CONTRACT-KPI.md, paths and
// shapes ASSUMED), coherent with its conversations: most start in office
// hours (busySecond), some at night and at weekends, when business time
// stands still; first answers come after 20 s plus about three minutes
// (timeline), so a chat target of two minutes is met by about half of them
// in calendar time and by more in business time.

// openingHours is one set of weekly hours and holidays.
type openingHours struct {
	id, name string
	offset   int // the API's timezoneOffset, hours (the zone's standard offset)
	days     map[time.Weekday][2]string
	holidays []holiday
}

type holiday struct {
	day  civil.Date
	name string
}

// slaRule covers conversations of some teams and channels.
type slaRule struct {
	id, name                    string
	active                      bool
	teams                       []int // team indexes; none: any
	channels                    []string
	hours                       int // index of openingHours; -1: around the clock
	firstResponse, responseSecs int
}

// fixedHolidays are Austria's public holidays on fixed dates; easterMondays
// the moving one of the years a world may span.
var (
	fixedHolidays = []struct {
		month time.Month
		day   int
		name  string
	}{
		{time.January, 1, "New Year's Day"}, {time.January, 6, "Epiphany"}, {time.May, 1, "Labour Day"},
		{time.August, 15, "Assumption Day"}, {time.October, 26, "National Day"}, {time.November, 1, "All Saints' Day"},
		{time.December, 8, "Immaculate Conception"}, {time.December, 25, "Christmas Day"}, {time.December, 26, "St. Stephen's Day"},
	}
	easterMondays = []civil.Date{{Year: 2024, Month: 4, Day: 1}, {Year: 2025, Month: 4, Day: 21}, {Year: 2026, Month: 4, Day: 6},
		{Year: 2027, Month: 3, Day: 29}, {Year: 2028, Month: 4, Day: 17}}
)

// setupKPI gives the tenant office hours (Monday to Friday 08:00-18:00,
// Saturday 09:00-13:00, the holidays of the world's years) and e-mail desk
// hours (Monday to Friday 09:00-17:00), and three SLA rules: Billing's
// chats first (90 s), then every live channel (120 s), then e-mail (4 h in
// desk hours), plus an inactive one that would cover everything.
func (t *tenant) setupKPI() {
	created := t.first.AddDays(-30).Start(t.loc)
	_, offset := t.first.Start(t.loc).Zone()
	var hs []holiday
	for y := t.first.Year; y <= t.last.Year+1; y++ {
		for _, h := range fixedHolidays {
			hs = append(hs, holiday{civil.Date{Year: y, Month: h.month, Day: h.day}, h.name})
		}
		for _, d := range easterMondays {
			if d.Year == y {
				hs = append(hs, holiday{d, "Easter Monday"})
			}
		}
	}
	weekdays := func(opens, closes string) map[time.Weekday][2]string {
		m := map[time.Weekday][2]string{}
		for d := time.Monday; d <= time.Friday; d++ {
			m[d] = [2]string{opens, closes}
		}
		return m
	}
	office := weekdays("08:00", "18:00")
	office[time.Saturday] = [2]string{"09:00", "13:00"}
	t.openingHours = []openingHours{
		{id: idOf(created, t.id, "hours", 0), name: "Office hours", offset: offset / 3600, days: office, holidays: hs},
		{id: idOf(created, t.id, "hours", 1), name: "E-mail desk", offset: offset / 3600, days: weekdays("09:00", "17:00"), holidays: hs},
	}
	t.slaRules = []slaRule{
		{id: idOf(created, t.id, "sla", 0), name: "Billing chats", active: true, teams: []int{2}, channels: []string{"CHAT"}, hours: 0, firstResponse: 90, responseSecs: 180},
		{id: idOf(created, t.id, "sla", 1), name: "Live channels", active: true, channels: []string{"CHAT", "WHATSAPP", "FACEBOOK", "SMS"}, hours: 0, firstResponse: 120, responseSecs: 300},
		{id: idOf(created, t.id, "sla", 2), name: "E-mail", active: true, channels: []string{"EMAIL"}, hours: 1, firstResponse: 4 * 3600, responseSecs: 8 * 3600},
		{id: idOf(created, t.id, "sla", 3), name: "Everything (draft)", active: false, hours: -1, firstResponse: 60, responseSecs: 60},
	}
}

type openingHoursRow struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	TimezoneOffset int                `json:"timezoneOffset"`
	Conditions     []openingCondition `json:"conditions"`
	Holidays       []holidayRow       `json:"holidays"`
}

type openingCondition struct {
	DayOfWeek string `json:"dayOfWeek"`
	From      string `json:"from"`
	To        string `json:"to"`
}

type holidayRow struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// openingHoursList serves GET /openinghours: a plain array.
func (s *Server) openingHoursList(r *http.Request, t *tenant, now time.Time) (any, error) {
	out := make([]openingHoursRow, 0, len(t.openingHours))
	for _, oh := range t.openingHours {
		row := openingHoursRow{ID: oh.id, Name: oh.name, TimezoneOffset: oh.offset, Conditions: []openingCondition{}, Holidays: []holidayRow{}}
		for d := time.Sunday; d <= time.Saturday; d++ {
			if h, ok := oh.days[d]; ok {
				row.Conditions = append(row.Conditions, openingCondition{DayOfWeek: strings.ToUpper(d.String()), From: h[0], To: h[1]})
			}
		}
		for _, h := range oh.holidays {
			row.Holidays = append(row.Holidays, holidayRow{Date: h.day.String(), Name: h.name})
		}
		out = append(out, row)
	}
	return out, nil
}

type slaRuleRow struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Active          bool           `json:"active"`
	Conditions      []slaCondition `json:"conditions"`
	Trigger         slaTrigger     `json:"trigger"`
	Receivers       []string       `json:"receivers"`
	WatchdogEnabled bool           `json:"watchdogEnabled"`
}

type slaCondition struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type slaTrigger struct {
	FirstResponseTime int `json:"firstResponseTime"`
	ResponseTime      int `json:"responseTime"`
}

// slaRulesList serves GET /slarule: a plain array, in the order the rules
// apply.
func (s *Server) slaRulesList(r *http.Request, t *tenant, now time.Time) (any, error) {
	out := make([]slaRuleRow, 0, len(t.slaRules))
	for _, ru := range t.slaRules {
		row := slaRuleRow{ID: ru.id, Name: ru.name, Active: ru.active, Conditions: []slaCondition{},
			Trigger: slaTrigger{FirstResponseTime: ru.firstResponse, ResponseTime: ru.responseSecs}, Receivers: []string{}, WatchdogEnabled: ru.active}
		for _, tm := range ru.teams {
			row.Conditions = append(row.Conditions, slaCondition{Type: "TEAM", Value: t.teams[tm].id})
		}
		for _, ch := range ru.channels {
			row.Conditions = append(row.Conditions, slaCondition{Type: "CHANNEL", Value: ch})
		}
		if ru.hours >= 0 {
			row.Conditions = append(row.Conditions, slaCondition{Type: "OPENING_HOURS", Value: t.openingHours[ru.hours].id})
		}
		out = append(out, row)
	}
	return out, nil
}

// ConversationKPI is one conversation's figures as the world has them at
// the simulator's now, for tests of the KPI views that must not share
// their SQL: its business first response is counted here, in Go, from the
// opening hours and holidays the API lists.
type ConversationKPI struct {
	ID, Channel, TeamID string
	Day                 civil.Date // local day of Start
	Start, End          time.Time  // End zero while not DONE
	// FirstResponse is the time to the first agent message, -1 while
	// unanswered; BusinessFirstResponse the part of it within the rule's
	// opening hours (all of it without hours), -1 while unanswered.
	FirstResponse         time.Duration
	BusinessFirstResponse time.Duration
	// BusinessAvgResponse is the mean, over the agent messages that
	// answered the customer, of the business time from the first of the
	// customer's unanswered messages to the answer; -1 without answers.
	BusinessAvgResponse time.Duration
	Rule                string // the SLA rule it falls under; "" none
	Target              time.Duration
	Agents              []string // e-mails of the agents who wrote, in order
	// AgentMessages are, per agent who wrote, the times of their messages.
	AgentMessages map[string][]time.Time
}

// ConversationKPIs returns the conversations started on the local days
// [from, to) of a tenant.
func (s *Server) ConversationKPIs(tenantID string, from, to civil.Date) ([]ConversationKPI, error) {
	t := s.tenantByID(tenantID)
	if t == nil {
		return nil, badRequest("no tenant %q", tenantID)
	}
	now := s.clock.now()
	start, end := from.Start(t.loc), to.Start(t.loc)
	var out []ConversationKPI
	for i := range t.convs {
		c := &t.convs[i]
		if c.start.Before(start) || !c.start.Before(end) || !c.start.Before(now) {
			continue
		}
		v := t.view(c, now)
		k := ConversationKPI{ID: c.id, Channel: channels[c.channel], TeamID: t.teams[c.team].id, Day: civil.Of(c.start, t.loc),
			Start: c.start, End: v.end, FirstResponse: v.firstResponse, BusinessFirstResponse: -1, BusinessAvgResponse: -1}
		for _, a := range v.agents {
			k.Agents = append(k.Agents, t.agents[a].email)
		}
		k.AgentMessages = map[string][]time.Time{}
		for _, m := range v.visible {
			if !m.fromCustomer {
				email := t.agents[m.agent].email
				k.AgentMessages[email] = append(k.AgentMessages[email], m.at)
			}
		}
		hours := -1
		for _, r := range t.slaRules {
			if r.active && (len(r.teams) == 0 || containsInt(r.teams, int(c.team))) && (len(r.channels) == 0 || slices.Contains(r.channels, k.Channel)) {
				k.Rule, k.Target, hours = r.name, time.Duration(r.firstResponse)*time.Second, r.hours
				break
			}
		}
		business := func(a, b time.Time) time.Duration {
			if hours < 0 {
				return b.Sub(a)
			}
			return t.openingHours[hours].within(a, b, t.loc)
		}
		if v.firstResponse >= 0 {
			k.BusinessFirstResponse = business(c.start, c.start.Add(v.firstResponse))
		}
		var waiting time.Time
		var sum time.Duration
		replies := 0
		for _, m := range v.visible {
			switch {
			case m.fromCustomer && waiting.IsZero():
				waiting = m.at
			case !m.fromCustomer && !waiting.IsZero():
				sum += business(waiting, m.at)
				replies++
				waiting = time.Time{}
			case !m.fromCustomer:
				waiting = time.Time{}
			}
		}
		if replies > 0 {
			k.BusinessAvgResponse = sum / time.Duration(replies)
		}
		out = append(out, k)
	}
	return out, nil
}

// within is the part of [a, b) inside the opening hours, outside holidays,
// each local day taken on the zone's clock of that day.
func (oh openingHours) within(a, b time.Time, loc *time.Location) time.Duration {
	var sum time.Duration
	for d := civil.Of(a, loc); !d.After(civil.Of(b, loc)); d = d.AddDays(1) {
		if oh.closed(d) {
			continue
		}
		h, ok := oh.days[d.Start(loc).Weekday()]
		if !ok {
			continue
		}
		opens, closes := clockOn(d, h[0], loc), clockOn(d, h[1], loc)
		lo, hi := maxTime(a, opens), minTime(b, closes)
		if hi.After(lo) {
			sum += hi.Sub(lo)
		}
	}
	return sum
}

func (oh openingHours) closed(d civil.Date) bool {
	for _, h := range oh.holidays {
		if h.day == d {
			return true
		}
	}
	return false
}

// clockOn is the instant a local clock "HH:MM" shows on day d (24:00: the
// next midnight).
func clockOn(d civil.Date, hhmm string, loc *time.Location) time.Time {
	h := int(hhmm[0]-'0')*10 + int(hhmm[1]-'0')
	m := int(hhmm[3]-'0')*10 + int(hhmm[4]-'0')
	return time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, loc)
}

// OnlineSpans returns an agent's online ranges (by e-mail) as the world has
// them at the simulator's now, started before to.
func (s *Server) OnlineSpans(tenantID, email string, to time.Time) ([][2]time.Time, error) {
	t := s.tenantByID(tenantID)
	if t == nil {
		return nil, badRequest("no tenant %q", tenantID)
	}
	now := s.clock.now()
	var out [][2]time.Time
	for _, sp := range t.online {
		if t.agents[sp.agent].email != email || !sp.start.Before(to) {
			continue
		}
		if v, ok := sp.visible(now); ok {
			out = append(out, [2]time.Time{v.start, v.end})
		}
	}
	return out, nil
}
