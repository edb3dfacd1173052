package transform

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
)

// UserRow is a user as listed: the input of dim_agent's versions.
type UserRow struct {
	ID, Email, DisplayName, RoleID string
}

// User maps one element of GET /user; its e-mail, lowercased, is the agent's
// natural key, since reports name agents by e-mail.
func User(e engage.User) (UserRow, error) {
	if e.ID == "" || e.Email == "" {
		return UserRow{}, fmt.Errorf("user without id or email")
	}
	return UserRow{ID: e.ID, Email: strings.ToLower(e.Email), DisplayName: e.DisplayName, RoleID: e.RoleID}, nil
}

// TeamRow is a team with its current members (user ids).
type TeamRow struct {
	ID, Name      string
	Members, Tags []string
}

// Team maps one element of GET /team; members are sorted (in a copy) so an
// unchanged team compares equal.
func Team(e engage.Team) (TeamRow, error) {
	if e.ID == "" {
		return TeamRow{}, fmt.Errorf("team without id")
	}
	m := append([]string{}, e.Members...)
	sort.Strings(m)
	return TeamRow{ID: e.ID, Name: e.Name, Members: m, Tags: nonNil(e.Tags)}, nil
}

// NamedRow is a role or a routing rule.
type NamedRow struct {
	ID, Name string
	Active   bool
	Types    []string
}

// Role maps one element of GET /role. Roles have no state or types: a role is
// always active, with no types.
func Role(e engage.Role) (NamedRow, error) {
	if e.ID == "" {
		return NamedRow{}, fmt.Errorf("role without id")
	}
	return NamedRow{ID: e.ID, Name: e.Name, Active: true, Types: []string{}}, nil
}

// Rule maps one element of GET /rule.
func Rule(e engage.Rule) (NamedRow, error) {
	if e.ID == "" {
		return NamedRow{}, fmt.Errorf("rule without id")
	}
	return NamedRow{ID: e.ID, Name: e.Name, Active: e.Active, Types: nonNil(e.Types)}, nil
}

// CustomerRow is a customer as listed.
type CustomerRow struct {
	ID, Email, FirstName, LastName, Gender, ExternalID, AssignedUser string
}

// Customer maps one element of GET /customer, field for field.
func Customer(e engage.Customer) (CustomerRow, error) {
	r := CustomerRow{
		ID: e.ID, Email: e.Email, FirstName: e.FirstName, LastName: e.LastName,
		Gender: e.Gender, ExternalID: e.ExternalID, AssignedUser: e.AssignedUser,
	}
	if r.ID == "" {
		return r, fmt.Errorf("customer without id")
	}
	return r, nil
}

func sortBy[T any](xs []T, key func(T) string) {
	sort.Slice(xs, func(i, j int) bool { return key(xs[i]) < key(xs[j]) })
}

// OpeningHoursRow is a tenant's opening hours: weekly slots and holidays.
type OpeningHoursRow struct {
	ID, Name       string
	TimezoneOffset *string // the API's figure (hours), as sent
	Slots          []OpeningSlot
	Holidays       []string // local days, YYYY-MM-DD, sorted
	HolidayNames   []string // in the order of Holidays
}

// OpeningSlot is one weekday's hours, local times "HH:MM" (closes "24:00":
// midnight). Its JSON is the shape of dim_opening_hours.slots.
type OpeningSlot struct {
	ISODow int    `json:"isodow"` // Monday 1 ... Sunday 7
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

var isoWeekdays = map[string]int{"MONDAY": 1, "TUESDAY": 2, "WEDNESDAY": 3, "THURSDAY": 4, "FRIDAY": 5, "SATURDAY": 6, "SUNDAY": 7}

// OpeningHours maps one element of GET /openinghours. A condition with an
// unknown weekday, or hours that are not HH:MM with opens before closes,
// fails the element (business time counted in hours we cannot read would
// be wrong without saying so), as does a holiday that is not a date.
func OpeningHours(e engage.OpeningHours) (OpeningHoursRow, error) {
	if e.ID == "" {
		return OpeningHoursRow{}, fmt.Errorf("opening hours without id")
	}
	r := OpeningHoursRow{ID: e.ID, Name: e.Name, Slots: []OpeningSlot{}, Holidays: []string{}, HolidayNames: []string{}}
	if e.TimezoneOffset != nil {
		s := e.TimezoneOffset.String()
		r.TimezoneOffset = &s
	}
	for _, c := range e.Conditions {
		dow, ok := isoWeekdays[strings.ToUpper(c.DayOfWeek)]
		if !ok {
			return r, fmt.Errorf("opening hours %s: dayOfWeek %q is not MONDAY..SUNDAY", e.ID, c.DayOfWeek)
		}
		from, errFrom := clockMinutes(c.From)
		to, errTo := clockMinutes(c.To)
		if errFrom != nil || errTo != nil || from >= to {
			return r, fmt.Errorf("opening hours %s: %s %q-%q is not HH:MM to a later HH:MM (24:00 at most)", e.ID, c.DayOfWeek, c.From, c.To)
		}
		r.Slots = append(r.Slots, OpeningSlot{ISODow: dow, Opens: c.From, Closes: c.To})
	}
	sortBy(r.Slots, func(s OpeningSlot) string { return fmt.Sprint(s.ISODow, s.Opens) }) // one digit, then HH:MM
	hs := append([]engage.Holiday(nil), e.Holidays...)
	sortBy(hs, func(h engage.Holiday) string { return h.Date })
	for _, h := range hs {
		if _, err := time.Parse(time.DateOnly, h.Date); err != nil {
			return r, fmt.Errorf("opening hours %s: holiday %q is not a date YYYY-MM-DD", e.ID, h.Date)
		}
		if n := len(r.Holidays); n > 0 && r.Holidays[n-1] == h.Date {
			continue // the same day twice closes it once
		}
		r.Holidays = append(r.Holidays, h.Date)
		r.HolidayNames = append(r.HolidayNames, h.Name)
	}
	return r, nil
}

// clockMinutes reads a local time "HH:MM" (00:00 to 24:00).
func clockMinutes(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 24 || m > 59 || h == 24 && m > 0 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return h*60 + m, nil
}

// SLARuleRow is an SLA rule: what it covers and its targets.
type SLARuleRow struct {
	ID, Name                              string
	Position                              int // in the API's list: the first matching rule applies
	Active, Watchdog                      bool
	TeamIDs, Channels                     []string
	OpeningHoursID                        *string
	FirstResponseSeconds, ResponseSeconds *int64
}

// SLARule maps one element of GET /slarule at its position in the list.
// Its TEAM and CHANNEL conditions say what it covers, its OPENING_HOURS
// condition the hours its targets count in; a condition of another type
// fails the element: a rule read as covering more than it does would
// count conversations against the wrong target.
func SLARule(e engage.SLARule, position int) (SLARuleRow, error) {
	if e.ID == "" {
		return SLARuleRow{}, fmt.Errorf("SLA rule without id")
	}
	r := SLARuleRow{ID: e.ID, Name: e.Name, Position: position, Active: e.Active, Watchdog: e.WatchdogEnabled,
		TeamIDs: []string{}, Channels: []string{}, FirstResponseSeconds: e.FirstResponseSeconds, ResponseSeconds: e.ResponseSeconds}
	for _, c := range e.Conditions {
		switch strings.ToUpper(c.Type) {
		case "TEAM":
			r.TeamIDs = append(r.TeamIDs, c.Value)
		case "CHANNEL":
			r.Channels = append(r.Channels, strings.ToUpper(c.Value))
		case "OPENING_HOURS":
			if r.OpeningHoursID != nil && *r.OpeningHoursID != c.Value {
				return r, fmt.Errorf("SLA rule %s: two OPENING_HOURS conditions (%s, %s)", e.ID, *r.OpeningHoursID, c.Value)
			}
			v := c.Value
			r.OpeningHoursID = &v
		default:
			return r, fmt.Errorf("SLA rule %s: condition type %q is not TEAM, CHANNEL or OPENING_HOURS", e.ID, c.Type)
		}
	}
	sort.Strings(r.TeamIDs)
	sort.Strings(r.Channels)
	return r, nil
}
