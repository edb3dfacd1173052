package extract_test

import (
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
)

func TestHalvesSplitDaysAtDaysAndADayAtItsMiddle(t *testing.T) {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	day := civil.Date{Year: 2026, Month: 3, Day: 29} // 23 hours: Vienna springs forward
	week := extract.Plan(day.AddDays(-3), day.AddDays(4), 7, vienna)[0]
	a, b, ok := extract.Halves(week, vienna, 15*time.Minute, false)
	if !ok || a.To != day || b.From != day || !a.End.Equal(day.Start(vienna)) || !b.End.Equal(week.End) {
		t.Fatalf("a week splits at its middle day: %+v %+v %v", a, b, ok)
	}

	one := extract.Plan(day, day.AddDays(1), 1, vienna)[0]
	a, b, ok = extract.Halves(one, vienna, 15*time.Minute, false)
	if !ok || a.From != day || a.To != day.AddDays(1) || b.From != day {
		t.Fatalf("pieces of a day keep the day: %+v %+v", a, b)
	}
	if got := a.End.Sub(a.Start); got != 11*time.Hour+30*time.Minute {
		t.Errorf("the first half of the 23-hour day lasts %s, want 11h30m", got)
	}
	if !a.End.Equal(b.Start) || !a.Start.Equal(one.Start) || !b.End.Equal(one.End) {
		t.Errorf("the halves do not cover the day edge to edge: %+v %+v", a, b)
	}
	if _, _, ok := extract.Halves(one, vienna, 15*time.Minute, true); ok {
		t.Error("a day split although the API's date filter takes days only")
	}
	quarter := extract.Window{From: day, To: day.AddDays(1), Start: one.Start, End: one.Start.Add(29 * time.Minute)}
	if _, _, ok := extract.Halves(quarter, vienna, 15*time.Minute, false); ok {
		t.Error("29 minutes split into halves shorter than 15 minutes")
	}
}
