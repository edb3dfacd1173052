package civil_test

import (
	"fmt"
	"time"
	_ "time/tzdata" // the zones below without relying on the host's zoneinfo

	"github.com/engage-etl/engage-etl/internal/civil"
)

// Of gives the local day of an instant: the same instant is a different
// day in another zone.
func ExampleOf() {
	t := time.Date(2026, 3, 8, 3, 30, 0, 0, time.UTC)
	ny, _ := time.LoadLocation("America/New_York")
	fmt.Println(civil.Of(t, time.UTC))
	fmt.Println(civil.Of(t, ny))
	// Output:
	// 2026-03-08
	// 2026-03-07
}

// A local day is not always 24 hours: New York moves its clocks forward on
// 2026-03-08, so that day has 23.
func ExampleDate_AddDays() {
	ny, _ := time.LoadLocation("America/New_York")
	d := civil.Date{Year: 2026, Month: time.March, Day: 8}
	next := d.AddDays(1)
	fmt.Println(d.AddDays(-1), d, next)
	fmt.Println(next.Start(ny).Sub(d.Start(ny)))
	fmt.Println(d.DaysUntil(next), d.Before(next))
	// Output:
	// 2026-03-07 2026-03-08 2026-03-09
	// 23h0m0s
	// 1 true
}

// Start is the first instant of a day in a zone.
func ExampleDate_Start() {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	d, err := civil.ParseSlash("2026/10/25") // the day Vienna moves its clocks back
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Start(vienna))
	fmt.Println(d.Start(vienna).UTC())
	fmt.Println(d.AddDays(1).Start(vienna).Sub(d.Start(vienna)))
	fmt.Println(d.Key(), d.Slash())
	// Output:
	// 2026-10-25 00:00:00 +0200 CEST
	// 2026-10-24 22:00:00 +0000 UTC
	// 25h0m0s
	// 20261025 2026/10/25
}
