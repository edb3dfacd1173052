package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/redact"
)

// What a long load will ask. Against a real tenant the API's pace, not the
// warehouse, sets how long a backfill or a first sync takes: a year can be
// hours. Before one starts, the estimate counts its requests from the very
// plans it will run: a window of one body is a request, a paged list or
// log as many pages as it holds, a messages window its conversation list
// and a request per conversation. What they hold comes from what the
// warehouse and the API already tell: the reports' counts per day (a
// handful of requests for a year, shared with the planning, counts.go),
// the page a list ends at and how many events of a log are newer than the
// window's start (a few probes each). It is kept with the run
// (etl.run.estimate), printed by engage-etl estimate, backfill and a first
// sync, and progress puts the run's pace against it.

// Estimate is what a run will ask the API.
type Estimate struct {
	Mode     string           `json:"mode"` // sync or backfill
	Tenants  []TenantEstimate `json:"tenants"`
	Requests int              `json:"requests"` // what the run will ask
	Probes   int              `json:"probes"`   // what planning and estimating it asked
	Seconds  float64          `json:"seconds"`  // the slowest tenant's, at its pace (tenants run side by side)
}

// TenantEstimate is one tenant's part.
type TenantEstimate struct {
	Tenant string `json:"tenant"`
	// RequestsPerSecond is its pace (0: unpaced, Seconds is then 0).
	RequestsPerSecond float64         `json:"requests_per_second"`
	Groups            []GroupEstimate `json:"groups"`
	Requests          int             `json:"requests"` // the groups'
	Probes            int             `json:"probes"`   // what planning and estimating asked to count (counts, list ends, log depths)
	Seconds           float64         `json:"seconds"`
	Unknown           []string        `json:"unknown,omitempty"` // streams it could not count, with why
	Refused           string          `json:"refused,omitempty"` // the API refused the token: nothing counted
}

// Counted reports whether the estimate counted any tenant: a run whose
// every token is refused says only that.
func (e Estimate) Counted() bool {
	for _, t := range e.Tenants {
		if t.Refused == "" {
			return true
		}
	}
	return false
}

// GroupEstimate is a stream group's requests: reports, details, messages,
// activity, lists, realtime.
type GroupEstimate struct {
	Group    string  `json:"group"`
	Streams  int     `json:"streams"`
	Windows  int     `json:"windows"`
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
}

// Estimate plans a sync (from each stream's cursor; mode "sync") or a
// backfill of [from, to) (mode "backfill"), as the run would, and counts
// what it would ask, without loading anything.
func (r *Runner) Estimate(ctx context.Context, mode string, tenants []Tenant, streams []catalog.Stream, from, to civil.Date) (Estimate, error) {
	planFn := r.syncPlanner()
	if mode == "backfill" {
		planFn = r.backfillPlanner(from, to, false)
		streams = slices.DeleteFunc(slices.Clone(streams), func(s catalog.Stream) bool { return kinds.Of(s.Kind).Moment })
	}
	jobs, asked, err := r.planAll(ctx, 0, mode, tenants, streams, planFn)
	if err != nil {
		return Estimate{}, err
	}
	return r.estimate(ctx, mode, tenants, jobs, asked), nil
}

// estimate counts the requests of planned jobs; asked is what each
// tenant's planning asked. Tenants are counted side by side.
func (r *Runner) estimate(ctx context.Context, mode string, tenants []Tenant, jobs map[string][]*job, asked map[string]int64) Estimate {
	est := Estimate{Mode: mode, Tenants: make([]TenantEstimate, len(tenants))}
	var g errgroup.Group
	g.SetLimit(tenantsPlannedAtOnce)
	for i, t := range tenants {
		g.Go(func() error {
			est.Tenants[i] = r.estimateTenant(ctx, t, jobs[t.ID], asked[t.ID])
			return nil
		})
	}
	g.Wait()
	for _, te := range est.Tenants {
		est.Requests += te.Requests
		est.Probes += te.Probes
		est.Seconds = max(est.Seconds, te.Seconds)
	}
	return est
}

// estimateTenant counts one tenant's jobs.
func (r *Runner) estimateTenant(ctx context.Context, t Tenant, jobs []*job, asked int64) TenantEstimate {
	te := TenantEstimate{Tenant: t.ID, RequestsPerSecond: t.RequestsPerSecond}
	groups := map[string]*GroupEstimate{}
	var probed atomic.Int64
	tctx := engage.CountingRequests(ctx, &probed)
	for _, j := range jobs {
		if j.err != nil {
			te.Unknown = append(te.Unknown, redact.String(fmt.Sprintf("%s: %v", j.stream.Name, j.err)))
			continue
		}
		n, windows, err := r.jobRequests(tctx, j)
		if engage.IsAuth(err) { // the run reports it, once
			te.Refused = redact.String(err.Error())
			break
		}
		if err != nil {
			te.Unknown = append(te.Unknown, redact.String(fmt.Sprintf("%s: %v", j.stream.Name, err)))
		}
		g := groups[groupOf(j.stream)]
		if g == nil {
			g = &GroupEstimate{Group: groupOf(j.stream)}
			groups[g.Group] = g
		}
		g.Streams++
		g.Windows += windows
		g.Requests += n
		te.Requests += n
	}
	te.Probes = int(asked + probed.Load())
	for _, g := range groups {
		g.Seconds = atPace(g.Requests, t.RequestsPerSecond)
		te.Groups = append(te.Groups, *g)
	}
	slices.SortFunc(te.Groups, func(a, b GroupEstimate) int { return b.Requests - a.Requests })
	te.Seconds = atPace(te.Requests, t.RequestsPerSecond)
	return te
}

// groupOf is the stream group an estimate counts a stream in: its schedule
// group, but for the kinds of a request per conversation (messages).
func groupOf(s catalog.Stream) string {
	if kinds.Of(s.Kind).Fetch == kinds.FetchPerConversation {
		return "messages"
	}
	return s.Group
}

func atPace(requests int, perSecond float64) float64 {
	if perSecond <= 0 {
		return 0
	}
	return float64(requests) / perSecond
}

// jobRequests counts what a planned stream will ask for its windows not
// done.
func (r *Runner) jobRequests(ctx context.Context, j *job) (requests, windows int, err error) {
	def := kinds.Of(j.stream.Kind)
	var todo []extract.Window
	for i, w := range j.plan.windows {
		if j.plan.done == nil || !j.plan.done[i] {
			todo = append(todo, w)
		}
	}
	if len(todo) == 0 {
		return 0, 0, nil
	}
	switch {
	case def.Fetch == kinds.FetchPerConversation:
		from, to := spanOf(todo)
		c, ok, err := r.countsOf(ctx, j.tenant, def, from, to)
		if !ok {
			return len(todo), len(todo), cmp.Or(err, errors.New("no report counts its conversations"))
		}
		n := 0.0
		for _, w := range todo {
			n++ // the window's conversation list
			for d := w.From; d.Before(w.To); d = d.AddDays(1) {
				if j.plan.backfill || j.cursor.IsZero() || !d.Start(j.tenant.Location).Before(j.cursor) {
					n += c[d] // a backfill asks every conversation, a sync the new ones
				}
			}
		}
		return int(math.Round(n)), len(todo), nil
	case def.Shape.Paging == extract.ListPages:
		// A list is read whole each time: its last run says what it asks.
		if n, ok, err := r.Store.LastRequests(ctx, j.tenant.ID, j.stream.Name); err != nil || ok {
			return n * len(todo), len(todo), err
		}
		pages, err := r.listPages(ctx, j)
		return pages * len(todo), len(todo), err
	case def.Shape.Paging == extract.LogPages:
		for _, w := range todo {
			pages, err := r.logPages(ctx, j, w.Start)
			if requests += pages; err != nil {
				return requests, len(todo), err
			}
		}
		return requests, len(todo), nil
	}
	return len(todo), len(todo), nil
}

// spanOf is the days windows cover, from the first's to the last's.
func spanOf(ws []extract.Window) (from, to civil.Date) {
	from, to = ws[0].From, ws[0].To
	for _, w := range ws[1:] {
		if w.From.Before(from) {
			from = w.From
		}
		if to.Before(w.To) {
			to = w.To
		}
	}
	return from, to
}

// listPages is how many requests a paged list takes (engage.Pages reads up
// to the first page shorter than a full one, and a page after a short
// first one): the page it ends at, found by doubling then halving.
func (r *Runner) listPages(ctx context.Context, j *job) (pages int, err error) {
	api, shape := j.tenant.api(), kinds.Of(j.stream.Kind).Shape
	w := j.plan.windows[0]
	size := extract.PageSize(api, j.stream, shape)
	length := func(i int) (int, error) {
		items, _, err := extract.PageAt(ctx, api, j.stream, shape, w, i, size)
		return len(items), err
	}
	first, err := length(0)
	if err != nil || first == 0 {
		return 1, err
	}
	full := size
	if first < size { // an end, or a server serving fewer a page than asked
		second, err := length(1)
		if err != nil || second == 0 {
			return 2, err
		}
		full = first
	}
	lo, hi := 0, 1 // page lo is full; page hi is not known yet
	for {
		n, err := length(hi)
		if err != nil {
			return hi + 1, err
		}
		if n < full {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 { // page lo full, page hi not
		mid := (lo + hi) / 2
		n, err := length(mid)
		if err != nil {
			return hi + 1, err
		}
		if n < full {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi + 1, nil
}

// maxLogProbes bounds the probes of a log's depth.
const maxLogProbes = 12

// logPages is how many pages of an activity log are newer than since (an
// activity window is read newest first back to its start): the offset of
// the first older event, found by probing single events, guessed from the
// events' times where the log has a total and narrowed by halves.
func (r *Runner) logPages(ctx context.Context, j *job, since time.Time) (pages int, err error) {
	probes := 0
	api, shape := j.tenant.api(), kinds.Of(j.stream.Kind).Shape
	w := j.plan.windows[0]
	size := extract.PageSize(api, j.stream, shape)
	type probe struct {
		at    time.Time
		total int
		empty bool
	}
	at := func(offset int) (probe, error) {
		probes++
		items, total, err := extract.PageAt(ctx, api, j.stream, shape, w, offset, 1)
		if err != nil || len(items) == 0 {
			return probe{total: total, empty: true}, err
		}
		t, ok := extract.EventTime(api, items[0])
		if !ok {
			return probe{}, fmt.Errorf("an event without a readable time (api.activity fields)")
		}
		return probe{at: t, total: total}, nil
	}
	newest, err := at(0)
	if err != nil || newest.empty || newest.at.Before(since) {
		return 1, err
	}
	// lo is newer than since (or as new); hi is older, or past the end.
	lo, loAt, hi := 0, newest.at, -1
	if newest.total > 0 {
		oldest, err := at(newest.total - 1)
		if err != nil {
			return 1, err
		}
		if !oldest.empty && !oldest.at.Before(since) {
			return newest.total/size + 1, nil // the whole log is newer than since
		}
		hi = newest.total - 1
		// Interpolate by time: events come at a rate, not evenly, but
		// near enough to halve the range more than halving does.
		for probes < maxLogProbes && hi-lo > max(1, size/4) {
			guess := lo + int(float64(hi-lo)*loAt.Sub(since).Seconds()/loAt.Sub(oldest.at).Seconds())
			guess = min(max(guess, lo+1), hi-1)
			p, err := at(guess)
			if err != nil {
				return hi/size + 1, err
			}
			if p.empty || p.at.Before(since) {
				hi, oldest = guess, p
			} else {
				lo, loAt = guess, p.at
			}
		}
		return (lo+hi)/2/size + 1, nil
	}
	for hi < 0 { // no total: double until past since
		next := max(size, lo*2)
		p, err := at(next)
		if err != nil {
			return lo/size + 1, err
		}
		if p.empty || p.at.Before(since) {
			hi = next
		} else {
			lo = next
		}
	}
	for probes < maxLogProbes && hi-lo > max(1, size/4) {
		mid := (lo + hi) / 2
		p, err := at(mid)
		if err != nil {
			return hi/size + 1, err
		}
		if p.empty || p.at.Before(since) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return (lo+hi)/2/size + 1, nil
}
