package engagesim

import (
	"net/http"
	"time"
)

// page reads PageinationAPIDTO's flat query parameters (CONTRACT.md §5):
// pageNumber (0-based), pageSize (capped at 100) and offset (skipped first).
func page(r *http.Request) (start, size, number int, err error) {
	q := r.URL.Query()
	if number, err = intParam(q.Get("pageNumber"), 0, 0, 1<<30, "pageNumber"); err != nil {
		return
	}
	if size, err = intParam(q.Get("pageSize"), 20, 1, 1<<30, "pageSize"); err != nil {
		return
	}
	size = min(size, 100)
	offset, err := intParam(q.Get("offset"), 0, 0, 1<<30, "offset")
	return offset + number*size, size, number, err
}

// paged answers one page of n items; the last page is shorter than pageSize
// (or empty), since the answer has no total.
func paged(r *http.Request, n int, item func(i int) any) (any, error) {
	start, size, number, err := page(r)
	if err != nil {
		return nil, err
	}
	results := []any{}
	for i := start; i < n && i < start+size; i++ {
		results = append(results, item(i))
	}
	return map[string]any{"page": number, "results": results}, nil
}

type userRow struct {
	ID          string   `json:"id"`
	Email       string   `json:"email"`
	DisplayName string   `json:"displayName"`
	Description string   `json:"description"`
	RoleID      string   `json:"roleId"`
	Tags        []string `json:"tags"`
	Admin       bool     `json:"admin"`
	MCOEnabled  bool     `json:"mcoEnabled"`
	ExternalID  string   `json:"externalId"`
}

func (s *Server) users(r *http.Request, t *tenant, now time.Time) (any, error) {
	return paged(r, len(t.agents), func(i int) any {
		a := t.agents[i]
		role := at(a.roles, now)
		return userRow{ID: a.id, Email: a.email, DisplayName: a.name, Description: t.teams[at(a.teams, now)].name + " agent",
			RoleID: t.roles[role].id, Tags: []string{t.teams[at(a.teams, now)].name}, Admin: t.roles[role].name == "ADMIN",
			MCOEnabled: i%2 == 0, ExternalID: "emp-" + itoa(1000+i)}
	})
}

type teamRow struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Tags    []string `json:"tags"`
}

// teams lists teams with their members at now; membership changes over time.
func (s *Server) teamsList(r *http.Request, t *tenant, now time.Time) (any, error) {
	return paged(r, len(t.teams), func(i int) any {
		row := teamRow{ID: t.teams[i].id, Name: t.teams[i].name, Members: []string{}, Tags: []string{}}
		for _, a := range t.agents {
			if at(a.teams, now) == i {
				row.Members = append(row.Members, a.id)
			}
		}
		return row
	})
}

type customerRow struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Gender       string `json:"gender"`
	ExternalID   string `json:"externalId"`
	AssignedUser string `json:"assignedUser"`
}

// customersList lists the customers that exist at now, oldest first.
func (s *Server) customersList(r *http.Request, t *tenant, now time.Time) (any, error) {
	n := 0
	for n < len(t.customers) && t.customers[n].firstSeen.Before(now) {
		n++
	}
	return paged(r, n, func(i int) any {
		c := t.customers[i]
		return customerRow{c.id, c.email, c.first, c.last, c.gender, c.external, t.agents[c.assigned].email}
	})
}

func (s *Server) rolesList(r *http.Request, t *tenant, now time.Time) (any, error) {
	return paged(r, len(t.roles), func(i int) any {
		return map[string]string{"id": t.roles[i].id, "name": t.roles[i].name}
	})
}

type ruleRow struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Active bool     `json:"active"`
	Types  []string `json:"types"`
}

// rulesList serves GET /rule: a plain array, not paged.
func (s *Server) rulesList(r *http.Request, t *tenant, now time.Time) (any, error) {
	out := make([]ruleRow, 0, len(t.rules))
	for _, ru := range t.rules {
		out = append(out, ruleRow{ru.id, ru.name, ru.active, ru.types})
	}
	return out, nil
}
