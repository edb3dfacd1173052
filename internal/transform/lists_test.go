package transform

import (
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
