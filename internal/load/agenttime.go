package load

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// AgentTimeBatch upserts agent online or logged-in ranges by natural key
// (tenant, kind, user, start). Agents the warehouse has not seen yet are added
// to dim_agent as inferred members.
type AgentTimeBatch struct {
	From, To civil.Date
	Rows     []transform.AgentTimeRow
}

func (b AgentTimeBatch) days() (civil.Date, civil.Date) {
	first, last := b.From, b.To.AddDays(-1)
	for _, r := range b.Rows {
		if r.Date.Before(first) {
			first = r.Date
		}
		if r.Date.After(last) {
			last = r.Date
		}
	}
	return first, last
}

func (b AgentTimeBatch) merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	rows := make([][]any, len(b.Rows))
	for i, r := range b.Rows {
		rows[i] = []any{r.Kind, r.UserID, r.Start, r.End, r.Seconds, r.Date.Key()}
	}
	if err := stage(ctx, tx, "stage_agent_time",
		"kind text, user_id text, started_at timestamptz, ended_at timestamptz, seconds numeric, date_key integer",
		[]string{"kind", "user_id", "started_at", "ended_at", "seconds", "date_key"}, rows); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, inferAgentsSQL, tenantKey); err != nil {
		return 0, fmt.Errorf("infer agents: %w", err)
	}
	tag, err := tx.Exec(ctx, mergeAgentTimeSQL, tenantKey)
	if err != nil {
		return 0, fmt.Errorf("merge agent times: %w", err)
	}
	return tag.RowsAffected(), nil
}

// inferAgentsSQL inserts in user_id order so parallel windows take the unique
// index's locks in the same order and cannot deadlock each other.
const inferAgentsSQL = `
INSERT INTO engage.dim_agent (tenant_key, user_id, email)
SELECT $1::integer, u.user_id, CASE WHEN u.user_id LIKE '%@%' THEN u.user_id END
FROM (SELECT DISTINCT user_id FROM stage_agent_time) u
WHERE NOT EXISTS (SELECT 1 FROM engage.dim_agent a WHERE a.tenant_key = $1 AND a.user_id = u.user_id)
ORDER BY u.user_id
ON CONFLICT DO NOTHING`

// agentKeyAt is the agent version valid at an instant (0, Unknown, if none).
const agentKeyAt = `
COALESCE((SELECT a.agent_key FROM engage.dim_agent a
          WHERE a.tenant_key = $1 AND a.user_id = s.user_id
            AND a.valid_from <= s.started_at AND (a.valid_to IS NULL OR s.started_at < a.valid_to)
          ORDER BY a.valid_from DESC LIMIT 1), 0)`

const mergeAgentTimeSQL = `
INSERT INTO engage.fact_agent_time AS f (tenant_key, kind, user_id, started_at, agent_key, ended_at, seconds, date_key)
SELECT DISTINCT ON (s.kind, s.user_id, s.started_at)
       $1::integer, s.kind, s.user_id, s.started_at, ` + agentKeyAt + `, s.ended_at, s.seconds, s.date_key
FROM stage_agent_time s
ORDER BY s.kind, s.user_id, s.started_at, s.ended_at DESC
ON CONFLICT (tenant_key, kind, user_id, started_at) DO UPDATE
SET agent_key = EXCLUDED.agent_key, ended_at = EXCLUDED.ended_at, seconds = EXCLUDED.seconds,
    date_key = EXCLUDED.date_key, loaded_at = now()
WHERE (f.agent_key, f.ended_at, f.seconds, f.date_key)
      IS DISTINCT FROM (EXCLUDED.agent_key, EXCLUDED.ended_at, EXCLUDED.seconds, EXCLUDED.date_key)`
