// Package civil is a calendar date without a time or a zone: a tenant's local day.
//
// Engage buckets every report by the tenant's local day, and a local day is not a
// fixed number of hours (DST days have 23 or 25). Keeping days as their own type,
// and turning them into instants only through Date.Start(loc), keeps that
// conversion in one place.
package civil

import (
	"fmt"
	"time"
)

// Date is a day in the proleptic Gregorian calendar.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Of returns the local day of t in loc.
func Of(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// Parse reads "2006-01-02".
func Parse(s string) (Date, error) {
	return parse("2006-01-02", s)
}

// ParseSlash reads "2006/01/02", the day key of Engage report buckets.
func ParseSlash(s string) (Date, error) {
	return parse("2006/01/02", s)
}

func parse(layout, s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want %s", s, layout)
	}
	return Of(t, time.UTC), nil
}

// Start is the first instant of the day in loc. On a day whose midnight does not
// exist (a DST jump at 00:00) it is the first instant that does; on a day
// that does not exist at all (Pacific/Apia skipped 2011-12-30) it is the
// start of the next day.
func (d Date) Start(loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	// time.Date resolves a midnight inside a zone transition with either
	// offset: the instant it picks may lie on the day before (São Paulo,
	// 2018-11-04 00:00 is 2018-11-03 23:00 -03) or after the day's first
	// instant (a midnight that occurs twice). Zone transitions are hours
	// apart, so a few steps settle it.
	for range 4 {
		switch Of(t, loc).Compare(d) {
		case -1: // d begins where the zone in effect at t ends
			_, end := t.ZoneBounds()
			if end.IsZero() {
				return t
			}
			t = end
		case 0: // d may have begun in the zone in effect before t's
			start, _ := t.ZoneBounds()
			if start.IsZero() || !start.After(t.Add(-48*time.Hour)) {
				return t
			}
			before := start.Add(-time.Nanosecond)
			_, off := before.Zone()
			earlier := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.FixedZone("", off))
			if !earlier.Before(t) || !earlier.Before(start) || Of(earlier, loc) != d {
				return t
			}
			t = earlier
		default:
			return t
		}
	}
	return t
}

// AddDays returns d moved by n days (n may be negative).
func (d Date) AddDays(n int) Date {
	return Of(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// DaysUntil is the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Compare returns -1, 0 or +1.
func (d Date) Compare(e Date) int {
	switch a, b := d.Key(), e.Key(); {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Key is the warehouse's integer date key, YYYYMMDD.
func (d Date) Key() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// OfKey is the date of a dim_date key (YYYYMMDD): the inverse of Key.
func OfKey(key int) Date {
	return Date{Year: key / 10000, Month: time.Month(key / 100 % 100), Day: key % 100}
}

// String formats d as "2006-01-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Slash formats d as "2006/01/02".
func (d Date) Slash() string { return fmt.Sprintf("%04d/%02d/%02d", d.Year, d.Month, d.Day) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
