package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// The fact tables, as data: staged columns, natural key, and how each
// dimension key is looked up (never NULL: lookups return the Unknown member).

var agentTimeSpec = &upsert{
	table: "engage.fact_agent_time",
	stage: []column{{"kind", "text"}, {"user_id", "text"}, {"started_at", "timestamptz"}, {"ended_at", "timestamptz"},
		{"seconds", "numeric"}, {"date_key", "integer"}},
	key:    []string{"kind", "user_id", "started_at"},
	target: []string{"agent_key", "ended_at", "seconds", "date_key"},
	exprs:  map[string]string{"agent_key": "engage.agent_key_at($1, s.user_id, s.started_at)"},
	infer:  []string{inferAgents("stage_fact_agent_time", "user_id")},
}

// AgentTimeBatch upserts agent online or logged-in ranges.
func AgentTimeBatch(from, to civil.Date, rows []transform.AgentTimeRow) Batch {
	b := tableBatch{spec: agentTimeSpec, first: from, last: to.AddDays(-1)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.Kind, r.UserID, r.Start, r.End, r.Seconds, r.Date.Key()})
		b.first, b.last = span(b.first, b.last, r.Date)
	}
	return b
}

var conversationSpec = &upsert{
	table: "engage.fact_conversation",
	stage: []column{{"conversation_id", "text"}, {"customer_id", "text"}, {"team_id", "text"}, {"first_agent", "text"},
		{"channel", "text"}, {"status", "text"}, {"started_at", "timestamptz"}, {"ended_at", "timestamptz"},
		{"user_ids", "text[]"}, {"message_count", "integer"}, {"customer_message_count", "integer"},
		{"agent_message_count", "integer"}, {"first_response_ms", "bigint"}, {"avg_response_ms", "bigint"},
		{"duration_ms", "bigint"}, {"date_key", "integer"}},
	key: []string{"conversation_id"},
	target: []string{"customer_key", "team_key", "agent_key", "date_key", "channel", "status", "started_at", "ended_at",
		"user_ids", "message_count", "customer_message_count", "agent_message_count", "first_response_ms",
		"avg_response_ms", "duration_ms"},
	exprs: map[string]string{
		"customer_key": "engage.customer_key($1, s.customer_id)",
		"team_key":     "engage.team_key($1, s.team_id)",
		"agent_key":    "CASE WHEN s.first_agent = '' THEN 0 ELSE engage.agent_key_at($1, s.first_agent, s.started_at) END",
	},
	infer: []string{
		inferMembers("stage_fact_conversation", "customer_id", "engage.dim_customer", "customer_id"),
		inferMembers("stage_fact_conversation", "team_id", "engage.dim_team", "team_id"),
		inferAgents("stage_fact_conversation", "first_agent"),
	},
}

// ConversationBatch upserts conversations, then gives their agent rows the
// conversation's day and agent versions: agent rows loaded before their
// conversation (by another process, or after a failed run) got the Unknown
// day, and must not keep it once the conversation is known.
func ConversationBatch(from, to civil.Date, rows []transform.ConversationRow) Batch {
	b := tableBatch{spec: conversationSpec, first: from, last: to.AddDays(-1), after: repairConversationAgents}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.CustomerID, r.TeamID, r.FirstAgent, r.Channel, r.Status, r.Start, r.End,
			r.UserIDs, r.MessageCount, r.CustomerMessageCount, r.AgentMessageCount, r.FirstResponseMs,
			r.AvgResponseMs, r.DurationMs, r.Date.Key()})
		b.first, b.last = span(b.first, b.last, r.Date)
	}
	return b
}

const repairConversationAgentsSQL = `
UPDATE engage.fact_conversation_agent a
SET date_key = c.date_key, agent_key = engage.agent_key_at($1, a.user_id, c.started_at), loaded_at = now()
FROM engage.fact_conversation c
WHERE a.tenant_key = $1 AND c.tenant_key = $1 AND a.conversation_id = c.conversation_id
  AND c.conversation_id IN (SELECT conversation_id FROM stage_fact_conversation)
  AND (a.date_key, a.agent_key) IS DISTINCT FROM (c.date_key, engage.agent_key_at($1, a.user_id, c.started_at))`

func repairConversationAgents(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	tag, err := tx.Exec(ctx, repairConversationAgentsSQL, tenantKey)
	if err != nil {
		return 0, fmt.Errorf("repair conversation agents: %w", err)
	}
	return tag.RowsAffected(), nil
}

// conversationOf reads the conversation's start from fact_conversation,
// which loads in an earlier phase.
const conversationStart = `(SELECT c.started_at FROM engage.fact_conversation c WHERE c.tenant_key = $1 AND c.conversation_id = s.conversation_id)`

var conversationAgentSpec = &upsert{
	table: "engage.fact_conversation_agent",
	stage: []column{{"conversation_id", "text"}, {"user_id", "text"}, {"message_count", "integer"},
		{"first_response_ms", "bigint"}, {"avg_response_ms", "bigint"}},
	key:    []string{"conversation_id", "user_id"},
	target: []string{"agent_key", "date_key", "message_count", "first_response_ms", "avg_response_ms"},
	exprs: map[string]string{
		"agent_key": "engage.agent_key_at($1, s.user_id, COALESCE(" + conversationStart + ", '-infinity'))",
		"date_key":  "COALESCE((SELECT c.date_key FROM engage.fact_conversation c WHERE c.tenant_key = $1 AND c.conversation_id = s.conversation_id), 0)",
	},
	infer: []string{inferAgents("stage_fact_conversation_agent", "user_id")},
}

// ConversationAgentBatch upserts agents' part in conversations.
func ConversationAgentBatch(from, to civil.Date, rows []transform.ConversationAgentRow) Batch {
	b := tableBatch{spec: conversationAgentSpec, first: from, last: to.AddDays(-1)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ConversationID, r.UserID, r.MessageCount, r.FirstResponseMs, r.AvgResponseMs})
	}
	return b
}

var messageSpec = &upsert{
	table: "engage.fact_message",
	stage: []column{{"message_id", "text"}, {"conversation_id", "text"}, {"customer_id", "text"}, {"user_id", "text"},
		{"from_customer", "boolean"}, {"type", "text"}, {"sent_at", "timestamptz"}, {"text_length", "integer"},
		{"message_text", "text"}, {"has_url", "boolean"}, {"date_key", "integer"}},
	key: []string{"message_id"},
	target: []string{"conversation_id", "customer_key", "agent_key", "date_key", "user_id", "from_customer", "type",
		"sent_at", "text_length", "message_text", "has_url"},
	exprs: map[string]string{
		"customer_key": "engage.customer_key($1, s.customer_id)",
		"agent_key":    "CASE WHEN s.user_id IS NULL THEN 0 ELSE engage.agent_key_at($1, s.user_id, s.sent_at) END",
	},
	infer: []string{
		inferMembers("stage_fact_message", "customer_id", "engage.dim_customer", "customer_id"),
		inferAgents("stage_fact_message", "user_id"),
	},
}

// ConversationRaw is one conversation's messages answer, kept in
// raw.conversation_messages.
type ConversationRaw struct {
	ConversationID string
	Messages       int
	Body           []byte
	FetchedAt      time.Time
}

// MessageBatch upserts messages and keeps each conversation's raw answer.
func MessageBatch(from, to civil.Date, rows []transform.MessageRow, raws ...ConversationRaw) Batch {
	b := tableBatch{spec: messageSpec, first: from, last: to.AddDays(-1)}
	if len(raws) > 0 {
		b.after = func(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
			for _, r := range raws {
				if _, err := tx.Exec(ctx, upsertConversationRawSQL, tenantKey, r.ConversationID, r.FetchedAt, r.Messages, string(r.Body)); err != nil {
					return 0, fmt.Errorf("raw messages of %s: %w", r.ConversationID, err)
				}
			}
			return 0, nil
		}
	}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.ConversationID, r.CustomerID, r.UserID, r.FromCustomer, r.Type, r.SentAt,
			r.TextLength, r.Text, r.HasURL, r.Date.Key()})
		b.first, b.last = span(b.first, b.last, r.Date)
	}
	return b
}

const upsertConversationRawSQL = `
INSERT INTO raw.conversation_messages (tenant_id, conversation_id, fetched_at, message_count, body)
SELECT t.tenant_id, $2, $3, $4, $5::jsonb FROM engage.dim_tenant t WHERE t.tenant_key = $1
ON CONFLICT (tenant_id, conversation_id) DO UPDATE
SET fetched_at = EXCLUDED.fetched_at, message_count = EXCLUDED.message_count, body = EXCLUDED.body`

var visitSpec = &upsert{
	table: "engage.fact_visit",
	stage: []column{{"visit_id", "text"}, {"session_id", "text"}, {"visitor_id", "text"}, {"url", "text"}, {"path", "text"},
		{"started_at", "timestamptz"}, {"ended_at", "timestamptz"}, {"seconds", "numeric"}, {"date_key", "integer"}},
	key:    []string{"visit_id"},
	target: []string{"session_id", "visitor_id", "date_key", "url", "path", "started_at", "ended_at", "seconds"},
}

// VisitBatch upserts website visits.
func VisitBatch(from, to civil.Date, rows []transform.VisitRow) Batch {
	b := tableBatch{spec: visitSpec, first: from, last: to.AddDays(-1)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.SessionID, r.VisitorID, r.URL, r.Path, r.Start, r.End, r.Seconds, r.Date.Key()})
		b.first, b.last = span(b.first, b.last, r.Date)
	}
	return b
}

var cobrowseSpec = &upsert{
	table: "engage.fact_cobrowse_session",
	stage: []column{{"session_id", "text"}, {"user_id", "text"}, {"customer_id", "text"}, {"started_at", "timestamptz"},
		{"ended_at", "timestamptz"}, {"seconds", "numeric"}, {"date_key", "integer"}},
	key:    []string{"session_id"},
	target: []string{"user_id", "agent_key", "customer_key", "date_key", "started_at", "ended_at", "seconds"},
	exprs: map[string]string{
		"agent_key":    "engage.agent_key_at($1, s.user_id, s.started_at)",
		"customer_key": "engage.customer_key($1, s.customer_id)",
	},
	infer: []string{
		inferAgents("stage_fact_cobrowse_session", "user_id"),
		inferMembers("stage_fact_cobrowse_session", "customer_id", "engage.dim_customer", "customer_id"),
	},
}

// CobrowseBatch upserts co-browse sessions.
func CobrowseBatch(from, to civil.Date, rows []transform.CobrowseRow) Batch {
	b := tableBatch{spec: cobrowseSpec, first: from, last: to.AddDays(-1)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.SessionID, r.UserID, r.CustomerID, r.Start, r.End, r.Seconds, r.Date.Key()})
		b.first, b.last = span(b.first, b.last, r.Date)
	}
	return b
}

var activitySpec = &upsert{
	table: "engage.fact_activity_event",
	stage: []column{{"event_id", "text"}, {"log", "text"}, {"type", "text"}, {"user_id", "text"}, {"customer_id", "text"},
		{"occurred_at", "timestamptz"}, {"data", "text"}, {"date_key", "integer"}},
	key:    []string{"event_id"},
	target: []string{"log", "type", "user_id", "customer_id", "agent_key", "customer_key", "date_key", "occurred_at", "data"},
	exprs: map[string]string{
		"agent_key":    "CASE WHEN s.user_id IS NULL THEN 0 ELSE engage.agent_key_at($1, s.user_id, s.occurred_at) END",
		"customer_key": "CASE WHEN s.customer_id IS NULL THEN 0 ELSE engage.customer_key($1, s.customer_id) END",
		"data":         "s.data::jsonb",
	},
	infer: []string{
		inferAgents("stage_fact_activity_event", "user_id"),
		inferMembers("stage_fact_activity_event", "customer_id", "engage.dim_customer", "customer_id"),
	},
}

// ActivityBatch upserts activity events.
func ActivityBatch(from, to civil.Date, rows []transform.ActivityRow) Batch {
	b := tableBatch{spec: activitySpec, first: from, last: to.AddDays(-1)}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.ID, r.Log, r.Type, r.UserID, r.CustomerID, r.At, string(r.Data), r.Date.Key()})
		b.first, b.last = span(b.first, b.last, r.Date)
	}
	return b
}

var realtimeSpec = &upsert{
	table:  "engage.fact_realtime_snapshot",
	stage:  []column{{"metric", "text"}, {"taken_at", "timestamptz"}, {"value", "numeric"}, {"date_key", "integer"}},
	key:    []string{"metric", "taken_at"},
	target: []string{"date_key", "value"},
}

// RealtimeBatch stores one realtime snapshot, taken at takenAt (to the minute).
func RealtimeBatch(takenAt time.Time, loc *time.Location, rows []transform.RealtimeRow) Batch {
	at := takenAt.Truncate(time.Minute)
	day := civil.Of(at, loc)
	b := tableBatch{spec: realtimeSpec, first: day, last: day}
	for _, r := range rows {
		b.rows = append(b.rows, []any{r.Metric, at, r.Value, day.Key()})
	}
	return b
}
