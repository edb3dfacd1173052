package engagesim

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// Channels and message types (CONTRACT.md §3).
var (
	channels     = []string{"CHAT", "WHATSAPP", "FACEBOOK", "SMS", "EMAIL"}
	channelShare = []int{55, 20, 10, 8, 7}
	messageTypes = []string{"MESSAGE", "AUDIO", "VIDEO", "FILE", "CARD"}
	phrases      = []string{"Hello, I need help with my order", "Could you check my invoice?", "Thanks a lot!",
		"One moment please, I am checking", "Your ticket has been updated", "Is there anything else I can do?",
		"The link does not work", "Here is the document", "We have shipped it today", "Have a nice day"}
)

// conv is one conversation. Its messages and status changes are derived from
// seed by timeline(), so the record stays small.
type conv struct {
	id       string
	start    time.Time
	seed     uint64
	customer int32
	team     int8
	channel  int8
	rule     int8
	agent    int8 // answers the conversation
	reopener int8 // answers after a reopen (may equal agent)
}

// message is one message of a conversation's timeline.
type message struct {
	at           time.Time
	fromCustomer bool
	agent        int8 // sender when !fromCustomer
	typ          int8
	phrase       int8
}

// statusChange is one step of the UNREAD -> UNRESOLVED -> DONE lifecycle.
type statusChange struct {
	at     time.Time
	status string
	msg    int // index of the message that caused it
}

type timeline struct {
	msgs   []message
	status []statusChange
}

func (t *tenant) conversationsDay(d civil.Date, scale float64) {
	rng := rngFor(t.seed, t.id, "convs", d.Key())
	n := dayCount(rng, d, t.loc, scale)
	starts := make([]time.Time, n)
	for k := range starts {
		starts[k] = localTime(d, t.loc, busySecond(rng)).Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
	}
	// In time order, so customers are created in the order they first write.
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	for k, start := range starts {
		c := conv{
			id:      idOf(start, t.id, "conv", d.Key(), k),
			start:   start,
			seed:    rng.Uint64(),
			team:    int8(rng.IntN(len(t.teams))),
			channel: int8(weighted(rng, channelShare)),
			rule:    int8(rng.IntN(4)), // the four active CHAT rules
		}
		c.agent = int8(t.memberOf(int(c.team), start, rng))
		c.reopener = c.agent
		if rng.IntN(3) == 0 {
			c.reopener = int8(rng.IntN(len(t.agents)))
		}
		c.customer = int32(t.customerFor(rng, start, int(c.agent)))
		t.convs = append(t.convs, c)
	}
}

// memberOf draws an agent of team at instant at, following membership changes.
func (t *tenant) memberOf(teamIdx int, instant time.Time, rng *rand.Rand) int {
	var members []int
	for i, a := range t.agents {
		if at(a.teams, instant) == teamIdx {
			members = append(members, i)
		}
	}
	if len(members) == 0 {
		return rng.IntN(len(t.agents))
	}
	return pick(rng, members)
}

// customerFor returns a returning customer or creates a new one.
func (t *tenant) customerFor(rng *rand.Rand, instant time.Time, agentIdx int) int {
	if len(t.customers) > 20 && rng.IntN(10) < 6 {
		return rng.IntN(len(t.customers))
	}
	i := len(t.customers)
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	t.customers = append(t.customers, customer{
		id:        idOf(instant, t.id, "customer", i),
		email:     lower(first) + "." + lower(last) + itoa(i) + "@example.com",
		first:     first,
		last:      last,
		gender:    pick(rng, []string{"female", "male", "other", "none"}),
		external:  "ext-" + itoa(100000+i),
		firstSeen: instant,
		assigned:  agentIdx,
	})
	return i
}

// timeline derives a conversation's messages and status changes: the customer
// writes, an agent answers (or, rarely, nobody does), they talk, most
// conversations are closed (DONE), and some are reopened by the customer.
func (t *tenant) timeline(c *conv) timeline {
	rng := rand.New(rand.NewPCG(c.seed, uint64(c.start.UnixMilli())))
	var tl timeline
	cur := c.start
	add := func(fromCustomer bool, agentIdx int8) int {
		m := message{at: cur, fromCustomer: fromCustomer, agent: agentIdx, phrase: int8(rng.IntN(len(phrases)))}
		m.typ = int8(weighted(rng, []int{85, 3, 2, 6, 4}))
		if fromCustomer && m.typ == 4 {
			m.typ = 0 // customers do not send cards
		}
		tl.msgs = append(tl.msgs, m)
		return len(tl.msgs) - 1
	}
	gap := func(min, spread int) { cur = cur.Add(time.Duration(min+rng.IntN(spread)) * time.Second) }
	talk := func(agentIdx int8, n int) {
		for k := 0; k < n; k++ {
			gap(10, 480)
			add(rng.IntN(2) == 0, agentIdx)
		}
	}
	answer := func(agentIdx int8) {
		cur = cur.Add(time.Duration(20+int(rng.ExpFloat64()*180)) * time.Second)
		tl.status = append(tl.status, statusChange{cur, "UNRESOLVED", add(false, agentIdx)})
	}

	tl.status = append(tl.status, statusChange{cur, "UNREAD", add(true, -1)})
	if rng.IntN(20) == 0 { // never answered
		if rng.IntN(2) == 0 {
			gap(60, 1200)
			add(true, -1)
		}
		return tl
	}
	answer(c.agent)
	talk(c.agent, 1+rng.IntN(12))
	if rng.IntN(100) >= 88 { // left open
		// Most are closed days later (a thread answered late, an e-mail
		// closed in a weekly clean-up), long after a sync's lookback.
		if rng.IntN(3) > 0 {
			gap(2*24*3600, 6*24*3600)
			tl.status = append(tl.status, statusChange{cur, "DONE", len(tl.msgs) - 1})
		}
		return tl
	}
	gap(60, 1800)
	tl.status = append(tl.status, statusChange{cur, "DONE", len(tl.msgs) - 1})
	if rng.IntN(100) >= 12 {
		return tl
	}
	// Reopened: the customer writes again hours later.
	gap(3600, 30*3600)
	tl.status = append(tl.status, statusChange{cur, "UNREAD", add(true, -1)})
	answer(c.reopener)
	talk(c.reopener, rng.IntN(4))
	gap(60, 1800)
	tl.status = append(tl.status, statusChange{cur, "DONE", len(tl.msgs) - 1})
	return tl
}

// convView is a conversation as the API shows it at now.
type convView struct {
	status                     string
	end                        time.Time // zero unless DONE
	agents                     []int     // agents who have written, in order
	messages, fromCustomer     int
	firstResponse, avgResponse time.Duration // -1 when unknown
	duration                   time.Duration
	visible                    []message
}

// view is the state of c at now: only what happened before now is seen, so
// status, end and counts keep changing after the conversation starts.
func (t *tenant) view(c *conv, now time.Time) convView {
	tl := t.timeline(c)
	v := convView{firstResponse: -1, avgResponse: -1}
	for _, s := range tl.status {
		if s.at.Before(now) {
			v.status = s.status
			if s.status == "DONE" {
				v.end = s.at
			} else {
				v.end = time.Time{}
			}
		}
	}
	var waitingSince time.Time
	var sum time.Duration
	var replies int
	for _, m := range tl.msgs {
		if !m.at.Before(now) {
			break
		}
		v.visible = append(v.visible, m)
		v.messages++
		if m.fromCustomer {
			v.fromCustomer++
			if waitingSince.IsZero() {
				waitingSince = m.at
			}
			continue
		}
		if !containsInt(v.agents, int(m.agent)) {
			v.agents = append(v.agents, int(m.agent))
		}
		if v.firstResponse < 0 {
			v.firstResponse = m.at.Sub(c.start)
		}
		if !waitingSince.IsZero() {
			sum += m.at.Sub(waitingSince)
			replies++
			waitingSince = time.Time{}
		}
	}
	if replies > 0 {
		v.avgResponse = sum / time.Duration(replies)
	}
	if v.end.IsZero() {
		v.duration = now.Sub(c.start)
	} else {
		v.duration = v.end.Sub(c.start)
	}
	return v
}

// convsStarting returns the conversations that started in [from, to) and before now.
func (t *tenant) convsStarting(from, to, now time.Time) []conv {
	if now.Before(to) {
		to = now
	}
	lo := sort.Search(len(t.convs), func(i int) bool { return !t.convs[i].start.Before(from) })
	hi := sort.Search(len(t.convs), func(i int) bool { return !t.convs[i].start.Before(to) })
	if hi < lo {
		return nil
	}
	return t.convs[lo:hi]
}

// maxConversationLength bounds how long after its start a conversation can
// still change (reopen included), so windows over message times know where
// to look.
const maxConversationLength = 3 * 24 * time.Hour

// convByID finds a conversation by id. Ids begin with the creation second
// (see idOf), so a binary search finds the few candidates.
func (t *tenant) convByID(id string) *conv {
	if len(id) != 24 {
		return nil
	}
	sec, err := strconv.ParseUint(id[:8], 16, 32)
	if err != nil {
		return nil
	}
	from := time.Unix(int64(sec), 0)
	for i := sort.Search(len(t.convs), func(i int) bool { return !t.convs[i].start.Before(from) }); i < len(t.convs); i++ {
		if t.convs[i].start.Unix() != int64(sec) {
			break
		}
		if t.convs[i].id == id {
			return &t.convs[i]
		}
	}
	return nil
}

func weighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
