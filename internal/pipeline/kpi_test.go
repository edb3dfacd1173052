package pipeline_test

import (
	"context"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// The KPI world: Vienna around the spring change of 2026 (Sunday 29 March,
// 02:00 -> 03:00) and Easter Monday (6 April, a holiday of the simulator's
// opening hours), synced once.
var (
	kpiNow     = time.Date(2026, 4, 9, 15, 0, 0, 0, time.UTC)
	dstDay     = civil.Date{Year: 2026, Month: 3, Day: 29}
	holidayDay = civil.Date{Year: 2026, Month: 4, Day: 6}
)

func kpiWorld(c *engagesim.Config) { c.Now, c.Days, c.Scale = kpiNow, 21, 40 }

// TestKPIViewsAgreeWithTheSimulatorsWorld syncs three weeks of a Vienna
// tenant, across a DST change and a holiday, and compares every KPI view
// with figures the simulator computes in Go from its own world (its
// conversations, its opening hours and holidays, its SLA rules, its agents'
// online ranges), not from the warehouse or the views' SQL: per
// conversation the business first response, its rule and whether it met the
// target; per day the service level, the backlog at midnight and the
// response-time buckets; per hour the volume; per agent and day the
// utilization.
func TestKPIViewsAgreeWithTheSimulatorsWorld(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	f := newFixture(t, engagesim.Faults{}, kpiWorld)
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	loc := f.tenant.Location
	from, today := f.tenant.Start, civil.Of(kpiNow, loc)
	world, err := f.sim.ConversationKPIs(f.tenant.ID, from, today.AddDays(1))
	if err != nil {
		t.Fatal(err)
	}
	pool := f.store.Pool()

	t.Run("per conversation", func(t *testing.T) {
		type got struct {
			calendar, business, avgBusiness *float64
			rule                            *string
			within                          *bool
		}
		rows, err := pool.Query(ctx, `SELECT conversation_id, first_response_seconds::float8, first_response_business_seconds::float8, avg_response_business_seconds::float8,
       sla_rule, first_response_within_target
FROM bi.conversation_response_times WHERE tenant_id = $1`, f.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		views := map[string]got{}
		for rows.Next() {
			var id string
			var g got
			if err := rows.Scan(&id, &g.calendar, &g.business, &g.avgBusiness, &g.rule, &g.within); err != nil {
				t.Fatal(err)
			}
			views[id] = g
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(views) != len(world) {
			t.Errorf("the view has %d conversations, the world %d", len(views), len(world))
		}
		var onHoliday, onDSTWeek, outside int
		for _, w := range world {
			g, ok := views[w.ID]
			if !ok {
				t.Errorf("conversation %s of %s is not in the view", w.ID, w.Day)
				continue
			}
			if w.BusinessAvgResponse < 0 && g.avgBusiness != nil ||
				w.BusinessAvgResponse >= 0 && (g.avgBusiness == nil || math.Abs(*g.avgBusiness-w.BusinessAvgResponse.Seconds()) > 0.001) {
				t.Errorf("%s: mean business response %v s, the world %v s", w.ID, deref(g.avgBusiness), w.BusinessAvgResponse.Seconds())
			}
			if w.FirstResponse < 0 {
				if g.business != nil || g.within != nil {
					t.Errorf("%s is unanswered, the view says business %v, within %v", w.ID, deref(g.business), deref(g.within))
				}
				continue
			}
			if g.business == nil || math.Abs(*g.business-w.BusinessFirstResponse.Seconds()) > 0.001 {
				t.Errorf("%s (%s, started %s, answered after %s): business first response %v s, the world %v s",
					w.ID, w.Channel, w.Start.In(loc).Format(time.DateTime), w.FirstResponse, deref(g.business), w.BusinessFirstResponse.Seconds())
			}
			if g.calendar == nil || math.Abs(*g.calendar-w.FirstResponse.Seconds()) > 0.001 {
				t.Errorf("%s: calendar first response %v s, the world %v s", w.ID, deref(g.calendar), w.FirstResponse.Seconds())
			}
			if deref(g.rule) != w.Rule {
				t.Errorf("%s (%s, team %s): SLA rule %q, the world %q", w.ID, w.Channel, w.TeamID, deref(g.rule), w.Rule)
			}
			if w.Rule != "" {
				want := w.BusinessFirstResponse <= w.Target
				if g.within == nil || *g.within != want {
					t.Errorf("%s: within target %v, the world %v (%s against %s)", w.ID, deref(g.within), want, w.BusinessFirstResponse, w.Target)
				}
			}
			switch {
			case w.Day == holidayDay && w.Rule != "" && w.FirstResponse > 0:
				onHoliday++
				if w.BusinessFirstResponse != 0 {
					t.Errorf("%s on the holiday counts %s of business time", w.ID, w.BusinessFirstResponse)
				}
			case w.Day.After(dstDay) && w.Day.Before(dstDay.AddDays(6)) && w.Rule != "" && w.BusinessFirstResponse > 0:
				onDSTWeek++ // office hours on summer time: a fixed offset would count an hour off
			}
			if w.Rule != "" && w.BusinessFirstResponse < w.FirstResponse {
				outside++
			}
		}
		if onHoliday == 0 || onDSTWeek == 0 || outside == 0 {
			t.Errorf("the world proves little: %d answered conversations on the holiday, %d counted in office hours the week after the DST change, %d with a wait partly outside the hours",
				onHoliday, onDSTWeek, outside)
		}
	})

	t.Run("business seconds over the DST night", func(t *testing.T) {
		// Saturday 28 March 12:00 CET to Monday 30 March 09:00 CEST in
		// office hours: Saturday 12:00-13:00 and Monday 08:00-09:00, two
		// hours, though 45 hours pass on the clock minus the missing one.
		var secs float64
		err := pool.QueryRow(ctx, `SELECT engage.business_seconds(oh.slots, oh.holidays, 'Europe/Vienna', '2026-03-28 12:00+01', '2026-03-30 09:00+02')::float8
FROM engage.dim_opening_hours oh WHERE oh.name = 'Office hours'`).Scan(&secs)
		if err != nil {
			t.Fatal(err)
		}
		if secs != 7200 {
			t.Errorf("business seconds over the DST weekend: %v, want 7200", secs)
		}
	})

	t.Run("service level per day and rule", func(t *testing.T) {
		type key struct {
			day  string
			rule string
		}
		want := map[key][2]int{} // answered, within
		for _, w := range world {
			if w.Rule == "" || w.FirstResponse < 0 {
				continue
			}
			k := key{w.Day.String(), w.Rule}
			v := want[k]
			v[0]++
			if w.BusinessFirstResponse <= w.Target {
				v[1]++
			}
			want[k] = v
		}
		rows, err := pool.Query(ctx, `SELECT day::text, sla_rule, sum(answered)::int, sum(within_target)::int FROM bi.service_level
WHERE tenant_id = $1 GROUP BY 1, 2 HAVING sum(answered) > 0`, f.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[key][2]int{}
		for rows.Next() {
			var k key
			var v [2]int
			if err := rows.Scan(&k.day, &k.rule, &v[0], &v[1]); err != nil {
				t.Fatal(err)
			}
			got[k] = v
		}
		compareMaps(t, "answered and within target", got, want)
		met, all := 0, 0
		for _, v := range want {
			all += v[0]
			met += v[1]
		}
		if met == 0 || met == all {
			t.Errorf("every or no conversation met its target (%d of %d): the comparison proves little", met, all)
		}
	})

	t.Run("response time buckets", func(t *testing.T) {
		bounds := []float64{30, 60, 120, 300, 900, 3600, 14400, 86400}
		want := map[[2]string]int{}
		for _, w := range world {
			if w.FirstResponse < 0 {
				continue
			}
			b := sort.SearchFloat64s(bounds, w.BusinessFirstResponse.Seconds()+1e-9) + 1 // [lower, upper)
			want[[2]string{w.Day.String(), string(rune('0' + b))}]++
		}
		rows, err := pool.Query(ctx, `SELECT day::text, bucket_order::text, sum(conversations)::int FROM bi.response_time_buckets
WHERE tenant_id = $1 AND basis = 'business' GROUP BY 1, 2`, f.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[[2]string]int{}
		for rows.Next() {
			var k [2]string
			var n int
			if err := rows.Scan(&k[0], &k[1], &n); err != nil {
				t.Fatal(err)
			}
			got[k] = n
		}
		compareMaps(t, "answered conversations by day and bucket", got, want)
	})

	t.Run("volume by local hour", func(t *testing.T) {
		want := map[[3]string]int{}
		for _, w := range world {
			l := w.Start.In(loc)
			want[[3]string{w.Day.String(), time.Duration(l.Hour()).String(), w.Channel}]++
		}
		rows, err := pool.Query(ctx, `SELECT day::text, hour, channel, conversations::int FROM bi.volume_by_local_hour WHERE tenant_id = $1`, f.tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[[3]string]int{}
		dstHours := map[int]bool{}
		for rows.Next() {
			var day, channel string
			var hour, n int
			if err := rows.Scan(&day, &hour, &channel, &n); err != nil {
				t.Fatal(err)
			}
			got[[3]string{day, time.Duration(hour).String(), channel}] = n
			if day == dstDay.String() {
				dstHours[hour] = true
			}
		}
		compareMaps(t, "conversations by day, local hour and channel", got, want)
		if dstHours[2] {
			t.Errorf("the DST day has conversations at 02:xx, an hour its clocks skip")
		}
	})

	t.Run("backlog at midnight", func(t *testing.T) {
		want := map[string][2]int{} // open at midnight, of them started before the day
		for d := from; d.Before(today); d = d.AddDays(1) {
			dayStart, midnight := d.Start(loc), d.AddDays(1).Start(loc)
			var v [2]int // a day with none is a row too
			for _, w := range world {
				if w.Start.Before(midnight) && (w.End.IsZero() || !w.End.Before(midnight)) {
					v[0]++
					if w.Start.Before(dayStart) {
						v[1]++
					}
				}
			}
			want[d.String()] = v
		}
		rows, err := pool.Query(ctx, `SELECT day::text, open_conversations::int, open_since_before::int FROM bi.backlog WHERE tenant_id = $1 AND day >= $2 AND day < $3`,
			f.tenant.ID, from.String(), today.String())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]int{}
		for rows.Next() {
			var day string
			var v [2]int
			if err := rows.Scan(&day, &v[0], &v[1]); err != nil {
				t.Fatal(err)
			}
			got[day] = v
		}
		compareMaps(t, "conversations open at the end of the day, and of them started before it", got, want)
	})

	t.Run("agent utilization", func(t *testing.T) {
		type key struct{ agent, day string }
		want := map[key][2]float64{}
		byAgent := map[string][][2]time.Time{}
		for _, w := range world {
			for a, times := range w.AgentMessages {
				spans := map[civil.Date][2]time.Time{} // first and last message of each local day
				for _, at := range times {
					d := civil.Of(at, loc)
					sp, ok := spans[d]
					if !ok {
						sp[0] = at
					}
					sp[1] = at
					spans[d] = sp
				}
				for _, sp := range spans {
					byAgent[a] = append(byAgent[a], sp)
				}
			}
		}
		rows, err := pool.Query(ctx, `SELECT agent_email, day::text, online_seconds::float8, in_conversation_seconds::float8 FROM bi.agent_utilization
WHERE tenant_id = $1 AND day > $2 AND day < $3`, f.tenant.ID, from.String(), today.String())
		if err != nil {
			t.Fatal(err)
		}
		got := map[key][2]float64{}
		agents := map[string]bool{}
		for rows.Next() {
			var k key
			var v [2]float64
			if err := rows.Scan(&k.agent, &k.day, &v[0], &v[1]); err != nil {
				t.Fatal(err)
			}
			got[k] = v
			agents[k.agent] = true
		}
		for a := range agents {
			online, err := f.sim.OnlineSpans(f.tenant.ID, a, kpiNow)
			if err != nil {
				t.Fatal(err)
			}
			for d := from.AddDays(1); d.Before(today); d = d.AddDays(1) {
				day := [2]time.Time{d.Start(loc), d.AddDays(1).Start(loc)}
				on := clip(online, day)
				if len(on) == 0 {
					continue
				}
				want[key{a, d.String()}] = [2]float64{seconds(on), seconds(intersect(clip(byAgent[a], day), on))}
			}
		}
		busy, online := 0.0, 0.0
		for _, w := range want {
			online += w[0]
			busy += w[1]
		}
		if online == 0 || busy == 0 || busy >= online {
			t.Fatalf("agents online %v s, handling conversations %v s of it: the comparison proves little", online, busy)
		}
		for k, w := range want {
			g, ok := got[k]
			if !ok || math.Abs(g[0]-w[0]) > 0.001 || math.Abs(g[1]-w[1]) > 0.001 {
				t.Errorf("%s on %s: online %v s, in conversations %v s; the world %v s and %v s", k.agent, k.day, g[0], g[1], w[0], w[1])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s on %s is in the view, not online in the world", k.agent, k.day)
			}
		}
	})
}

// TestChangedSLARulesReachEveryConversation: a commit of SLA rules that
// changes what a rule counts in (here the live channels' opening hours
// dropped: around the clock) refreshes the business figures of every
// conversation of the tenant, which the load keeps
// (engage.conversation_business); the same rules committed again write
// nothing.
func TestChangedSLARulesReachEveryConversation(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	f := newFixture(t, engagesim.Faults{}, kpiWorld)
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	pool := f.store.Pool()
	differ := func() (int, int) {
		var answered, differing int
		if err := pool.QueryRow(ctx, `SELECT count(first_response_seconds)::int, count(*) FILTER (WHERE first_response_business_seconds <> first_response_seconds)::int
FROM bi.conversation_response_times WHERE sla_rule = 'Live channels'`).Scan(&answered, &differing); err != nil {
			t.Fatal(err)
		}
		return answered, differing
	}
	answered, differing := differ()
	if answered == 0 || differing == 0 {
		t.Fatalf("live channels: %d answered, %d with business time other than calendar time: the test proves nothing", answered, differing)
	}
	rows, err := pool.Query(ctx, `SELECT sla_rule_id, position, name, active, team_ids, channels, opening_hours_id, first_response_seconds::bigint, response_seconds::bigint, watchdog_enabled
FROM engage.dim_sla_rule WHERE listed ORDER BY position`)
	if err != nil {
		t.Fatal(err)
	}
	var rules []transform.SLARuleRow
	for rows.Next() {
		var r transform.SLARuleRow
		if err := rows.Scan(&r.ID, &r.Position, &r.Name, &r.Active, &r.TeamIDs, &r.Channels, &r.OpeningHoursID, &r.FirstResponseSeconds, &r.ResponseSeconds, &r.Watchdog); err != nil {
			t.Fatal(err)
		}
		if r.Name == "Live channels" {
			r.OpeningHoursID = nil
		}
		rules = append(rules, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	tk, err := f.store.EnsureTenant(ctx, f.tenant.ID, f.tenant.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	today := civil.Of(kpiNow, f.tenant.Location)
	var mark time.Time
	refreshed := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*)::int FROM engage.conversation_business WHERE loaded_at > $1`, mark).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	commit := func() int64 {
		n, err := f.store.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: f.tenant.ID, Stream: "sla_rules",
			Batch: load.SLARuleBatch(today, rules), Rows: len(rules)})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	mark = time.Now()
	if n := commit(); n != 1 || refreshed() < differing {
		t.Errorf("the changed rules wrote %d rows and refreshed %d conversations: want the rule, and the %d whose business time changed", n, refreshed(), differing)
	}
	if a, d := differ(); a != answered || d != 0 {
		t.Errorf("after the rule counts around the clock: %d of %d answered still differ from calendar time, want none", d, a)
	}
	mark = time.Now()
	if n := commit(); n != 0 || refreshed() != 0 {
		t.Errorf("the same rules committed again wrote %d rows and refreshed %d conversations, want none", n, refreshed())
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func compareMaps[K comparable, V comparable](t *testing.T, what string, got, want map[K]V) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the world has none, the comparison proves nothing", what)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s, %v: the view %v, the world %v", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s, %v: the view %v, the world none", what, k, g)
		}
	}
}

// clip cuts ranges to a window, dropping what falls outside.
func clip(rs [][2]time.Time, w [2]time.Time) [][2]time.Time {
	var out [][2]time.Time
	for _, r := range rs {
		a, b := r[0], r[1]
		if a.Before(w[0]) {
			a = w[0]
		}
		if b.After(w[1]) {
			b = w[1]
		}
		if b.After(a) {
			out = append(out, [2]time.Time{a, b})
		}
	}
	return union(out)
}

// union merges overlapping ranges, sorted.
func union(rs [][2]time.Time) [][2]time.Time {
	sort.Slice(rs, func(i, j int) bool { return rs[i][0].Before(rs[j][0]) })
	var out [][2]time.Time
	for _, r := range rs {
		if n := len(out); n > 0 && !r[0].After(out[n-1][1]) {
			if r[1].After(out[n-1][1]) {
				out[n-1][1] = r[1]
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// intersect is the time both sets of disjoint ranges cover.
func intersect(a, b [][2]time.Time) [][2]time.Time {
	var out [][2]time.Time
	for _, x := range a {
		for _, y := range b {
			lo, hi := x[0], x[1]
			if y[0].After(lo) {
				lo = y[0]
			}
			if y[1].Before(hi) {
				hi = y[1]
			}
			if hi.After(lo) {
				out = append(out, [2]time.Time{lo, hi})
			}
		}
	}
	return union(out)
}

func seconds(rs [][2]time.Time) float64 {
	var s time.Duration
	for _, r := range rs {
		s += r[1].Sub(r[0])
	}
	return s.Seconds()
}
