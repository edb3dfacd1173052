package engagesim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// tenant is one simulated Engage account and everything that happens in it.
// Records are compact; what can be derived from a record's seed (a
// conversation's messages, a session's visits) is derived when asked, never
// stored, so a year at thousands of conversations a day fits in memory.
type tenant struct {
	id          string
	loc         *time.Location
	first, last civil.Date // generated local days, inclusive
	seed        uint64
	maxRange    int // Config.MaxRangeDays

	agents []agent
	teams  []team
	roles  []role
	rules  []rule
	// openingHours and slaRules: kpi.go.
	openingHours []openingHours
	slaRules     []slaRule
	customers    []customer
	visitors     int

	convs       []conv // sorted by start
	sessions    []session
	cobrowses   []cobrowse
	conferences []conference
	online      []span // sorted by start
	loggedIn    []span
	logs        [numLogs][]event // activity logs, sorted by (at, ref, sub)
}

type agent struct {
	id, email, name string
	night           bool
	teams           []change // team index over time
	roles           []change // role index over time
}

// change is a value taking effect at an instant.
type change struct {
	from  time.Time
	value int
}

// at returns the value in force at t (the first value before its start).
func at(cs []change, t time.Time) int {
	v := cs[0].value
	for _, c := range cs {
		if !c.from.After(t) {
			v = c.value
		}
	}
	return v
}

type team struct{ id, name string }
type role struct{ id, name string }
type rule struct {
	id, name string
	active   bool
	types    []string
}

type customer struct {
	id, email, first, last, gender, external string
	firstSeen                                time.Time
	assigned                                 int // agent index
}

// span is a time range of one agent, [start, end).
type span struct {
	agent      int
	start, end time.Time
}

var (
	agentNames = []string{"anna", "ben", "chloe", "david", "elena", "felix", "greta", "hugo", "ines", "jonas", "karla", "leon"}
	firstNames = []string{"Mia", "Noah", "Emma", "Liam", "Sofia", "Lukas", "Lea", "Paul", "Hannah", "Jakob", "Yuki", "Omar"}
	lastNames  = []string{"Huber", "Gruber", "Wagner", "Müller", "Smith", "Tanaka", "Rossi", "Novak", "Garcia", "Kim"}
)

// idOf makes a MongoDB-style id like the vendor's: the creation second, then a
// hash of what makes the thing unique.
func idOf(created time.Time, parts ...any) string {
	h := fnv.New64a()
	fmt.Fprint(h, parts...)
	return fmt.Sprintf("%08x%016x", uint32(created.Unix()), h.Sum64())
}

// rngFor is the random stream of one thing: the same seed and key always
// draw the same numbers, whatever else the world holds.
func rngFor(seed uint64, key ...any) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprint(h, key...)
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// localTime is the instant of a local day plus seconds; on DST days the
// seconds run on the real clock.
func localTime(d civil.Date, loc *time.Location, seconds int) time.Time {
	return d.Start(loc).Add(time.Duration(seconds) * time.Second)
}

// build generates the tenant's whole history for [first, last].
func (t *tenant) build(cfg Config) {
	t.setup(cfg)
	t.setupKPI()
	for d := t.first; !d.After(t.last); d = d.AddDays(1) {
		t.agentDay(d)
		t.conversationsDay(d, cfg.Scale)
		t.webDay(d, cfg.Scale)
	}
	byStart := func(ss []span) {
		sort.Slice(ss, func(i, j int) bool {
			if !ss[i].start.Equal(ss[j].start) {
				return ss[i].start.Before(ss[j].start)
			}
			return ss[i].agent < ss[j].agent
		})
	}
	byStart(t.online)
	byStart(t.loggedIn)
	// A day the clocks skip an hour has 23: a conversation drawn for its
	// last hour starts after midnight, among the next day's, and lookups
	// by id search the list by start (convByID).
	sort.SliceStable(t.convs, func(i, j int) bool { return t.convs[i].start.Before(t.convs[j].start) })
	// A co-browse or conference late in the evening may start the next day.
	sort.SliceStable(t.cobrowses, func(i, j int) bool { return t.cobrowses[i].start.Before(t.cobrowses[j].start) })
	sort.SliceStable(t.conferences, func(i, j int) bool { return t.conferences[i].start.Before(t.conferences[j].start) })
	t.buildLogs()
}

// setup creates the tenant's people and configuration: agents in teams (two
// of them change team, one changes role, half-way through the world), roles,
// routing rules.
func (t *tenant) setup(cfg Config) {
	created := t.first.AddDays(-30).Start(t.loc)
	t.roles = []role{{idOf(created, t.id, "role", 0), "Agent"}, {idOf(created, t.id, "role", 1), "Supervisor"}, {idOf(created, t.id, "role", 2), "ADMIN"}}
	for i, name := range []string{"Sales", "Support", "Billing"} {
		t.teams = append(t.teams, team{idOf(created, t.id, "team", i), name})
	}
	for i, r := range []struct {
		name   string
		active bool
		types  []string
	}{
		{"VIP customers", true, []string{"CHAT"}},
		{"German speakers", true, []string{"CHAT"}},
		{"Business hours", true, []string{"CHAT", "CALL"}},
		{"After hours", true, []string{"CHAT"}},
		{"Callbacks", false, []string{"CALL"}},
	} {
		t.rules = append(t.rules, rule{idOf(created, t.id, "rule", i), r.name, r.active, r.types})
	}
	mid := t.first.AddDays(t.first.DaysUntil(t.last) / 2)
	for i := 0; i < cfg.Agents; i++ {
		name := agentNames[i%len(agentNames)]
		if i >= len(agentNames) {
			name = fmt.Sprintf("%s%d", name, i/len(agentNames))
		}
		a := agent{
			id:    idOf(created, t.id, "agent", i),
			email: name + "@" + t.id + ".example",
			name:  string(name[0]-32) + name[1:],
			night: i%6 == 5,
			teams: []change{{created, i % len(t.teams)}},
			roles: []change{{created, 0}},
		}
		if i == 0 {
			a.roles[0].value = 2 // the admin
		}
		switch i {
		case 1, 4: // move to the next team at noon of the middle day
			a.teams = append(a.teams, change{localTime(mid, t.loc, 12*3600), (i + 1) % len(t.teams)})
		case 2: // promoted
			a.roles = append(a.roles, change{localTime(mid.AddDays(1), t.loc, 9*3600), 1})
		}
		t.agents = append(t.agents, a)
	}
}

// agentDay draws every agent's working day: one or two logged-in sessions,
// and online blocks inside them. Instants fall on whole seconds.
func (t *tenant) agentDay(d civil.Date) {
	for i, a := range t.agents {
		rng := rngFor(t.seed, t.id, "shift", i, d.Key())
		wd := d.Start(t.loc).Weekday()
		if ((wd == time.Saturday || wd == time.Sunday) && rng.IntN(10) < 7) || rng.IntN(10) == 0 {
			continue // day off
		}
		startHour := 7
		if a.night {
			startHour = 20
		}
		begin := time.Date(d.Year, d.Month, d.Day, startHour, 0, 0, 0, t.loc).Add(time.Duration(rng.IntN(3*3600)) * time.Second)
		length := time.Duration(6*3600+rng.IntN(3*3600)) * time.Second
		end := begin.Add(length)
		sessions := [][2]time.Time{{begin, end}}
		if length > 7*time.Hour {
			mid := begin.Add((length / 2).Truncate(time.Second))
			brk := time.Duration(30*60+rng.IntN(30*60)) * time.Second
			sessions = [][2]time.Time{{begin, mid}, {mid.Add(brk), end}}
		}
		for _, s := range sessions {
			t.loggedIn = append(t.loggedIn, span{i, s[0], s[1]})
			cur := s[0].Add(time.Duration(60+rng.IntN(540)) * time.Second)
			stop := s[1].Add(-time.Duration(60+rng.IntN(240)) * time.Second)
			for cur.Before(stop) {
				blockEnd := cur.Add(time.Duration(40*60+rng.IntN(110*60)) * time.Second)
				if blockEnd.After(stop) {
					blockEnd = stop
				}
				t.online = append(t.online, span{i, cur, blockEnd})
				cur = blockEnd.Add(time.Duration(3*60+rng.IntN(17*60)) * time.Second)
			}
		}
	}
}

// dayCount is how many things of a kind a local day has at a given scale:
// fewer at weekends, a little noise otherwise.
func dayCount(rng *rand.Rand, d civil.Date, loc *time.Location, scale float64) int {
	f := 0.85 + 0.3*rng.Float64()
	if wd := d.Start(loc).Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 0.4
	}
	return int(scale*f + 0.5)
}

// busySecond draws a second of the local day, mostly in business hours.
func busySecond(rng *rand.Rand) int {
	if rng.IntN(10) < 7 {
		return 8*3600 + rng.IntN(10*3600)
	}
	return rng.IntN(24 * 3600)
}

// visible cuts a span at now: what has not started does not exist, what is
// still running ends now.
func (s span) visible(now time.Time) (span, bool) {
	if !s.start.Before(now) {
		return s, false
	}
	if s.end.After(now) {
		s.end = now
	}
	return s, true
}

// splitByDay calls fn with each local day a range touches and the part of
// the range within it, so a range over midnight counts on both days and a
// 25-hour DST day counts 25 hours.
func splitByDay(start, end time.Time, loc *time.Location, fn func(civil.Date, time.Time, time.Duration)) {
	for d := civil.Of(start, loc); start.Before(end); d = d.AddDays(1) {
		next := d.AddDays(1).Start(loc)
		segEnd := end
		if next.Before(end) {
			segEnd = next
		}
		if segEnd.After(start) {
			fn(d, start, segEnd.Sub(start))
		}
		start = segEnd
	}
}
