// Package extract turns a stream and a date range into API requests: it plans
// windows on the tenant's local days (DST-correct), renders request bodies from
// the catalog's templates, fetches and decodes answers, and runs windows in
// parallel with a bound. It never writes to the database.
package extract

import (
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// Window is a half-open range of whole local days [From, To) and the instants
// [Start, End) they span in the tenant's zone. A window over a DST change is
// 23 or 25 hours per changed day, never a fixed 24.
type Window struct {
	From, To   civil.Date
	Start, End time.Time
}

// Plan splits the local days [from, to) into windows of at most days days.
// A day that does not exist in loc (Pacific/Apia skipped 2011-12-30) has no
// instant to ask for: it joins the window of the day after it (or, at the
// end of the range, the one before), so no window is empty.
func Plan(from, to civil.Date, days int, loc *time.Location) []Window {
	var ws []Window
	for d := from; d.Before(to); {
		e := d.AddDays(days)
		if e.After(to) {
			e = to
		}
		start := d.Start(loc)
		for e.Before(to) && !e.Start(loc).After(start) {
			e = e.AddDays(1)
		}
		if !e.Start(loc).After(start) { // only missing days are left
			if len(ws) > 0 {
				ws[len(ws)-1].To, ws[len(ws)-1].End = e, e.Start(loc)
			}
			break
		}
		ws = append(ws, Window{From: d, To: e, Start: start, End: e.Start(loc)})
		d = e
	}
	return ws
}

// PlanCounted splits the local days [from, to) into windows that each hold
// at most target elements, by count (the elements of a local day; a day
// missing from it counts none), and at most maxDays days; a day counted
// more than target is a window of its own. A detail stream's windows are
// sized so by its report's counts: a quiet month in one request, a busy
// day alone.
func PlanCounted(from, to civil.Date, count func(civil.Date) float64, target float64, maxDays int, loc *time.Location) []Window {
	var ws []Window
	for d := from; d.Before(to); {
		e, sum := d.AddDays(1), count(d)
		for e.Before(to) && d.DaysUntil(e) < maxDays && sum+count(e) <= target {
			sum += count(e)
			e = e.AddDays(1)
		}
		part := Plan(d, e, d.DaysUntil(e), loc)
		if len(part) == 0 && len(ws) > 0 { // only days missing from loc: they join the window before
			ws[len(ws)-1].To, ws[len(ws)-1].End = e, e.Start(loc)
		}
		ws = append(ws, part...)
		d = e
	}
	return ws
}

// SyncRange is the range of local days an incremental sync reads: from the
// cursor's day minus the lookback (or from start when there is no cursor)
// through today, inclusive, so today's partial day is loaded too.
func SyncRange(cursor time.Time, start civil.Date, lookback time.Duration, now time.Time, loc *time.Location) (from, to civil.Date) {
	to = civil.Of(now, loc).AddDays(1)
	if cursor.IsZero() {
		return start, to
	}
	// Whole days: a lookback of 36h re-reads two days before the cursor's day.
	back := int((lookback + 24*time.Hour - 1) / (24 * time.Hour))
	from = civil.Of(cursor, loc).AddDays(-back)
	// A local day is not always 24 hours (DST, Apia's skipped 2011-12-30):
	// never start after the day of the instant the lookback reaches.
	if d := civil.Of(cursor.Add(-lookback), loc); d.Before(from) {
		from = d
	}
	if from.After(to) {
		from = to
	}
	return from, to
}

// Snapshot is the window of a list or realtime stream: today's local day, up
// to now. Its start (today's midnight) keys the raw payload, so a day keeps
// its latest snapshot.
func Snapshot(now time.Time, loc *time.Location) Window {
	today := civil.Of(now, loc)
	return Window{From: today, To: today.AddDays(1), Start: today.Start(loc), End: now}
}

// Since is the window of an activity log: from the cursor minus the lookback
// (or from the start day when there is no cursor) up to now.
func Since(cursor time.Time, start civil.Date, lookback time.Duration, now time.Time, loc *time.Location) Window {
	from := start.Start(loc)
	if !cursor.IsZero() {
		from = cursor.Add(-lookback)
	}
	if from.After(now) {
		from = now
	}
	return Window{From: civil.Of(from, loc), To: civil.Of(now, loc).AddDays(1), Start: from, End: now}
}

// Halves splits w in two for a fetch again, when its answer may have been
// cut at the API's cap: a window of several local days at its middle day,
// so the pieces stay whole days; one day (or less) at its middle instant,
// on a whole minute, unless a half would be shorter than shortest or the
// API's date filter takes days only (wholeDays). Pieces of a day keep the
// day as From and To: their rows are that day's. ok is false when w cannot
// be split.
func Halves(w Window, loc *time.Location, shortest time.Duration, wholeDays bool) (a, b Window, ok bool) {
	if days := w.From.DaysUntil(w.To); days >= 2 && w.Start.Equal(w.From.Start(loc)) && w.End.Equal(w.To.Start(loc)) {
		mid := w.From.AddDays(days / 2)
		if m := mid.Start(loc); m.After(w.Start) && m.Before(w.End) {
			return Window{From: w.From, To: mid, Start: w.Start, End: m}, Window{From: mid, To: w.To, Start: m, End: w.End}, true
		}
	}
	half := w.End.Sub(w.Start) / 2
	if wholeDays || half < shortest {
		return w, w, false
	}
	m := w.Start.Add(half).Truncate(time.Minute)
	if !m.After(w.Start) || !m.Before(w.End) {
		return w, w, false
	}
	return Window{From: w.From, To: w.To, Start: w.Start, End: m}, Window{From: w.From, To: w.To, Start: m, End: w.End}, true
}
