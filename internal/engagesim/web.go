package engagesim

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

var (
	devices   = []string{"DESKTOP", "MOBILE", "TABLET"}
	browsers  = []string{"CHROME", "SAFARI", "FIREFOX", "EDGE"}
	countries = []string{"AT", "DE", "US", "GB", "JP", "FR"}
	reasons   = []string{"CLOSED", "TIMEOUT", "NAVIGATED_AWAY", "CHAT_STARTED"}
	paths     = []string{"/", "/pricing", "/products", "/products/engage", "/support", "/contact", "/blog/remote-support"}
)

// session is one website visitor session; its visits derive from seed.
type session struct {
	id      string
	start   time.Time
	seed    uint64
	visitor int32
	device  int8
	browser int8
	country int8
	reason  int8
}

// visit is one page view of a session.
type visit struct {
	id         string
	path       string
	start, end time.Time
}

// cobrowse is a co-browsing session of an agent with a customer's browser.
type cobrowse struct {
	id         string
	agent      int8
	customer   int32
	start, end time.Time
}

// conference is a video call hosted by an agent.
type conference struct {
	id           string
	agent        int8
	customer     int32
	participants int8
	start, end   time.Time
}

// webDay generates a day of website sessions, co-browsing and conferences.
func (t *tenant) webDay(d civil.Date, scale float64) {
	rng := rngFor(t.seed, t.id, "web", d.Key())
	n := dayCount(rng, d, t.loc, scale)
	day := make([]session, 0, n)
	for k := 0; k < n; k++ {
		start := localTime(d, t.loc, busySecond(rng))
		visitor := t.visitors
		if t.visitors > 10 && rng.IntN(10) < 3 {
			visitor = rng.IntN(t.visitors)
		} else {
			t.visitors++
		}
		day = append(day, session{
			id: idOf(start, t.id, "session", d.Key(), k), start: start, seed: rng.Uint64(), visitor: int32(visitor),
			device: int8(weighted(rng, []int{60, 35, 5})), browser: int8(weighted(rng, []int{55, 25, 12, 8})),
			country: int8(rng.IntN(len(countries))), reason: int8(rng.IntN(len(reasons))),
		})
	}
	sort.Slice(day, func(i, j int) bool { return day[i].start.Before(day[j].start) })
	base := len(t.sessions)
	t.sessions = append(t.sessions, day...)

	for k := 0; k < max(1, n/20) && n > 0; k++ {
		s := t.sessions[base+rng.IntN(n)]
		start := s.start.Add(time.Duration(30+rng.IntN(300)) * time.Second)
		t.cobrowses = append(t.cobrowses, cobrowse{
			id: idOf(start, t.id, "cobrowse", d.Key(), k), agent: int8(rng.IntN(len(t.agents))),
			customer: int32(rng.IntN(max(1, len(t.customers)))),
			start:    start, end: start.Add(time.Duration(120+rng.IntN(2400)) * time.Second),
		})
	}
	for k := 0; k < max(1, n/25) && n > 0; k++ {
		start := localTime(d, t.loc, 8*3600+rng.IntN(10*3600))
		t.conferences = append(t.conferences, conference{
			id: idOf(start, t.id, "conference", d.Key(), k), agent: int8(rng.IntN(len(t.agents))),
			customer: int32(rng.IntN(max(1, len(t.customers)))), participants: int8(2 + rng.IntN(5)),
			start: start, end: start.Add(time.Duration(300+rng.IntN(3300)) * time.Second),
		})
	}
}

// visits derives a session's page views: one to six, back to back.
func (t *tenant) visits(s *session) []visit {
	rng := rand.New(rand.NewPCG(s.seed, 7))
	n := 1 + weighted(rng, []int{35, 25, 15, 12, 8, 5})
	out := make([]visit, 0, n)
	cur := s.start
	for k := 0; k < n; k++ {
		end := cur.Add(time.Duration(5+rng.IntN(360)) * time.Second)
		out = append(out, visit{id: idOf(cur, s.id, "visit", k), path: pick(rng, paths), start: cur, end: end})
		cur = end.Add(time.Duration(rng.IntN(20)) * time.Second)
	}
	return out
}

// sessionEnd is the end of a session's last visit.
func (t *tenant) sessionEnd(s *session) time.Time {
	vs := t.visits(s)
	return vs[len(vs)-1].end
}

func (t *tenant) visitorID(i int32) string { return idOf(t.first.Start(t.loc), t.id, "visitor", i) }

func (t *tenant) url(path string) string { return "https://www." + t.id + ".example" + path }

// maxSessionLength bounds a session (six visits of at most six minutes).
const maxSessionLength = 45 * time.Minute

// sessionsStarting returns the sessions that started in [from, to).
func (t *tenant) sessionsStarting(from, to time.Time) []session {
	lo := sort.Search(len(t.sessions), func(i int) bool { return !t.sessions[i].start.Before(from) })
	hi := sort.Search(len(t.sessions), func(i int) bool { return !t.sessions[i].start.Before(to) })
	if hi < lo {
		return nil
	}
	return t.sessions[lo:hi]
}

func lower(s string) string { return strings.ToLower(s) }
func itoa(i int) string     { return strconv.Itoa(i) }
