package transform

import (
	"fmt"
	"sort"
	"strings"
)

// UserRow is a user as listed: the input of dim_agent's versions.
type UserRow struct {
	ID, Email, DisplayName, RoleID string
}

// User maps one user; its e-mail is the agent's natural key, since reports
// name agents by e-mail.
func User(id, email, displayName, roleID string) (UserRow, error) {
	if id == "" || email == "" {
		return UserRow{}, fmt.Errorf("user without id or email")
	}
	return UserRow{id, strings.ToLower(email), displayName, roleID}, nil
}

// TeamRow is a team with its current members (user ids).
type TeamRow struct {
	ID, Name      string
	Members, Tags []string
}

// Team maps one team; members are sorted so an unchanged team compares equal.
func Team(id, name string, members, tags []string) (TeamRow, error) {
	if id == "" {
		return TeamRow{}, fmt.Errorf("team without id")
	}
	m := append([]string{}, members...)
	sort.Strings(m)
	return TeamRow{id, name, m, nonNil(tags)}, nil
}

// NamedRow is a role or a routing rule.
type NamedRow struct {
	ID, Name string
	Active   bool
	Types    []string
}

// Named maps a role or rule.
func Named(kind, id, name string, active bool, types []string) (NamedRow, error) {
	if id == "" {
		return NamedRow{}, fmt.Errorf("%s without id", kind)
	}
	return NamedRow{id, name, active, nonNil(types)}, nil
}

// CustomerRow is a customer as listed.
type CustomerRow struct {
	ID, Email, FirstName, LastName, Gender, ExternalID, AssignedUser string
}

// Customer maps one customer.
func Customer(r CustomerRow) (CustomerRow, error) {
	if r.ID == "" {
		return r, fmt.Errorf("customer without id")
	}
	return r, nil
}

func sortBy[T any](xs []T, key func(T) string) {
	sort.Slice(xs, func(i, j int) bool { return key(xs[i]) < key(xs[j]) })
}
