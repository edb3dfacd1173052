package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// Sync runs an incremental sync of streams for every tenant: each stream
// continues from its cursor, re-reading its lookback, through today. A list
// loaded less than ListRefresh ago is planned as done (see upToDate).
func (r *Runner) Sync(ctx context.Context, tenants []Tenant, streams []catalog.Stream) (Result, error) {
	return r.run(ctx, "sync", tenants, streams, r.syncPlanner())
}

// syncPlanner plans a stream's sync from its cursor.
func (r *Runner) syncPlanner() planner {
	return func(ctx context.Context, t Tenant, s catalog.Stream, cursor time.Time) (plan, error) {
		now := r.Now()
		p := plan{advance: true}
		switch kinds.Of(s.Kind).Planning {
		case kinds.PlanSnapshot:
			p.windows = []extract.Window{extract.Snapshot(now, t.Location)}
			fresh, err := r.upToDate(ctx, t, s, cursor, now)
			if err != nil {
				return p, err
			}
			if fresh {
				p.done, p.skipped, p.fresh = []bool{true}, 1, true
			}
		case kinds.PlanSince:
			p.windows = []extract.Window{extract.Since(cursor, t.Start, s.Lookback, now, t.Location)}
		default:
			from, to := extract.SyncRange(cursor, t.Start, s.Lookback, now, t.Location)
			if first := civil.Of(now, t.Location).AddDays(1 - r.MessageHistoryDays); cursor.IsZero() && r.MessageHistoryDays > 0 &&
				kinds.Of(s.Kind).FirstLoad == kinds.FirstLast && from.Before(first) {
				from = first // sync.message_history_days: a request per conversation
			}
			var err error
			if p.windows, p.counts, err = r.planDays(ctx, t, s, from, to, r.longLoad(t, cursor, now)); err != nil {
				return p, err
			}
			reopen, err := r.openDays(ctx, t, s, cursor, from, now)
			if err != nil {
				return p, err
			}
			p.windows = append(reopen, p.windows...)
			if err := r.planShortDays(ctx, t, s, &p); err != nil {
				return p, err
			}
			if r.longLoad(t, cursor, now) {
				// A long sync records its finished windows like a backfill:
				// it runs newest first, so its cursor moves only once the
				// oldest window is in, and a killed one resumes with the
				// windows it finished before the lookback left out.
				p.resumable = true
				before := now.Add(-s.Lookback) // a window in the lookback is read again
				if err := r.skipFinished(ctx, t, s, &p, func(end, _ time.Time) bool { return !end.After(before) }); err != nil {
					return p, err
				}
			}
		}
		if r.longLoad(t, cursor, now) {
			p.inRounds(kinds.Of(s.Kind), r.recentFrom(t, now))
		}
		return p, nil
	}
}

// planDays plans the local days [from, to) of a stream: as many days a
// request as it may ask (windowDays); in a long load, a detail kind that a
// report counts asks as many days as hold DetailWindowElements by those
// counts (counts.go), its recent days apart from older history, and
// returns the counts (an answer holding fewer is fetched again in pieces:
// capped.go). A count that fails leaves the windows their length: it only
// saves requests.
func (r *Runner) planDays(ctx context.Context, t Tenant, s catalog.Stream, from, to civil.Date, long bool) ([]extract.Window, dayCounts, error) {
	limit, err := r.windowLimit(ctx, t, s)
	if err != nil {
		return nil, nil, err
	}
	days := s.WindowDays
	if limit > 0 {
		days = min(days, limit)
	}
	def := kinds.Of(s.Kind)
	if !long || def.FirstLoad != kinds.FirstDetail || !from.Before(to) {
		return extract.Plan(from, to, days, t.Location), nil, nil
	}
	c, ok, err := r.countsOf(ctx, t, def, from, to)
	if err != nil {
		// A refused token is reported once, by the stream's own requests.
		level := slog.LevelWarn
		if engage.IsAuth(err) {
			level = slog.LevelDebug
		}
		r.Log.Log(ctx, level, "cannot count the stream's elements per day: its windows keep their length", "tenant", t.ID, "stream", s.Name, "error", err)
	}
	if !ok {
		return extract.Plan(from, to, days, t.Location), nil, nil
	}
	maxDays := maxWindowDays
	if limit > 0 {
		maxDays = min(maxDays, limit)
	}
	target := float64(r.detailTarget(s))
	recent := civil.Of(r.recentFrom(t, r.Now()), t.Location)
	if !from.Before(recent) || !recent.Before(to) {
		return extract.PlanCounted(from, to, c.of, target, maxDays, t.Location), c, nil
	}
	return append(extract.PlanCounted(from, recent, c.of, target, maxDays, t.Location),
		extract.PlanCounted(recent, to, c.of, target, maxDays, t.Location)...), c, nil
}

// detailTarget is how many elements a counted detail window holds at
// most: DetailWindowElements, and under half the API's cap when one is
// configured (max_elements), so that a busy day's window is not cut.
func (r *Runner) detailTarget(s catalog.Stream) int {
	target := r.DetailWindowElements
	if target <= 0 {
		target = DefaultDetailWindowElements
	}
	if s.MaxElements > 0 {
		target = min(target, max(1, s.MaxElements/2))
	}
	return target
}

// recentFrom is the start of the first of the RecentDays local days a
// long load counts as recent (today is one of them).
func (r *Runner) recentFrom(t Tenant, now time.Time) time.Time {
	return civil.Of(now, t.Location).AddDays(1 - r.recentDays()).Start(t.Location)
}

func (r *Runner) recentDays() int {
	if r.RecentDays <= 0 {
		return DefaultRecentDays
	}
	return r.RecentDays
}

// longLoad reports whether a sync of a stream at cursor is a long load
// (rounds.go): a first one, or one whose cursor is older than the recent
// days.
func (r *Runner) longLoad(t Tenant, cursor, now time.Time) bool {
	return cursor.IsZero() || cursor.Before(r.recentFrom(t, now))
}

// skipFinished marks done the windows of a resumable plan that a run (any
// process's) finished, as etl.backfill_window records, and that skip
// accepts, given the window's end and when it finished.
func (r *Runner) skipFinished(ctx context.Context, t Tenant, s catalog.Stream, p *plan, skip func(end, finished time.Time) bool) error {
	finished, err := r.Store.FinishedBackfillWindows(ctx, t.ID, s.Name)
	if err != nil {
		return err
	}
	if p.done == nil {
		p.done = make([]bool, len(p.windows))
	}
	for i, w := range p.windows {
		if at, ok := finished[[2]int64{w.Start.UnixMilli(), w.End.UnixMilli()}]; ok && !p.done[i] && skip(w.End, at) {
			p.done[i] = true
			p.skipped++
		}
	}
	return nil
}

// planShortDays marks, for a Capped kind, the windows of the days whose
// rows fell short of their report at the last reconciliation, to be
// fetched in pieces (capped.go) whatever their answer's length: a cap
// that no two answers showed. A short day the plan does not hold (past
// the lookback) gets a window of its own, back to OpenHorizon (or the
// lookback), planned first: the windows that move the cursor stay last.
func (r *Runner) planShortDays(ctx context.Context, t Tenant, s catalog.Stream, p *plan) error {
	if !kinds.Of(s.Kind).Capped || len(p.windows) == 0 {
		return nil
	}
	now := r.Now()
	days, err := r.Store.ShortDays(ctx, t.ID, s.Name, civil.Of(now.Add(-max(r.OpenHorizon, s.Lookback)), t.Location), civil.Of(now, t.Location))
	if err != nil {
		return err
	}
	var before []extract.Window
	for _, d := range days {
		found := false
		for i, w := range p.windows {
			if !d.Before(w.From) && d.Before(w.To) {
				p.split = append(p.split, i)
				found = true
			}
		}
		if !found { // past the lookback: first, so the cursor's windows stay last
			before = append(before, extract.Plan(d, d.AddDays(1), 1, t.Location)...)
		}
	}
	if len(before) > 0 {
		for k := range p.split {
			p.split[k] += len(before)
		}
		for i := range before {
			p.split = append(p.split, i)
		}
		p.windows = append(before, p.windows...)
	}
	return nil
}

// openDays plans the days before from that still hold an open
// conversation, back to OpenHorizon, for a stream whose rows change while
// their conversation is open: an e-mail thread closed on its fifth day
// converges, although the lookback passed it. A detail stream
// (kinds.Def.Reopens) reads them in windows of up to reopenWindowDays from
// each such day (an answer at the API's cap is split as any other), a
// report counting conversations by their start (catalog.Stream.Reopens) in
// one request from the oldest: a few requests per stream and sync while
// conversations stay open.
func (r *Runner) openDays(ctx context.Context, t Tenant, s catalog.Stream, cursor time.Time, from civil.Date, now time.Time) ([]extract.Window, error) {
	detail := kinds.Of(s.Kind).Reopens
	if (!detail && !s.Reopens) || r.OpenHorizon <= 0 || cursor.IsZero() {
		return nil, nil
	}
	days, err := r.Store.OpenDays(ctx, t.ID, civil.Of(now.Add(-r.OpenHorizon), t.Location), from)
	if err != nil || len(days) == 0 {
		return nil, err
	}
	if !detail {
		return extract.Plan(days[0], from, maxReopenDays, t.Location), nil
	}
	var ws []extract.Window
	for i := 0; i < len(days); {
		end := days[i].AddDays(reopenWindowDays)
		if end.After(from) {
			end = from
		}
		ws = append(ws, extract.Plan(days[i], end, reopenWindowDays, t.Location)...)
		for i < len(days) && days[i].Before(end) {
			i++
		}
	}
	return ws, nil
}

// reopenWindowDays and maxReopenDays bound the windows of days with open
// conversations: a week of a detail stream, and of a report (whose answer
// is days × groups, small) as many days as a window may have.
const (
	reopenWindowDays = 7
	maxReopenDays    = 92
)

// Backfill loads the local days [from, to) of every stream, whatever the
// cursors say. Windows an earlier backfill finished are skipped unless redo,
// so a killed backfill resumes where it stopped. A backfill moves a cursor
// only forward, and only when its range starts at or before the cursor (or,
// for a stream without one, at or before the tenant's first day), so it
// never jumps a cursor over days nobody loaded. Lists are loaded as they
// are now; figures of a moment (realtime) have no history and are left out.
func (r *Runner) Backfill(ctx context.Context, tenants []Tenant, streams []catalog.Stream, from, to civil.Date, redo bool) (Result, error) {
	var kept []catalog.Stream
	for _, s := range streams {
		if !kinds.Of(s.Kind).Moment {
			kept = append(kept, s)
		}
	}
	return r.run(ctx, "backfill", tenants, kept, r.backfillPlanner(from, to, redo))
}

// backfillPlanner plans a stream's backfill of the local days [from, to).
func (r *Runner) backfillPlanner(from, to civil.Date, redo bool) planner {
	return func(ctx context.Context, t Tenant, s catalog.Stream, cursor time.Time) (plan, error) {
		now := r.Now()
		// A backfill moves a cursor only when its range joins the loaded
		// history: it starts at or before the cursor, or, for a stream never
		// loaded, at or before the tenant's first day (then the next sync
		// re-reads only its lookback, not the history just loaded).
		joins := !from.Start(t.Location).After(cursor)
		if cursor.IsZero() {
			joins = !from.After(t.Start)
		}
		p := plan{backfill: true, resumable: true, advance: joins}
		switch kinds.Of(s.Kind).Planning {
		case kinds.PlanSnapshot:
			p.windows = []extract.Window{extract.Snapshot(now, t.Location)}
			p.windows[0].End = p.windows[0].To.Start(t.Location) // one record per day, not per moment
		case kinds.PlanSince:
			w := extract.Since(time.Time{}, from, 0, now, t.Location)
			if end := to.Start(t.Location); end.Before(w.End) {
				w.End, w.To = end, to
			}
			p.windows = []extract.Window{w}
		default:
			end := civil.Of(now, t.Location).AddDays(1)
			if to.Before(end) {
				end = to
			}
			var err error
			if p.windows, p.counts, err = r.planDays(ctx, t, s, from, end, true); err != nil {
				return p, err
			}
		}
		if !redo {
			if err := r.skipFinished(ctx, t, s, &p, func(_, _ time.Time) bool { return true }); err != nil {
				return p, err
			}
		}
		p.inRounds(kinds.Of(s.Kind), r.recentFrom(t, now))
		return p, nil
	}
}

// upToDate reports whether a list stream loaded successfully less than
// ListRefresh ago, by the runner's clock: its cursor, which a list's commit
// sets to the moment it was read, is that recent, and the latest attempt at
// it did not fail. A figure of a moment (realtime) is never up to date.
func (r *Runner) upToDate(ctx context.Context, t Tenant, s catalog.Stream, cursor, now time.Time) (bool, error) {
	if r.ListRefresh <= 0 || kinds.Of(s.Kind).Moment || cursor.IsZero() || cursor.After(now) || now.Sub(cursor) >= r.ListRefresh {
		return false, nil
	}
	ok, err := r.Store.LastAttemptOK(ctx, t.ID, s.Name)
	if err != nil {
		return false, fmt.Errorf("read the last run of the list: %w", err)
	}
	return ok, nil
}

// plan is the work of one tenant's stream in a run.
type plan struct {
	windows   []extract.Window
	done      []bool // windows already finished (by an earlier backfill, or a list loaded recently)
	skipped   int
	advance   bool  // commits may move the cursor
	backfill  bool  // a backfill: every conversation's messages are fetched, changed or not
	resumable bool  // record finished windows, so a killed run resumes (a backfill, a long sync)
	fresh     bool  // a list loaded less than ListRefresh ago: its one window is done
	split     []int // windows fetched in pieces whatever their answer: their day fell short of its report
	long      bool  // a long load, cut in rounds (rounds.go), newest first
	rounds    []int // each window's round; nil: all in the first
	// counts are the elements per day its report counted, when its windows
	// were sized by them (counts.go); nil: not counted.
	counts dayCounts
}

// expected is how many elements window w should hold by the counts; 0:
// not counted.
func (p plan) expected(w extract.Window) int {
	n := 0.0
	for d := w.From; p.counts != nil && d.Before(w.To); d = d.AddDays(1) {
		n += p.counts[d]
	}
	return int(n)
}

// planner plans a stream, given its cursor.
type planner func(ctx context.Context, t Tenant, s catalog.Stream, cursor time.Time) (plan, error)

// job is a planned tenant stream.
type job struct {
	runID     int64
	mode      string    // sync or backfill
	planned   time.Time // when the run planned it
	tenant    Tenant
	tenantKey int
	stream    catalog.Stream
	cursor    time.Time
	plan      plan
	planFn    planner
	err       error            // planning failed
	lock      *load.StreamLock // held while the stream runs
	rounds    []int            // the rounds it takes part in (rounds.go)
	run       *streamRun       // its windows' state, kept from one round to the next
	sofar     *StreamResult    // its result over the rounds that ran
	missed    bool             // another process held it in an earlier round
	open      bool             // its run row is started and not finished (between rounds)
}
