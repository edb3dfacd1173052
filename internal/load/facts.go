package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// The fact tables, as data: each staged column next to the row value it
// takes, the natural key, and how each dimension key is looked up (never
// NULL: lookups return the Unknown member).

type (
	agentTimeRow         = transform.AgentTimeRow
	conversationRow      = transform.ConversationRow
	conversationAgentRow = transform.ConversationAgentRow
	messageRow           = transform.MessageRow
	visitRow             = transform.VisitRow
	cobrowseRow          = transform.CobrowseRow
	activityRow          = transform.ActivityRow
)

var agentTimes = &table[agentTimeRow]{
	upsert: upsert{
		table:   "engage.fact_agent_time",
		key:     []string{"kind", "user_id", "started_at"},
		target:  []string{"agent_key", "ended_at", "seconds", "date_key"},
		lookups: []lookup{{as: "a", column: "agent_key", dim: agentDim, id: "s.user_id", at: "s.started_at"}},
		infer:   []string{inferAgents("stage_fact_agent_time", "user_id")},
	},
	fields: []field[agentTimeRow]{
		{"kind", "text", func(r agentTimeRow) any { return r.Kind }},
		{"user_id", "text", func(r agentTimeRow) any { return r.UserID }},
		{"started_at", "timestamptz", func(r agentTimeRow) any { return r.Start }},
		{"ended_at", "timestamptz", func(r agentTimeRow) any { return r.End }},
		{"seconds", "numeric", func(r agentTimeRow) any { return r.Seconds }},
		{"date_key", "integer", func(r agentTimeRow) any { return r.Date.Key() }},
	},
	day: func(r agentTimeRow) civil.Date { return r.Date },
}

// AgentTimeBatch upserts agent online or logged-in ranges of the local days [from, to).
func AgentTimeBatch(from, to civil.Date, rows []transform.AgentTimeRow) Batch {
	return agentTimes.batch(from, to.AddDays(-1), rows)
}

// conversations upserts conversations, then gives their agent rows the
// conversation's day and agent versions: agent rows loaded before their
// conversation (by another process, or after a failed run) got the Unknown
// day, and must not keep it once the conversation is known.
var conversations = &table[conversationRow]{
	upsert: upsert{
		table: "engage.fact_conversation",
		key:   []string{"conversation_id"},
		target: []string{"customer_key", "team_key", "agent_key", "date_key", "channel", "status", "started_at", "ended_at",
			"user_ids", "message_count", "customer_message_count", "agent_message_count", "first_response_ms",
			"avg_response_ms", "duration_ms"},
		lookups: []lookup{
			{as: "cu", column: "customer_key", dim: customerDim, id: "s.customer_id"},
			{as: "t", column: "team_key", dim: teamDim, id: "s.team_id"},
			{as: "a", column: "agent_key", dim: agentDim, id: "s.first_agent", at: "s.started_at", nonEmpty: true},
		},
		infer: []string{
			inferMembers("stage_fact_conversation", "customer_id", "engage.dim_customer", "customer_id"),
			inferMembers("stage_fact_conversation", "team_id", "engage.dim_team", "team_id"),
			inferAgents("stage_fact_conversation", "first_agent"),
		},
		serializes: conversationRepair,
	},
	fields: []field[conversationRow]{
		{"conversation_id", "text", func(r conversationRow) any { return r.ID }},
		{"customer_id", "text", func(r conversationRow) any { return r.CustomerID }},
		{"team_id", "text", func(r conversationRow) any { return r.TeamID }},
		{"first_agent", "text", func(r conversationRow) any { return r.FirstAgent }},
		{"channel", "text", func(r conversationRow) any { return r.Channel }},
		{"status", "text", func(r conversationRow) any { return r.Status }},
		{"started_at", "timestamptz", func(r conversationRow) any { return r.Start }},
		{"ended_at", "timestamptz", func(r conversationRow) any { return r.End }},
		{"user_ids", "text[]", func(r conversationRow) any { return r.UserIDs }},
		{"message_count", "integer", func(r conversationRow) any { return r.MessageCount }},
		{"customer_message_count", "integer", func(r conversationRow) any { return r.CustomerMessageCount }},
		{"agent_message_count", "integer", func(r conversationRow) any { return r.AgentMessageCount }},
		{"first_response_ms", "bigint", func(r conversationRow) any { return r.FirstResponseMs }},
		{"avg_response_ms", "bigint", func(r conversationRow) any { return r.AvgResponseMs }},
		{"duration_ms", "bigint", func(r conversationRow) any { return r.DurationMs }},
		{"date_key", "integer", func(r conversationRow) any { return r.Date.Key() }},
	},
	day:   func(r conversationRow) civil.Date { return r.Date },
	after: then(repairConversationAgents, refreshStagedBusiness),
}

// ConversationBatch upserts the conversations of the local days [from, to).
func ConversationBatch(from, to civil.Date, rows []transform.ConversationRow) Batch {
	return conversations.batch(from, to.AddDays(-1), rows)
}

// conversationRepair serializes the commits of conversations and of their
// agents' part per tenant: each reads the other's rows (upsert.serializes).
const conversationRepair = "conversation-repair"

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

var conversationAgents = &table[conversationAgentRow]{
	upsert: upsert{
		table:  "engage.fact_conversation_agent",
		key:    []string{"conversation_id", "user_id"},
		target: []string{"agent_key", "date_key", "message_count", "first_response_ms", "avg_response_ms"},
		// The conversation loads in an earlier phase; until it has, the row
		// gets the Unknown day and the agent's first version
		// (ConversationBatch repairs both once it is loaded).
		lookups: []lookup{
			{as: "c", column: "date_key", dim: conversationDay, id: "s.conversation_id"},
			{as: "a", column: "agent_key", dim: agentDim, id: "s.user_id", at: "COALESCE(c.started_at, '-infinity')"},
		},
		infer:      []string{inferAgents("stage_fact_conversation_agent", "user_id")},
		serializes: conversationRepair,
	},
	fields: []field[conversationAgentRow]{
		{"conversation_id", "text", func(r conversationAgentRow) any { return r.ConversationID }},
		{"user_id", "text", func(r conversationAgentRow) any { return r.UserID }},
		{"message_count", "integer", func(r conversationAgentRow) any { return r.MessageCount }},
		{"first_response_ms", "bigint", func(r conversationAgentRow) any { return r.FirstResponseMs }},
		{"avg_response_ms", "bigint", func(r conversationAgentRow) any { return r.AvgResponseMs }},
	},
}

// ConversationAgentBatch upserts agents' part in the conversations of the local days [from, to).
func ConversationAgentBatch(from, to civil.Date, rows []transform.ConversationAgentRow) Batch {
	return conversationAgents.batch(from, to.AddDays(-1), rows)
}

var messages = &table[messageRow]{
	upsert: upsert{
		table: "engage.fact_message",
		key:   []string{"message_id"},
		target: []string{"conversation_id", "customer_key", "agent_key", "date_key", "user_id", "from_customer", "type",
			"sent_at", "text_length", "message_text", "has_url"},
		lookups: []lookup{
			{as: "c", column: "customer_key", dim: customerDim, id: "s.customer_id"},
			{as: "a", column: "agent_key", dim: agentDim, id: "s.user_id", at: "s.sent_at"},
		},
		infer: []string{
			inferMembers("stage_fact_message", "customer_id", "engage.dim_customer", "customer_id"),
			inferAgents("stage_fact_message", "user_id"),
		},
	},
	fields: []field[messageRow]{
		{"message_id", "text", func(r messageRow) any { return r.ID }},
		{"conversation_id", "text", func(r messageRow) any { return r.ConversationID }},
		{"customer_id", "text", func(r messageRow) any { return r.CustomerID }},
		{"user_id", "text", func(r messageRow) any { return r.UserID }},
		{"from_customer", "boolean", func(r messageRow) any { return r.FromCustomer }},
		{"type", "text", func(r messageRow) any { return r.Type }},
		{"sent_at", "timestamptz", func(r messageRow) any { return r.SentAt }},
		{"text_length", "integer", func(r messageRow) any { return r.TextLength }},
		{"message_text", "text", func(r messageRow) any { return r.Text }},
		{"has_url", "boolean", func(r messageRow) any { return r.HasURL }},
		{"date_key", "integer", func(r messageRow) any { return r.Date.Key() }},
	},
	day:   func(r messageRow) civil.Date { return r.Date },
	after: refreshAgentSpans,
}

// refreshAgentSpansSQL keeps engage.agent_conversation_day (when each agent
// handled each conversation on each local day) from the staged messages
// alone: re-reading the conversations' messages from fact_message cost a
// backfill an index probe per message. A span only widens (LEAST and
// GREATEST), so a webhook's single message extends its day's span rather
// than replacing it; only spans that changed are written.
const refreshAgentSpansSQL = `
INSERT INTO engage.agent_conversation_day AS a (tenant_key, user_id, date_key, conversation_id, first_at, last_at)
SELECT $1::integer, s.user_id, s.date_key, s.conversation_id, min(s.sent_at), max(s.sent_at)
FROM stage_fact_message s
WHERE NOT s.from_customer AND s.user_id IS NOT NULL AND s.user_id <> ''
GROUP BY 2, 3, 4
ON CONFLICT (tenant_key, user_id, date_key, conversation_id) DO UPDATE
SET first_at = LEAST(a.first_at, EXCLUDED.first_at), last_at = GREATEST(a.last_at, EXCLUDED.last_at), loaded_at = now()
WHERE EXCLUDED.first_at < a.first_at OR EXCLUDED.last_at > a.last_at`

func refreshAgentSpans(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	if _, err := tx.Exec(ctx, refreshAgentSpansSQL, tenantKey); err != nil {
		return 0, fmt.Errorf("refresh the agents' conversation spans: %w", err)
	}
	return 0, nil
}

// MessageBatch upserts messages of the local days [from, to).
func MessageBatch(from, to civil.Date, rows []transform.MessageRow) Batch {
	return messages.batch(from, to.AddDays(-1), rows)
}

var visits = &table[visitRow]{
	upsert: upsert{
		table:  "engage.fact_visit",
		key:    []string{"visit_id"},
		target: []string{"session_id", "visitor_id", "date_key", "url", "path", "started_at", "ended_at", "seconds"},
	},
	fields: []field[visitRow]{
		{"visit_id", "text", func(r visitRow) any { return r.ID }},
		{"session_id", "text", func(r visitRow) any { return r.SessionID }},
		{"visitor_id", "text", func(r visitRow) any { return r.VisitorID }},
		{"url", "text", func(r visitRow) any { return r.URL }},
		{"path", "text", func(r visitRow) any { return r.Path }},
		{"started_at", "timestamptz", func(r visitRow) any { return r.Start }},
		{"ended_at", "timestamptz", func(r visitRow) any { return r.End }},
		{"seconds", "numeric", func(r visitRow) any { return r.Seconds }},
		{"date_key", "integer", func(r visitRow) any { return r.Date.Key() }},
	},
	day: func(r visitRow) civil.Date { return r.Date },
}

// VisitBatch upserts website visits of the local days [from, to).
func VisitBatch(from, to civil.Date, rows []transform.VisitRow) Batch {
	return visits.batch(from, to.AddDays(-1), rows)
}

var cobrowseSessions = &table[cobrowseRow]{
	upsert: upsert{
		table:  "engage.fact_cobrowse_session",
		key:    []string{"session_id"},
		target: []string{"user_id", "agent_key", "customer_key", "date_key", "started_at", "ended_at", "seconds"},
		lookups: []lookup{
			{as: "a", column: "agent_key", dim: agentDim, id: "s.user_id", at: "s.started_at"},
			{as: "c", column: "customer_key", dim: customerDim, id: "s.customer_id"},
		},
		infer: []string{
			inferMembers("stage_fact_cobrowse_session", "customer_id", "engage.dim_customer", "customer_id"),
			inferAgents("stage_fact_cobrowse_session", "user_id"),
		},
	},
	fields: []field[cobrowseRow]{
		{"session_id", "text", func(r cobrowseRow) any { return r.SessionID }},
		{"user_id", "text", func(r cobrowseRow) any { return r.UserID }},
		{"customer_id", "text", func(r cobrowseRow) any { return r.CustomerID }},
		{"started_at", "timestamptz", func(r cobrowseRow) any { return r.Start }},
		{"ended_at", "timestamptz", func(r cobrowseRow) any { return r.End }},
		{"seconds", "numeric", func(r cobrowseRow) any { return r.Seconds }},
		{"date_key", "integer", func(r cobrowseRow) any { return r.Date.Key() }},
	},
	day: func(r cobrowseRow) civil.Date { return r.Date },
}

// CobrowseBatch upserts co-browse sessions of the local days [from, to).
func CobrowseBatch(from, to civil.Date, rows []transform.CobrowseRow) Batch {
	return cobrowseSessions.batch(from, to.AddDays(-1), rows)
}

var activityEvents = &table[activityRow]{
	upsert: upsert{
		table:  "engage.fact_activity_event",
		key:    []string{"event_id"},
		target: []string{"log", "type", "user_id", "customer_id", "agent_key", "customer_key", "date_key", "occurred_at", "data"},
		lookups: []lookup{
			{as: "a", column: "agent_key", dim: agentDim, id: "s.user_id", at: "s.occurred_at"},
			{as: "c", column: "customer_key", dim: customerDim, id: "s.customer_id"},
		},
		exprs: map[string]string{"data": "s.data::jsonb"},
		infer: []string{
			inferMembers("stage_fact_activity_event", "customer_id", "engage.dim_customer", "customer_id"),
			inferAgents("stage_fact_activity_event", "user_id"),
		},
	},
	fields: []field[activityRow]{
		{"event_id", "text", func(r activityRow) any { return r.ID }},
		{"log", "text", func(r activityRow) any { return r.Log }},
		{"type", "text", func(r activityRow) any { return r.Type }},
		{"user_id", "text", func(r activityRow) any { return r.UserID }},
		{"customer_id", "text", func(r activityRow) any { return r.CustomerID }},
		{"occurred_at", "timestamptz", func(r activityRow) any { return r.At }},
		{"data", "text", func(r activityRow) any { return string(r.Data) }},
		{"date_key", "integer", func(r activityRow) any { return r.Date.Key() }},
	},
	day: func(r activityRow) civil.Date { return r.Date },
}

// ActivityBatch upserts activity events of the local days [from, to).
func ActivityBatch(from, to civil.Date, rows []transform.ActivityRow) Batch {
	return activityEvents.batch(from, to.AddDays(-1), rows)
}

// realtimeRow is a realtime figure at the minute its snapshot was taken.
type realtimeRow struct {
	transform.RealtimeRow
	at  time.Time
	day civil.Date
}

var realtimeSnapshots = &table[realtimeRow]{
	upsert: upsert{
		table:  "engage.fact_realtime_snapshot",
		key:    []string{"metric", "taken_at"},
		target: []string{"date_key", "value"},
	},
	fields: []field[realtimeRow]{
		{"metric", "text", func(r realtimeRow) any { return r.Metric }},
		{"taken_at", "timestamptz", func(r realtimeRow) any { return r.at }},
		{"value", "numeric", func(r realtimeRow) any { return r.Value }},
		{"date_key", "integer", func(r realtimeRow) any { return r.day.Key() }},
	},
}

// RealtimeBatch stores one realtime snapshot, taken at takenAt (to the minute).
func RealtimeBatch(takenAt time.Time, loc *time.Location, rows []transform.RealtimeRow) Batch {
	at := takenAt.Truncate(time.Minute)
	day := civil.Of(at, loc)
	out := make([]realtimeRow, len(rows))
	for i, r := range rows {
		out[i] = realtimeRow{r, at, day}
	}
	return realtimeSnapshots.batch(day, day, out)
}
