package engagesim

import (
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// tenant is one simulated Engage account and everything that happened in it.
type tenant struct {
	id       string
	loc      *time.Location
	first    civil.Date // first local day of the world
	agents   []agent
	online   []span // sorted by start; not yet cut at "now"
	loggedIn []span
}

type agent struct {
	email string
	name  string
	night bool // works the night shift, across local midnight
}

// span is a time range of one agent, [start, end).
type span struct {
	agent      int
	start, end time.Time
}

var agentNames = []string{"anna", "ben", "chloe", "david", "elena", "felix", "greta", "hugo", "ines", "jonas", "karla", "leon"}

// horizon is how far past "now" the world is generated, so a moving clock
// keeps finding new data.
func horizon(cfg Config) int {
	if cfg.ClockRate > 0 {
		return 30
	}
	return 1
}

// generate builds a tenant's history. Every day of every agent draws from its
// own random stream keyed by (seed, tenant, agent, day), so a day's data does
// not depend on how many days the world holds or when it was built.
func generate(cfg Config, tc TenantConfig, loc *time.Location) *tenant {
	today := civil.Of(cfg.Now, loc)
	t := &tenant{id: tc.ID, loc: loc, first: today.AddDays(1 - cfg.Days)}
	for i := 0; i < cfg.Agents; i++ {
		name := agentNames[i%len(agentNames)]
		if i >= len(agentNames) {
			name += string(rune('0' + i/len(agentNames)))
		}
		t.agents = append(t.agents, agent{
			email: name + "@" + tc.ID + ".example",
			name:  string(name[0]-32) + name[1:],
			night: i%6 == 5,
		})
	}
	last := today.AddDays(horizon(cfg))
	for d := t.first; !d.After(last); d = d.AddDays(1) {
		for i, a := range t.agents {
			rng := rand.New(rand.NewPCG(cfg.Seed, mix(tc.ID, uint64(i), uint64(d.Key()))))
			login, online := shift(rng, a, d, loc)
			for _, s := range login {
				t.loggedIn = append(t.loggedIn, span{i, s[0], s[1]})
			}
			for _, s := range online {
				t.online = append(t.online, span{i, s[0], s[1]})
			}
		}
	}
	byStart := func(ss []span) {
		sort.Slice(ss, func(i, j int) bool {
			if !ss[i].start.Equal(ss[j].start) {
				return ss[i].start.Before(ss[j].start)
			}
			return ss[i].agent < ss[j].agent
		})
	}
	byStart(t.loggedIn)
	byStart(t.online)
	return t
}

// shift draws one agent's working day: one or two logged-in sessions, and
// online blocks inside them with short breaks. Instants fall on whole seconds.
func shift(rng *rand.Rand, a agent, d civil.Date, loc *time.Location) (login, online [][2]time.Time) {
	weekend := d.Start(loc).Weekday() == time.Saturday || d.Start(loc).Weekday() == time.Sunday
	if (weekend && rng.IntN(10) < 7) || rng.IntN(10) == 0 {
		return nil, nil // day off
	}
	startHour := 7
	if a.night {
		startHour = 20
	}
	begin := time.Date(d.Year, d.Month, d.Day, startHour, 0, 0, 0, loc).
		Add(time.Duration(rng.IntN(3*3600)) * time.Second)
	length := 6*time.Hour + time.Duration(rng.IntN(3*3600))*time.Second
	end := begin.Add(length)

	sessions := [][2]time.Time{{begin, end}}
	if length > 7*time.Hour {
		mid := begin.Add((length / 2).Truncate(time.Second))
		brk := time.Duration(30*60+rng.IntN(30*60)) * time.Second
		sessions = [][2]time.Time{{begin, mid}, {mid.Add(brk), end}}
	}
	for _, s := range sessions {
		login = append(login, s)
		cur := s[0].Add(time.Duration(60+rng.IntN(540)) * time.Second)
		stop := s[1].Add(-time.Duration(60+rng.IntN(240)) * time.Second)
		for cur.Before(stop) {
			blockEnd := cur.Add(time.Duration(40*60+rng.IntN(110*60)) * time.Second)
			if blockEnd.After(stop) {
				blockEnd = stop
			}
			online = append(online, [2]time.Time{cur, blockEnd})
			cur = blockEnd.Add(time.Duration(3*60+rng.IntN(17*60)) * time.Second)
		}
	}
	return login, online
}

// mix derives a random stream id from a tenant and two numbers.
func mix(tenantID string, a, b uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(tenantID))
	var buf [16]byte
	for i := 0; i < 8; i++ {
		buf[i] = byte(a >> (8 * i))
		buf[8+i] = byte(b >> (8 * i))
	}
	h.Write(buf[:])
	return h.Sum64()
}

// visible cuts a span at now: what has not started yet does not exist, what is
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
func splitByDay(start, end time.Time, loc *time.Location, fn func(civil.Date, time.Duration)) {
	for d := civil.Of(start, loc); start.Before(end); d = d.AddDays(1) {
		next := d.AddDays(1).Start(loc)
		segEnd := end
		if next.Before(end) {
			segEnd = next
		}
		if segEnd.After(start) {
			fn(d, segEnd.Sub(start))
		}
		start = segEnd
	}
}
