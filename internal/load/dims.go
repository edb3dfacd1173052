package load

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// Dimensions from the lists of CONTRACT.md §5. Roles, teams, rules and
// customers are type 1 (overwritten in place); agents are type 2: whenever a
// user's name, role or teams change, the current version is closed and a new
// one opens, so facts join the version valid at their time.

type (
	namedRow    = transform.NamedRow
	teamRow     = transform.TeamRow
	customerRow = transform.CustomerRow
	userRow     = transform.UserRow
)

var roles = &table[namedRow]{
	upsert: upsert{table: "engage.dim_role", key: []string{"role_id"}, target: []string{"name"}},
	fields: []field[namedRow]{
		{"role_id", "text", func(r namedRow) any { return r.ID }},
		{"name", "text", func(r namedRow) any { return r.Name }},
	},
}

var teams = &table[teamRow]{
	upsert: upsert{table: "engage.dim_team", key: []string{"team_id"}, target: []string{"name", "member_ids", "tags"}},
	fields: []field[teamRow]{
		{"team_id", "text", func(r teamRow) any { return r.ID }},
		{"name", "text", func(r teamRow) any { return r.Name }},
		{"member_ids", "text[]", func(r teamRow) any { return r.Members }},
		{"tags", "text[]", func(r teamRow) any { return r.Tags }},
	},
}

var rules = &table[namedRow]{
	upsert: upsert{table: "engage.dim_rule", key: []string{"rule_id"}, target: []string{"name", "active", "types"}},
	fields: []field[namedRow]{
		{"rule_id", "text", func(r namedRow) any { return r.ID }},
		{"name", "text", func(r namedRow) any { return r.Name }},
		{"active", "boolean", func(r namedRow) any { return r.Active }},
		{"types", "text[]", func(r namedRow) any { return r.Types }},
	},
}

var customers = &table[customerRow]{
	upsert: upsert{
		table:  "engage.dim_customer",
		key:    []string{"customer_id"},
		target: []string{"email", "first_name", "last_name", "gender", "external_id", "assigned_user", "inferred"},
		exprs:  map[string]string{"inferred": "false"},
	},
	fields: []field[customerRow]{
		{"customer_id", "text", func(r customerRow) any { return r.ID }},
		{"email", "text", func(r customerRow) any { return r.Email }},
		{"first_name", "text", func(r customerRow) any { return r.FirstName }},
		{"last_name", "text", func(r customerRow) any { return r.LastName }},
		{"gender", "text", func(r customerRow) any { return r.Gender }},
		{"external_id", "text", func(r customerRow) any { return r.ExternalID }},
		{"assigned_user", "text", func(r customerRow) any { return r.AssignedUser }},
	},
}

// users stages the user list as stage_dim_agent; userBatch's merge into
// dim_agent is the SCD2 refresh, not an upsert.
var users = &table[userRow]{
	upsert: upsert{table: "engage.dim_agent"},
	fields: []field[userRow]{
		{"engage_user_id", "text", func(r userRow) any { return r.ID }},
		{"email", "text", func(r userRow) any { return r.Email }},
		{"display_name", "text", func(r userRow) any { return r.DisplayName }},
		{"role_id", "text", func(r userRow) any { return r.RoleID }},
	},
}

// RoleBatch overwrites roles, then re-derives agents' role names.
func RoleBatch(day civil.Date, observed time.Time, rows []transform.NamedRow) Batch {
	b := roles.batch(day, day, rows)
	b.after = refreshFromCurrent(observed)
	return b
}

// TeamBatch overwrites teams and their members, then re-derives agents' teams.
func TeamBatch(day civil.Date, observed time.Time, rows []transform.TeamRow) Batch {
	b := teams.batch(day, day, rows)
	b.after = refreshFromCurrent(observed)
	return b
}

// RuleBatch overwrites routing rules.
func RuleBatch(day civil.Date, rows []transform.NamedRow) Batch { return rules.batch(day, day, rows) }

// CustomerBatch overwrites customers (and completes inferred ones).
func CustomerBatch(day civil.Date, rows []transform.CustomerRow) Batch {
	return customers.batch(day, day, rows)
}

// UserBatch versions dim_agent from the user list observed at observed.
func UserBatch(day civil.Date, observed time.Time, rows []transform.UserRow) Batch {
	return userBatch{rows: users.batch(day, day, rows), observed: observed}
}

type userBatch struct {
	rows     tableBatch // staged only
	observed time.Time
}

func (b userBatch) days() (civil.Date, civil.Date) { return b.rows.days() }

func (b userBatch) merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	if err := stage(ctx, tx, users.stageTable(), b.rows.columns, b.rows.n, b.rows.row); err != nil {
		return 0, err
	}
	return refreshAgents(ctx, tx, tenantKey, b.observed,
		`SELECT DISTINCT ON (email) email AS user_id, engage_user_id, email, display_name, role_id FROM stage_dim_agent ORDER BY email`)
}

const completeInferredSQL = `UPDATE engage.dim_agent a
SET engage_user_id = d.engage_user_id, email = d.email, display_name = d.display_name, role_id = d.role_id,
    role = d.role, team_ids = d.team_ids, team_names = d.team_names, inferred = false
FROM agent_desired d
WHERE a.tenant_key = $1 AND a.user_id = d.user_id AND a.is_current AND a.inferred`

// currentAgents is the source of a refresh when teams or roles changed: the
// users as last listed, that is the current versions of listed agents.
const currentAgents = `SELECT user_id, engage_user_id, email, display_name, role_id FROM engage.dim_agent
WHERE tenant_key = $1 AND is_current AND NOT inferred AND agent_key <> 0`

func refreshFromCurrent(observed time.Time) afterStep {
	return func(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
		return refreshAgents(ctx, tx, tenantKey, observed, currentAgents)
	}
}

// refreshAgents brings dim_agent to the users of source, with role names from
// dim_role and teams from dim_team's members:
//   - an inferred member (known only from facts) is completed in place, so the
//     history it already carries gets the agent's real attributes;
//   - a changed agent's current version closes at observed and a new one opens;
//   - a new agent's first version is valid since always (-infinity).
//
// A transaction-scoped advisory lock per tenant serialises refreshes, so two
// streams or daemons never version the same agent twice.
func refreshAgents(ctx context.Context, tx pgx.Tx, tenantKey int, observed time.Time, source string) (int64, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('engage-etl dim_agent'), $1)`, tenantKey); err != nil {
		return 0, err
	}
	steps := []struct{ name, sql string }{
		{"desired", `CREATE TEMP TABLE agent_desired ON COMMIT DROP AS
SELECT s.user_id, s.engage_user_id, s.email, s.display_name, s.role_id, r.name AS role,
       COALESCE((SELECT array_agg(t.team_id ORDER BY t.team_id) FROM engage.dim_team t
                 WHERE t.tenant_key = $1 AND s.engage_user_id = ANY (t.member_ids)), '{}') AS team_ids,
       COALESCE((SELECT array_agg(t.name ORDER BY t.team_id) FROM engage.dim_team t
                 WHERE t.tenant_key = $1 AND s.engage_user_id = ANY (t.member_ids)), '{}') AS team_names
FROM (` + source + `) s
LEFT JOIN engage.dim_role r ON r.tenant_key = $1 AND r.role_id = s.role_id`},
		{"complete inferred", completeInferredSQL},
		{"close changed", `UPDATE engage.dim_agent a SET valid_to = $2, is_current = false
FROM agent_desired d
WHERE a.tenant_key = $1 AND a.user_id = d.user_id AND a.is_current AND NOT a.inferred AND a.valid_from < $2
  AND (a.engage_user_id, a.email, a.display_name, a.role_id, a.role, a.team_ids, a.team_names)
      IS DISTINCT FROM (d.engage_user_id, d.email, d.display_name, d.role_id, d.role, d.team_ids, d.team_names)`},
		{"open new", `INSERT INTO engage.dim_agent (tenant_key, user_id, engage_user_id, email, display_name, role_id, role,
                              team_ids, team_names, valid_from, is_current, inferred)
SELECT $1, d.user_id, d.engage_user_id, d.email, d.display_name, d.role_id, d.role, d.team_ids, d.team_names,
       CASE WHEN EXISTS (SELECT 1 FROM engage.dim_agent o WHERE o.tenant_key = $1 AND o.user_id = d.user_id)
            THEN $2 ELSE '-infinity'::timestamptz END,
       true, false
FROM agent_desired d
WHERE NOT EXISTS (SELECT 1 FROM engage.dim_agent a WHERE a.tenant_key = $1 AND a.user_id = d.user_id AND a.is_current)
ORDER BY d.user_id
ON CONFLICT DO NOTHING`},
		// A fact window may have inferred one of these agents after the plan
		// above was made (inference does not take the refresh lock, so fact
		// windows never wait for it): complete those now.
		{"complete inferred again", completeInferredSQL},
		{"bridge drop", `DELETE FROM engage.bridge_team_member b
USING engage.dim_agent a, engage.dim_team t
WHERE b.agent_key = a.agent_key AND b.team_key = t.team_key AND a.tenant_key = $1 AND a.is_current
  AND NOT (t.team_id = ANY (a.team_ids))`},
		{"bridge add", `INSERT INTO engage.bridge_team_member (team_key, agent_key)
SELECT t.team_key, a.agent_key
FROM engage.dim_agent a JOIN engage.dim_team t ON t.tenant_key = a.tenant_key AND t.team_id = ANY (a.team_ids)
WHERE a.tenant_key = $1 AND a.is_current
ON CONFLICT DO NOTHING`},
		{"done", `DROP TABLE agent_desired`},
	}
	var written int64
	for _, st := range steps {
		var args []any
		switch st.name {
		case "close changed", "open new":
			args = []any{tenantKey, observed}
		case "done":
		default:
			args = []any{tenantKey}
		}
		tag, err := tx.Exec(ctx, st.sql, args...)
		if err != nil {
			return written, fmt.Errorf("dim_agent versions (%s): %w", st.name, err)
		}
		if st.name != "desired" && st.name != "done" {
			written += tag.RowsAffected()
		}
	}
	return written, nil
}

type (
	openingHoursRow = transform.OpeningHoursRow
	slaRuleRow      = transform.SLARuleRow
)

var openingHours = &table[openingHoursRow]{
	upsert: upsert{
		table:  "engage.dim_opening_hours",
		key:    []string{"opening_hours_id"},
		target: []string{"name", "timezone_offset", "slots", "holidays", "holiday_names", "listed"},
		exprs:  map[string]string{"slots": "s.slots::jsonb", "listed": "true"},
		// Its commits refresh the conversations' business time.
		serializes: conversationRepair,
	},
	fields: []field[openingHoursRow]{
		{"opening_hours_id", "text", func(r openingHoursRow) any { return r.ID }},
		{"name", "text", func(r openingHoursRow) any { return r.Name }},
		{"timezone_offset", "numeric", func(r openingHoursRow) any { return r.TimezoneOffset }},
		{"slots", "text", func(r openingHoursRow) any { return slotsJSON(r.Slots) }},
		{"holidays", "date[]", func(r openingHoursRow) any { return r.Holidays }},
		{"holiday_names", "text[]", func(r openingHoursRow) any { return r.HolidayNames }},
	},
}

var slaRules = &table[slaRuleRow]{
	upsert: upsert{
		table: "engage.dim_sla_rule",
		key:   []string{"sla_rule_id"},
		target: []string{"position", "name", "active", "team_ids", "channels", "opening_hours_id",
			"first_response_seconds", "response_seconds", "watchdog_enabled", "listed"},
		exprs:      map[string]string{"listed": "true"},
		serializes: conversationRepair,
	},
	fields: []field[slaRuleRow]{
		{"sla_rule_id", "text", func(r slaRuleRow) any { return r.ID }},
		{"position", "integer", func(r slaRuleRow) any { return r.Position }},
		{"name", "text", func(r slaRuleRow) any { return r.Name }},
		{"active", "boolean", func(r slaRuleRow) any { return r.Active }},
		{"team_ids", "text[]", func(r slaRuleRow) any { return r.TeamIDs }},
		{"channels", "text[]", func(r slaRuleRow) any { return r.Channels }},
		{"opening_hours_id", "text", func(r slaRuleRow) any { return r.OpeningHoursID }},
		{"first_response_seconds", "integer", func(r slaRuleRow) any { return r.FirstResponseSeconds }},
		{"response_seconds", "integer", func(r slaRuleRow) any { return r.ResponseSeconds }},
		{"watchdog_enabled", "boolean", func(r slaRuleRow) any { return r.Watchdog }},
	},
}

func slotsJSON(slots []transform.OpeningSlot) string {
	b, _ := json.Marshal(slots) // ints and strings: cannot fail
	return string(b)
}

// OpeningHoursBatch overwrites the opening hours; those the list no longer
// holds are marked unlisted (an SLA rule naming them counts around the
// clock), unless the list came back empty.
func OpeningHoursBatch(day civil.Date, rows []transform.OpeningHoursRow) Batch {
	b := openingHours.batch(day, day, rows)
	b.after = refreshAllBusiness("engage.dim_opening_hours")
	if len(rows) > 0 {
		b.after = then(unlist("engage.dim_opening_hours", "opening_hours_id"), b.after)
	}
	return b
}

// SLARuleBatch overwrites the SLA rules; those the list no longer holds are
// marked unlisted and cover nothing, unless the list came back empty (an
// empty answer deletes nothing: one glitch would drop every target).
func SLARuleBatch(day civil.Date, rows []transform.SLARuleRow) Batch {
	b := slaRules.batch(day, day, rows)
	b.after = refreshAllBusiness("engage.dim_sla_rule")
	if len(rows) > 0 {
		b.after = then(unlist("engage.dim_sla_rule", "sla_rule_id"), b.after)
	}
	return b
}

// unlist marks the tenant's rows of a list's table that the staged answer
// does not hold as no longer listed.
func unlist(table, id string) afterStep {
	stage := "stage_" + strings.TrimPrefix(table, "engage.")
	return func(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
		tag, err := tx.Exec(ctx, `UPDATE `+table+` d SET listed = false, loaded_at = now()
WHERE d.tenant_key = $1 AND d.listed AND NOT EXISTS (SELECT 1 FROM `+stage+` s WHERE s.`+id+` = d.`+id+`)`, tenantKey)
		if err != nil {
			return 0, fmt.Errorf("unlist from %s: %w", table, err)
		}
		return tag.RowsAffected(), nil
	}
}

// The conversations' business first responses (engage.conversation_business)
// follow their conversation, its SLA rule and opening hours: a commit of
// conversations refreshes theirs, a commit that changed the rules or the
// hours every one of the tenant's. Both take the conversations' commit
// lock (conversationRepair), so neither misses the other's rows. Only rows
// whose figures differ are written: re-running a load writes none.
const refreshBusinessSQL = `
INSERT INTO engage.conversation_business AS b (tenant_key, conversation_id, sla_rule_key, opening_hours_key, first_response_business_seconds)
SELECT n.tenant_key, n.conversation_id, n.sla_rule_key, n.opening_hours_key, n.first_response_business_seconds
FROM %s
ON CONFLICT (tenant_key, conversation_id) DO UPDATE
SET sla_rule_key = EXCLUDED.sla_rule_key, opening_hours_key = EXCLUDED.opening_hours_key,
    first_response_business_seconds = EXCLUDED.first_response_business_seconds, loaded_at = now()
WHERE (b.sla_rule_key, b.opening_hours_key, b.first_response_business_seconds)
      IS DISTINCT FROM (EXCLUDED.sla_rule_key, EXCLUDED.opening_hours_key, EXCLUDED.first_response_business_seconds)`

// refreshStagedBusiness refreshes the staged conversations' rows. They are
// derived, not the stream's rows: they count in no run's rows written.
func refreshStagedBusiness(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	// The staged ids drive the lookups (one by key each): as a filter on the
	// view, the planner (knowing nothing of the stage) read every
	// conversation of the tenant at each commit. Only the conversations
	// this transaction wrote (loaded_at is its now()) can have changed: an
	// hourly sync re-reads 15,000 open days' conversations and writes a
	// tenth of them.
	from := `(SELECT DISTINCT s.conversation_id FROM stage_fact_conversation s
      JOIN engage.fact_conversation c ON c.tenant_key = $1 AND c.conversation_id = s.conversation_id AND c.loaded_at = now()) s
CROSS JOIN LATERAL (SELECT * FROM engage.conversation_business_now n WHERE n.tenant_key = $1 AND n.conversation_id = s.conversation_id) n`
	if _, err := tx.Exec(ctx, fmt.Sprintf(refreshBusinessSQL, from), tenantKey); err != nil {
		return 0, fmt.Errorf("refresh the conversations' business time: %w", err)
	}
	return 0, nil
}

// refreshAllBusiness refreshes every conversation of the tenant when this
// transaction changed the table's rows (their loaded_at is the
// transaction's now()); an unchanged list costs one probe.
func refreshAllBusiness(table string) afterStep {
	return func(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
		var changed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE tenant_key = $1 AND loaded_at = now())`, tenantKey).Scan(&changed); err != nil {
			return 0, fmt.Errorf("did %s change: %w", table, err)
		}
		if !changed {
			return 0, nil
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(refreshBusinessSQL, "engage.conversation_business_now n WHERE n.tenant_key = $1"), tenantKey); err != nil {
			return 0, fmt.Errorf("refresh the conversations' business time: %w", err)
		}
		return 0, nil // derived rows, as refreshStagedBusiness's
	}
}

// then runs a batch's after steps in order.
func then(steps ...afterStep) afterStep {
	return func(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
		var n int64
		for _, s := range steps {
			m, err := s(ctx, tx, tenantKey)
			n += m
			if err != nil {
				return n, err
			}
		}
		return n, nil
	}
}
