package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// Dimensions from the lists of CONTRACT.md §5. Roles, teams, rules and
// customers are type 1 (overwritten in place); agents are type 2: whenever a
// user's name, role or teams change, the current version is closed and a new
// one opens, so facts join the version valid at their time.

var roleSpec = &upsert{
	table: "engage.dim_role", stage: []column{{"role_id", "text"}, {"name", "text"}},
	key: []string{"role_id"}, target: []string{"name"},
}

var teamSpec = &upsert{
	table: "engage.dim_team",
	stage: []column{{"team_id", "text"}, {"name", "text"}, {"member_ids", "text[]"}, {"tags", "text[]"}},
	key:   []string{"team_id"}, target: []string{"name", "member_ids", "tags"},
}

var ruleSpec = &upsert{
	table: "engage.dim_rule",
	stage: []column{{"rule_id", "text"}, {"name", "text"}, {"active", "boolean"}, {"types", "text[]"}},
	key:   []string{"rule_id"}, target: []string{"name", "active", "types"},
}

var customerSpec = &upsert{
	table: "engage.dim_customer",
	stage: []column{{"customer_id", "text"}, {"email", "text"}, {"first_name", "text"}, {"last_name", "text"},
		{"gender", "text"}, {"external_id", "text"}, {"assigned_user", "text"}},
	key:    []string{"customer_id"},
	target: []string{"email", "first_name", "last_name", "gender", "external_id", "assigned_user", "inferred"},
	exprs:  map[string]string{"inferred": "false"},
}

// userSpec stages the user list; the merge into dim_agent is the SCD2 refresh.
var userSpec = &upsert{
	table: "engage.dim_agent",
	stage: []column{{"engage_user_id", "text"}, {"email", "text"}, {"display_name", "text"}, {"role_id", "text"}},
}

// RoleBatch overwrites roles, then re-derives agents' role names.
func RoleBatch(day civil.Date, observed time.Time, rows []transform.NamedRow) Batch {
	b := tableBatch{spec: roleSpec, first: day, last: day, after: refreshFromCurrent(observed)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.Name})
	}
	return b
}

// TeamBatch overwrites teams and their members, then re-derives agents' teams.
func TeamBatch(day civil.Date, observed time.Time, rows []transform.TeamRow) Batch {
	b := tableBatch{spec: teamSpec, first: day, last: day, after: refreshFromCurrent(observed)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.Name, r.Members, r.Tags})
	}
	return b
}

// RuleBatch overwrites routing rules.
func RuleBatch(day civil.Date, rows []transform.NamedRow) Batch {
	b := tableBatch{spec: ruleSpec, first: day, last: day}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.Name, r.Active, r.Types})
	}
	return b
}

// CustomerBatch overwrites customers (and completes inferred ones).
func CustomerBatch(day civil.Date, rows []transform.CustomerRow) Batch {
	b := tableBatch{spec: customerSpec, first: day, last: day}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.Email, r.FirstName, r.LastName, r.Gender, r.ExternalID, r.AssignedUser})
	}
	return b
}

// UserBatch versions dim_agent from the user list observed at observed.
func UserBatch(day civil.Date, observed time.Time, rows []transform.UserRow) Batch {
	return userBatch{day: day, observed: observed, rows: rows}
}

type userBatch struct {
	day      civil.Date
	observed time.Time
	rows     []transform.UserRow
}

func (b userBatch) days() (civil.Date, civil.Date) { return b.day, b.day }

func (b userBatch) merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	rows := make([][]any, len(b.rows))
	for i, r := range b.rows {
		rows[i] = []any{r.ID, r.Email, r.DisplayName, r.RoleID}
	}
	if err := userSpec.stageRows(ctx, tx, rows); err != nil {
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

func refreshFromCurrent(observed time.Time) func(context.Context, pgx.Tx, int) (int64, error) {
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
