package extract

import (
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// fuzzZones are zones whose days are not all 24 hours long: DST at 02:00
// and at midnight, half-hour DST, a skipped day (Apia, 2011-12-30), the
// extreme offsets.
var fuzzZones = []string{
	"UTC", "Europe/Vienna", "America/New_York", "America/Sao_Paulo", "America/Havana", "America/Santiago",
	"Asia/Beirut", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia", "Pacific/Kiritimati",
	"Pacific/Pago_Pago", "Africa/Casablanca", "Asia/Tehran",
}

func fuzzZone(t *testing.T, i uint8) *time.Location {
	loc, err := time.LoadLocation(fuzzZones[int(i)%len(fuzzZones)])
	if err != nil {
		t.Skip(err) // no tzdata
	}
	return loc
}

// epoch is the first day the fuzzers plan from; days count from it.
var epoch = civil.Date{Year: 1970, Month: 1, Day: 1}

// FuzzPlan: Plan's windows cover the local days [from, to) exactly, in
// order and without gaps, each of 1 to days days; a window's Start and End
// are the first instants of its first day and of the day after its last,
// and no window is empty.
func FuzzPlan(f *testing.F) {
	f.Add(uint16(20750), uint16(14), uint8(7), uint8(1))  // 2026-10-23.., Vienna's 25-hour day inside
	f.Add(uint16(15336), uint16(3), uint8(1), uint8(9))   // 2011-12-28..: Apia skips 2011-12-30
	f.Add(uint16(17839), uint16(40), uint8(92), uint8(3)) // 2018-11-04: Sao Paulo's midnight does not exist
	f.Add(uint16(0), uint16(0), uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, fromDay, span uint16, days, zone uint8) {
		loc := fuzzZone(t, zone)
		n := 1 + int(days)%92 // window_days is 1 to 92
		from := epoch.AddDays(int(fromDay))
		to := from.AddDays(int(span) % 1000)
		ws := Plan(from, to, n, loc)
		next := from
		for i, w := range ws {
			if w.From != next {
				t.Fatalf("window %d starts on %s, want %s (%v)", i, w.From, next, ws)
			}
			if !w.From.Before(w.To) || w.From.DaysUntil(w.To) > n+missingDays(w.From, w.To, loc) {
				t.Fatalf("window %d is %s..%s, want 1 to %d days", i, w.From, w.To, n)
			}
			if w.Start != w.From.Start(loc) || w.End != w.To.Start(loc) {
				t.Fatalf("window %d spans %v..%v, want the starts of %s and %s", i, w.Start, w.End, w.From, w.To)
			}
			if !w.Start.Before(w.End) {
				t.Fatalf("window %d (%s..%s in %s) is empty: %v..%v", i, w.From, w.To, loc, w.Start, w.End)
			}
			checkFirstInstant(t, w.Start, loc)
			next = w.To
		}
		if missing := missingDays(from, to, loc); missing == from.DaysUntil(to) && missing > 0 {
			if len(ws) > 0 {
				t.Fatalf("windows %v over days that do not exist in %s", ws, loc)
			}
			return
		}
		if from.Before(to) && next != to || !from.Before(to) && len(ws) > 0 {
			t.Fatalf("windows %v do not cover %s..%s", ws, from, to)
		}
	})
}

// missingDays counts the days of [from, to) that do not exist in loc.
func missingDays(from, to civil.Date, loc *time.Location) int {
	n := 0
	for d := from; d.Before(to); d = d.AddDays(1) {
		if !d.AddDays(1).Start(loc).After(d.Start(loc)) {
			n++
		}
	}
	return n
}

// checkFirstInstant fails when t is not the first instant of its local day.
func checkFirstInstant(t *testing.T, at time.Time, loc *time.Location) {
	t.Helper()
	if civil.Of(at.Add(-time.Second), loc) == civil.Of(at, loc) {
		t.Fatalf("%v is not the first instant of its local day in %s", at.In(loc), loc)
	}
}

// FuzzRanges: SyncRange reads through today and from the cursor's day less
// the lookback (whole days); Since reads from the cursor less the lookback
// up to now; Snapshot is today up to now. None is reversed.
func FuzzRanges(f *testing.F) {
	f.Add(int64(1793000000), uint16(20730), uint32(36*60), int64(3600*24*3), uint8(1))
	f.Add(int64(0), uint16(20750), uint32(0), int64(0), uint8(9))
	f.Add(int64(1325239200), uint16(15336), uint32(60), int64(60), uint8(9)) // Apia, the skipped day
	f.Fuzz(func(t *testing.T, nowUnix int64, startDay uint16, lookbackMin uint32, cursorAgo int64, zone uint8) {
		loc := fuzzZone(t, zone)
		const span = int64(200 * 365 * 24 * 3600)
		now := time.Unix(mod(nowUnix, span), 0)
		var cursor time.Time
		if cursorAgo != 0 {
			cursor = now.Add(-time.Duration(mod(cursorAgo, 3*365*24*3600)) * time.Second)
		}
		start := epoch.AddDays(int(startDay))
		lookback := time.Duration(lookbackMin%(400*24*60)) * time.Minute
		today := civil.Of(now, loc)

		from, to := SyncRange(cursor, start, lookback, now, loc)
		if to != today.AddDays(1) {
			t.Fatalf("SyncRange ends %s, want the day after today %s", to, today)
		}
		switch {
		case cursor.IsZero() && from != start:
			t.Fatalf("SyncRange without a cursor starts %s, want the start day %s", from, start)
		case !cursor.IsZero() && from.After(to):
			t.Fatalf("SyncRange is reversed: %s..%s", from, to)
		case !cursor.IsZero() && from.After(civil.Of(cursor.Add(-lookback), loc)):
			t.Fatalf("SyncRange from %s misses the lookback %v before the cursor %v", from, lookback, cursor.In(loc))
		}

		w := Since(cursor, start, lookback, now, loc)
		if w.End != now || w.Start.After(w.End) || w.From != civil.Of(w.Start, loc) || w.To != today.AddDays(1) {
			t.Fatalf("Since = %+v, now %v", w, now)
		}
		if !cursor.IsZero() && w.Start.After(cursor.Add(-lookback)) {
			t.Fatalf("Since starts %v, after the cursor %v less the lookback %v", w.Start, cursor, lookback)
		}

		s := Snapshot(now, loc)
		if s.From != today || s.To != today.AddDays(1) || s.End != now || s.Start.After(now) || s.Start != today.Start(loc) {
			t.Fatalf("Snapshot = %+v, now %v", s, now.In(loc))
		}
		checkFirstInstant(t, s.Start, loc)
	})
}

func mod(a, m int64) int64 {
	if a %= m; a < 0 {
		a += m
	}
	return a
}
