package civil

import (
	"testing"
	"time"
)

func TestDayLengthAcrossDST(t *testing.T) {
	vienna, err := time.LoadLocation("Europe/Vienna")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		day  string
		want time.Duration
	}{
		{"2026-03-29", 23 * time.Hour}, // clocks jump 02:00 -> 03:00
		{"2026-10-25", 25 * time.Hour}, // clocks fall back 03:00 -> 02:00
		{"2026-10-26", 24 * time.Hour},
	}
	for _, tt := range tests {
		d, err := Parse(tt.day)
		if err != nil {
			t.Fatal(err)
		}
		got := d.AddDays(1).Start(vienna).Sub(d.Start(vienna))
		if got != tt.want {
			t.Errorf("%s in Vienna lasts %v, want %v", tt.day, got, tt.want)
		}
	}
}

func TestOfUsesTheLocalDay(t *testing.T) {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	// 23:30 UTC on the 24th is already the 25th in Vienna.
	instant := time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC)
	if got, want := Of(instant, vienna), (Date{2026, 10, 25}); got != want {
		t.Errorf("Of = %v, want %v", got, want)
	}
	if got, want := Of(instant, time.UTC), (Date{2026, 10, 24}); got != want {
		t.Errorf("Of UTC = %v, want %v", got, want)
	}
}

func TestArithmeticAndFormats(t *testing.T) {
	d := Date{2024, 2, 28}
	if got := d.AddDays(1).String(); got != "2024-02-29" {
		t.Errorf("leap day: got %s", got)
	}
	if got := d.AddDays(2).Slash(); got != "2024/03/01" {
		t.Errorf("slash: got %s", got)
	}
	if got := d.AddDays(-60).DaysUntil(d); got != 60 {
		t.Errorf("DaysUntil = %d, want 60", got)
	}
	if got := d.Key(); got != 20240228 {
		t.Errorf("Key = %d", got)
	}
	if got := OfKey(d.Key()); got != d {
		t.Errorf("OfKey(%d) = %v, want %v", d.Key(), got, d)
	}
	if p, err := ParseSlash("2020/10/31"); err != nil || p != (Date{2020, 10, 31}) {
		t.Errorf("ParseSlash = %v, %v", p, err)
	}
	if _, err := Parse("2020-13-01"); err == nil {
		t.Error("Parse accepted month 13")
	}
	if !d.Before(d.AddDays(1)) || d.After(d.AddDays(1)) || d.Compare(d) != 0 {
		t.Error("ordering is wrong")
	}
}

// A midnight inside a zone transition: Start is still the day's first
// instant, on that day. Found by extract's FuzzPlan.
func TestStartWhereMidnightDoesNotExist(t *testing.T) {
	for _, tc := range []struct {
		zone string
		day  Date
		want string // RFC 3339
	}{
		{"America/Sao_Paulo", Date{2018, time.November, 4}, "2018-11-04T01:00:00-02:00"}, // 00:00 -03 jumps to 01:00 -02
		{"America/Havana", Date{2023, time.March, 12}, "2023-03-12T01:00:00-04:00"},
		{"Europe/Vienna", Date{2026, time.October, 25}, "2026-10-25T00:00:00+02:00"},
		{"Pacific/Apia", Date{2011, time.December, 30}, "2011-12-31T00:00:00+14:00"}, // the skipped day: the next one's start
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		got := tc.day.Start(loc)
		if got.Format(time.RFC3339) != tc.want {
			t.Errorf("%s in %s starts %s, want %s", tc.day, tc.zone, got.Format(time.RFC3339), tc.want)
		}
		if Of(got.Add(-time.Second), loc) == Of(got, loc) {
			t.Errorf("%s in %s: %v is not the first instant of its day", tc.day, tc.zone, got)
		}
	}
}
