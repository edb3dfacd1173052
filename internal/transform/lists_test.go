package transform

import (
	"encoding/json"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/google/go-cmp/cmp"
)

func TestUser(t *testing.T) {
	tests := []struct {
		name    string
		in      engage.User
		want    UserRow
		wantErr string
	}{
		{
			name: "every mapped field, e-mail lowercased",
			in: engage.User{ID: "u1", Email: "Anna.Berger@Example.COM", DisplayName: "Anna Berger", RoleID: "r1",
				Description: "ignored", Tags: []string{"x"}, Admin: true, MCOEnabled: true, ExternalID: "ext"},
			want: UserRow{ID: "u1", Email: "anna.berger@example.com", DisplayName: "Anna Berger", RoleID: "r1"},
		},
		{
			name: "no display name or role",
			in:   engage.User{ID: "u2", Email: "b@x.com"},
			want: UserRow{ID: "u2", Email: "b@x.com"},
		},
		{name: "without id", in: engage.User{Email: "a@x.com"}, wantErr: "user without id or email"},
		{name: "without email", in: engage.User{ID: "u3"}, wantErr: "user without id or email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := User(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestTeam(t *testing.T) {
	tests := []struct {
		name    string
		in      engage.Team
		want    TeamRow
		wantErr string
	}{
		{
			name: "every field, members sorted",
			in:   engage.Team{ID: "t1", Name: "Support", Members: []string{"u3", "u1", "u2"}, Tags: []string{"vip", "de"}},
			want: TeamRow{ID: "t1", Name: "Support", Members: []string{"u1", "u2", "u3"}, Tags: []string{"vip", "de"}},
		},
		{
			name: "no members or tags are empty, not nil",
			in:   engage.Team{ID: "t2", Name: "Empty"},
			want: TeamRow{ID: "t2", Name: "Empty", Members: []string{}, Tags: []string{}},
		},
		{name: "without id", in: engage.Team{Name: "Nameless", Members: []string{"u1"}}, wantErr: "team without id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Team(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// TestTeamSortsACopy: the caller's members keep their order.
func TestTeamSortsACopy(t *testing.T) {
	members := []string{"u3", "u1", "u2"}
	if _, err := Team(engage.Team{ID: "t1", Members: members}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"u3", "u1", "u2"}, members); diff != "" {
		t.Errorf("Team reordered its input (-want +got):\n%s", diff)
	}
}

func TestRole(t *testing.T) {
	tests := []struct {
		name    string
		in      engage.Role
		want    NamedRow
		wantErr string
	}{
		{
			name: "every field; a role is always active, without types",
			in:   engage.Role{ID: "r1", Name: "Agent"},
			want: NamedRow{ID: "r1", Name: "Agent", Active: true, Types: []string{}},
		},
		{name: "without id", in: engage.Role{Name: "Agent"}, wantErr: "role without id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Role(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestRule(t *testing.T) {
	tests := []struct {
		name    string
		in      engage.Rule
		want    NamedRow
		wantErr string
	}{
		{
			name: "every field, active",
			in:   engage.Rule{ID: "ru1", Name: "Route VIP", Active: true, Types: []string{"CHAT", "VIDEO"}},
			want: NamedRow{ID: "ru1", Name: "Route VIP", Active: true, Types: []string{"CHAT", "VIDEO"}},
		},
		{
			name: "inactive, no types is empty, not nil",
			in:   engage.Rule{ID: "ru2", Name: "Old"},
			want: NamedRow{ID: "ru2", Name: "Old", Active: false, Types: []string{}},
		},
		{name: "without id", in: engage.Rule{Name: "Route VIP", Active: true}, wantErr: "rule without id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rule(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestCustomer(t *testing.T) {
	tests := []struct {
		name    string
		in      engage.Customer
		want    CustomerRow
		wantErr string
	}{
		{
			name: "every field, as sent",
			in: engage.Customer{ID: "cu1", Email: "Eva@X.com", FirstName: "Eva", LastName: "Huber",
				Gender: "FEMALE", ExternalID: "crm-7", AssignedUser: "u1"},
			want: CustomerRow{ID: "cu1", Email: "Eva@X.com", FirstName: "Eva", LastName: "Huber",
				Gender: "FEMALE", ExternalID: "crm-7", AssignedUser: "u1"},
		},
		{
			name: "only an id",
			in:   engage.Customer{ID: "cu2"},
			want: CustomerRow{ID: "cu2"},
		},
		{name: "without id", in: engage.Customer{Email: "eva@x.com"}, wantErr: "customer without id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Customer(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestOpeningHours(t *testing.T) {
	one := json.Number("1")
	oneText := "1"
	tests := []struct {
		name    string
		in      engage.OpeningHours
		want    OpeningHoursRow
		wantErr string
	}{
		{
			name: "slots by weekday, holidays sorted, a day twice closed once",
			in: engage.OpeningHours{ID: "h1", Name: "Office", TimezoneOffset: &one,
				Conditions: []engage.OpeningCondition{{DayOfWeek: "SATURDAY", From: "09:00", To: "13:00"}, {DayOfWeek: "monday", From: "08:00", To: "24:00"}},
				Holidays:   []engage.Holiday{{Date: "2026-12-25", Name: "Christmas"}, {Date: "2026-01-01", Name: "New Year"}, {Date: "2026-12-25", Name: "again"}}},
			want: OpeningHoursRow{ID: "h1", Name: "Office", TimezoneOffset: &oneText,
				Slots:    []OpeningSlot{{ISODow: 1, Opens: "08:00", Closes: "24:00"}, {ISODow: 6, Opens: "09:00", Closes: "13:00"}},
				Holidays: []string{"2026-01-01", "2026-12-25"}, HolidayNames: []string{"New Year", "Christmas"}},
		},
		{name: "no hours at all", in: engage.OpeningHours{ID: "h2"}, want: OpeningHoursRow{ID: "h2", Slots: []OpeningSlot{}, Holidays: []string{}, HolidayNames: []string{}}},
		{name: "without id", in: engage.OpeningHours{Name: "x"}, wantErr: "opening hours without id"},
		{name: "unknown weekday", in: engage.OpeningHours{ID: "h3", Conditions: []engage.OpeningCondition{{DayOfWeek: "MON", From: "08:00", To: "18:00"}}},
			wantErr: `opening hours h3: dayOfWeek "MON" is not MONDAY..SUNDAY`},
		{name: "closes before it opens", in: engage.OpeningHours{ID: "h4", Conditions: []engage.OpeningCondition{{DayOfWeek: "MONDAY", From: "18:00", To: "08:00"}}},
			wantErr: `opening hours h4: MONDAY "18:00"-"08:00" is not HH:MM to a later HH:MM (24:00 at most)`},
		{name: "not HH:MM", in: engage.OpeningHours{ID: "h5", Conditions: []engage.OpeningCondition{{DayOfWeek: "MONDAY", From: "8:00", To: "24:30"}}},
			wantErr: `opening hours h5: MONDAY "8:00"-"24:30" is not HH:MM to a later HH:MM (24:00 at most)`},
		{name: "holiday not a date", in: engage.OpeningHours{ID: "h6", Holidays: []engage.Holiday{{Date: "25.12.2026"}}},
			wantErr: `opening hours h6: holiday "25.12.2026" is not a date YYYY-MM-DD`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpeningHours(tt.in)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestSLARule(t *testing.T) {
	frt, rt := int64(120), int64(300)
	hours := "h1"
	tests := []struct {
		name    string
		in      engage.SLARule
		want    SLARuleRow
		wantErr string
	}{
		{
			name: "teams, channels and opening hours from the conditions",
			in: engage.SLARule{ID: "s1", Name: "Live", Active: true, FirstResponseSeconds: &frt, ResponseSeconds: &rt, WatchdogEnabled: true,
				Conditions: []engage.SLACondition{{Type: "CHANNEL", Value: "whatsapp"}, {Type: "TEAM", Value: "t2"}, {Type: "channel", Value: "CHAT"}, {Type: "OPENING_HOURS", Value: "h1"}}},
			want: SLARuleRow{ID: "s1", Name: "Live", Position: 3, Active: true, Watchdog: true, TeamIDs: []string{"t2"}, Channels: []string{"CHAT", "WHATSAPP"},
				OpeningHoursID: &hours, FirstResponseSeconds: &frt, ResponseSeconds: &rt},
		},
		{name: "covers everything, no targets", in: engage.SLARule{ID: "s2"}, want: SLARuleRow{ID: "s2", Position: 3, TeamIDs: []string{}, Channels: []string{}}},
		{name: "without id", in: engage.SLARule{Name: "x"}, wantErr: "SLA rule without id"},
		{name: "a condition it cannot read", in: engage.SLARule{ID: "s3", Conditions: []engage.SLACondition{{Type: "HAS_TAG", Value: "vip"}}},
			wantErr: `SLA rule s3: condition type "HAS_TAG" is not TEAM, CHANNEL or OPENING_HOURS`},
		{name: "two opening hours", in: engage.SLARule{ID: "s4", Conditions: []engage.SLACondition{{Type: "OPENING_HOURS", Value: "a"}, {Type: "OPENING_HOURS", Value: "b"}}},
			wantErr: "SLA rule s4: two OPENING_HOURS conditions (a, b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SLARule(tt.in, 3)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}
