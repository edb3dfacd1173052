package transform

import (
	"fmt"
	"sort"
	"strings"

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
