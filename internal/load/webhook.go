package load

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// StatusBatch applies a webhook's conversation status at once: the named
// conversation (or the customer's latest) takes the new status. A
// conversation the warehouse has not seen yet gets a provisional row. The
// next sync overwrites both with the API's full answer: it stays the source
// of truth.
func StatusBatch(r transform.StatusRow) Batch { return statusBatch{r} }

type statusBatch struct{ r transform.StatusRow }

func (b statusBatch) days() (civil.Date, civil.Date) { return b.r.Date, b.r.Date }

const updateStatusSQL = `
WITH target AS (
    SELECT conversation_id FROM engage.fact_conversation
    WHERE tenant_key = $1 AND (conversation_id = $2 OR ($2 = '' AND customer_key = engage.customer_key($1, $3)))
    ORDER BY started_at DESC LIMIT 1
)
UPDATE engage.fact_conversation f
SET status = $4, ended_at = CASE WHEN $4 = 'DONE' THEN COALESCE(f.ended_at, $5) END, loaded_at = now()
FROM target
WHERE f.tenant_key = $1 AND f.conversation_id = target.conversation_id
  AND (f.status, f.ended_at) IS DISTINCT FROM ($4, CASE WHEN $4 = 'DONE' THEN COALESCE(f.ended_at, $5) END)`

const provisionalConversationSQL = `
INSERT INTO engage.fact_conversation (tenant_key, conversation_id, customer_key, team_key, agent_key, date_key,
    channel, status, started_at, ended_at, user_ids, message_count, customer_message_count, agent_message_count, duration_ms)
SELECT $1::integer, $2::text, engage.customer_key($1, $3::text), 0, 0, $6::integer, 'UNKNOWN', $4::text, $5::timestamptz,
       CASE WHEN $4::text = 'DONE' THEN $5::timestamptz END, '{}', 0, 0, 0, 0
WHERE $2::text <> ''
ON CONFLICT DO NOTHING`

func (b statusBatch) merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO engage.dim_customer (tenant_key, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		tenantKey, b.r.CustomerID); err != nil {
		return 0, fmt.Errorf("customer: %w", err)
	}
	tag, err := tx.Exec(ctx, updateStatusSQL, tenantKey, b.r.ConversationID, b.r.CustomerID, b.r.Status, b.r.At)
	if err != nil {
		return 0, fmt.Errorf("update status: %w", err)
	}
	if tag.RowsAffected() > 0 {
		return tag.RowsAffected(), nil
	}
	tag, err = tx.Exec(ctx, provisionalConversationSQL, tenantKey, b.r.ConversationID, b.r.CustomerID, b.r.Status, b.r.At, b.r.Date.Key())
	if err != nil {
		return 0, fmt.Errorf("provisional conversation: %w", err)
	}
	return tag.RowsAffected(), nil
}
