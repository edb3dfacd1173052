package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

func TestAPIDialectGlobalAndPerTenant(t *testing.T) {
	c, err := Load(writeFile(t, `
api:
  date_filter: {encoding: epoch_s}
  lists: {page_param: page, first_page: 1}
  fields:
    users: {email: mail}
tenants:
  - {id: old, token: a}
  - id: new
    token: b
    api:
      date_filter: {body: '{"fromDate":"$from","toDate":"$to"}', encoding: date}
      fields:
        users: {display_name: name}
        customers: {first_name: givenName}
`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	contract := catalog.Contract()
	old, new := c.Tenants[0].Dialect, c.Tenants[1].Dialect
	tests := []struct{ name, got, want string }{
		{"old encoding (global)", old.DateFilter.Encoding, "epoch_s"},
		{"old body (contract)", old.DateFilter.Body, contract.DateFilter.Body},
		{"old page param (global)", old.Lists.PageParam, "page"},
		{"old size param (contract)", old.Lists.SizeParam, "pageSize"},
		{"old users.email (global)", old.Fields["users"]["email"], "mail"},
		{"old users.display_name (contract)", old.Fields["users"]["display_name"], "displayName"},
		{"old customers.first_name (contract)", old.Fields["customers"]["first_name"], "firstName"},
		{"new encoding (tenant)", new.DateFilter.Encoding, "date"},
		{"new page param (global)", new.Lists.PageParam, "page"},
		{"new users.email (global)", new.Fields["users"]["email"], "mail"},
		{"new users.display_name (tenant)", new.Fields["users"]["display_name"], "name"},
		{"new customers.first_name (tenant)", new.Fields["customers"]["first_name"], "givenName"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if new.Lists.FirstPage != 1 || old.Lists.FirstPage != 1 {
		t.Errorf("first_page: old %d, new %d, want 1 (global)", old.Lists.FirstPage, new.Lists.FirstPage)
	}
	// A tenant's api: must not leak into the global dialect or another tenant.
	if diff := cmp.Diff(contract.Fields["customers"], old.Fields["customers"]); diff != "" {
		t.Errorf("tenant new's fields leaked into tenant old:\n%s", diff)
	}
}

func TestAPIMistakesNameTheKeyAndTheNearestName(t *testing.T) {
	tests := []struct{ yaml, key, hint string }{
		{"api:\n  date_filter: {encoding: epoch_sec}\n", "api.date_filter.encoding", `"epoch_s"`},
		{"api:\n  date_filter: {body: '{\"from\":\"$from\"}'}\n", "api.date_filter.body", "$to"},
		{"api:\n  lists: {first_page: 2}\n", "api.lists.first_page", "0 or 1"},
		{"api:\n  activity: {page_size: 0}\n", "api.activity.page_size", "between 1 and 10000"},
		{"api:\n  fields:\n    user: {email: mail}\n", "api.fields.user", `"users"`},
		{"api:\n  fields:\n    users: {emial: mail}\n", "api.fields.users.emial", `"email"`},
		{"api:\n  fields:\n    users: {email: .mail}\n", "api.fields.users.email", "dotted path"},
		{"tenants:\n  - id: a\n    token: x\n    api:\n      lists: {page_param: size, size_param: size}\n", "tenants[0].api.lists.page_param", "different"},
		{"streams:\n  x:\n    kind: reprot\n", "streams.x.kind", "report"},
		{"streams:\n  chat_csat:\n    kind: report\n    report: chat\n", "streams.chat_csat", "metric"},
	}
	for _, tt := range tests {
		env := envOf(map[string]string{"ENGAGE_API_TOKEN": "t"})
		_, err := Load(writeFile(t, tt.yaml), env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tt.key || !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("%q: got %v, want a config error on %s mentioning %s", tt.yaml, err, tt.key, tt.hint)
		}
	}
}

func TestStreamsDeclaredInTheConfig(t *testing.T) {
	c, err := Load(writeFile(t, `
streams:
  chat_csat_by_channel: {kind: report, report: chat, metric: CSAT_SCORE, group_by: CHANNEL, unit: mean_seconds}
  vip_customers: {kind: customers, path: "/customer?segment=vip"}
  chat_done: {unit: mean_seconds}
`), envOf(map[string]string{"ENGAGE_API_TOKEN": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	streams, err := c.Streams()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]catalog.Stream{}
	for _, s := range streams {
		byName[s.Name] = s
	}
	csat, vip := byName["chat_csat_by_channel"], byName["vip_customers"]
	if csat.Kind != catalog.KindReport || csat.Path != "/report/chat" || csat.Metric != "CSAT_SCORE" || csat.GroupBy != "CHANNEL" ||
		csat.Unit != catalog.MeanSeconds || csat.Report != "chat" || csat.Body != catalog.ReportBody {
		t.Errorf("chat_csat_by_channel = %+v", csat)
	}
	if vip.Kind != catalog.KindCustomers || vip.Path != "/customer?segment=vip" || vip.Phase != byName["customers"].Phase {
		t.Errorf("vip_customers = %+v", vip)
	}
	if byName["chat_done"].Unit != catalog.MeanSeconds {
		t.Errorf("chat_done unit %q, want mean_seconds", byName["chat_done"].Unit)
	}
}

func TestUnknownKeysNameTheNearestKnownOne(t *testing.T) {
	for yaml, hint := range map[string]string{
		"api:\n  lsts: {page_param: p}\n":                 `unknown key "lsts", did you mean "lists"?`,
		"api:\n  lists: {page_parm: p}\n":                 `unknown key "page_parm", did you mean "page_param"?`,
		"api:\n  date_filter: {encodng: date}\n":          `unknown key "encodng", did you mean "encoding"?`,
		"tenants:\n  - {id: a, token: x, timezne: UTC}\n": `unknown key "timezne", did you mean "timezone"?`,
		"streams:\n  chat_done: {unti: count}\n":          `unknown key "unti", did you mean "unit"?`,
		"sync:\n  chunk_byts: 65536\n":                    `unknown key "chunk_byts", did you mean "chunk_bytes"?`,
	} {
		_, err := Load(writeFile(t, yaml), envOf(map[string]string{"ENGAGE_API_TOKEN": "t"}))
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), hint) {
			t.Errorf("%q: got %v, want a config error saying %s", yaml, err, hint)
		}
	}
}
