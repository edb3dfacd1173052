package extract

import (
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// Pacific/Apia skipped 2011-12-30: the day has no instant, so it joins the
// next day's window rather than making an empty one. Found by FuzzPlan.
func TestPlanJoinsADayThatDoesNotExist(t *testing.T) {
	loc, err := time.LoadLocation("Pacific/Apia")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) civil.Date { return civil.Date{Year: 2011, Month: time.December, Day: d} }
	ws := Plan(day(29), day(31).AddDays(1), 1, loc)
	if len(ws) != 2 || ws[0].From != day(29) || ws[0].To != day(30) || ws[1].From != day(30) || ws[1].To != day(31).AddDays(1) {
		t.Fatalf("windows %+v, want 29..30 and 30..01-01", ws)
	}
	for _, w := range ws {
		if !w.Start.Before(w.End) {
			t.Errorf("window %s..%s is empty: %v..%v", w.From, w.To, w.Start, w.End)
		}
	}
	if ws := Plan(day(30), day(31), 1, loc); len(ws) != 0 {
		t.Errorf("a range of only the missing day planned %+v", ws)
	}
	if ws := Plan(day(29), day(31), 1, loc); len(ws) != 1 || ws[0].To != day(31) {
		t.Errorf("a range ending on the missing day planned %+v, want one window 29..31", ws)
	}
}

// A lookback reaches past a short day: SyncRange starts on the day the
// lookback reaches, not a calendar day count before the cursor's day.
// Found by FuzzRanges (on Apia's skipped day).
func TestSyncRangeLookbackOverAShortDay(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Vienna")
	if err != nil {
		t.Fatal(err)
	}
	cursor := time.Date(2026, time.March, 30, 0, 30, 0, 0, loc) // after the 23-hour 2026-03-29
	now := cursor.Add(time.Hour)
	from, _ := SyncRange(cursor, civil.Date{}, 24*time.Hour, now, loc)
	if want := (civil.Date{Year: 2026, Month: time.March, Day: 28}); from != want {
		t.Errorf("SyncRange from %s, want %s: 24h before %v is on that day", from, want, cursor)
	}
}
