package kinds

import "github.com/engage-etl/engage-etl/internal/catalog"

// Reconciliation pairs a detail stream with the bucketed report that counts
// the same thing (the API gives it twice): per tenant and local day, the
// figure its rows make (Detail) and the report's (Report, Metric, GroupBy)
// must agree within Tolerance per group. They are data: pipeline's
// reconcile runs every pair the same way.
type Reconciliation struct {
	Name string // e.g. conversations_by_channel; a day's check is kept under it
	// Stream limits the pair to one stream of the kind (the agent times:
	// online and logged-in ranges count against different metrics); "":
	// every stream of the kind.
	Stream                  string
	Report, Metric, GroupBy string
	// Detail selects (date_key, group_value, value) from the detail rows:
	// $1 the tenant key, $2 and $3 the first and last date keys. The group
	// value is what the report groups by ('' when ungrouped).
	Detail string
	// Tolerance is how far the two figures of a group and day may differ.
	Tolerance float64
	// Spans: the rows are time ranges a report counts per day they
	// overlap, so a day is checked only once the day before it is loaded
	// too (a range that started then runs into it).
	Spans bool
	// Needs are the kinds whose rows the detail SQL reads besides its own
	// (a conversation's day): a day is checked only once they are loaded
	// too, since another process may still be loading them.
	Needs []catalog.Kind
}

// countPerDay counts rows of table per local day, ungrouped.
func countPerDay(table string) string {
	return `SELECT date_key, '' AS group_value, count(*)::numeric AS value FROM ` + table + `
WHERE tenant_key = $1 AND date_key BETWEEN $2 AND $3 GROUP BY date_key`
}

var (
	conversationPairs = []Reconciliation{
		{Name: "conversations", Report: "chat", Metric: "CONVERSATIONS", Detail: countPerDay("engage.fact_conversation")},
		{Name: "conversations_by_channel", Report: "chat", Metric: "CONVERSATIONS", GroupBy: "CHANNEL", Detail: `
SELECT date_key, channel, count(*)::numeric FROM engage.fact_conversation
WHERE tenant_key = $1 AND date_key BETWEEN $2 AND $3 GROUP BY 1, 2`},
		{Name: "conversations_by_team", Report: "chat", Metric: "CONVERSATIONS", GroupBy: "TEAM", Detail: `
SELECT f.date_key, t.team_id, count(*)::numeric FROM engage.fact_conversation f JOIN engage.dim_team t USING (team_key)
WHERE f.tenant_key = $1 AND f.date_key BETWEEN $2 AND $3 GROUP BY 1, 2`},
	}
	conversationAgentPairs = []Reconciliation{
		{Name: "conversations_by_agent", Report: "chat", Metric: "CONVERSATIONS", GroupBy: "AGENT", Needs: []catalog.Kind{catalog.KindConversations}, Detail: `
SELECT date_key, user_id, count(*)::numeric FROM engage.fact_conversation_agent
WHERE tenant_key = $1 AND date_key BETWEEN $2 AND $3 GROUP BY 1, 2`},
	}
	// The messages stream loads the messages of the conversations that
	// started in its windows, so it counts against chat MESSAGES, the
	// messages of the conversations started each day; the message report
	// counts by the day sent, which on a range's first days includes
	// messages of conversations started before it.
	messagePairs = []Reconciliation{
		{Name: "messages", Report: "chat", Metric: "MESSAGES", Needs: []catalog.Kind{catalog.KindConversations}, Detail: `
SELECT f.date_key, '', count(*)::numeric FROM engage.fact_message m
JOIN engage.fact_conversation f ON f.tenant_key = m.tenant_key AND f.conversation_id = m.conversation_id
WHERE m.tenant_key = $1 AND f.date_key BETWEEN $2 AND $3 GROUP BY 1`},
	}
	visitPairs = []Reconciliation{
		{Name: "visits", Report: "visit", Metric: "VISITS", Detail: countPerDay("engage.fact_visit")},
	}
	cobrowsePairs = []Reconciliation{
		{Name: "cobrowse_sessions", Report: "cobrowse", Metric: "COBROWSE_SESSIONS", Detail: countPerDay("engage.fact_cobrowse_session")},
	}
	// The agent report's times are the seconds of each local day a range
	// overlaps; the detail ranges' own sumMinutes is rounded down
	// (CONTRACT.md §4), and a report may round the same way: a minute per
	// agent and day is no shortfall.
	agentTimePairs = []Reconciliation{
		{Name: "online_time_by_agent", Stream: "agent_times_online", Report: "agent", Metric: "ONLINE_TIME", GroupBy: "AGENT",
			Detail: agentSeconds("online"), Tolerance: 60, Spans: true},
		{Name: "logged_in_time_by_agent", Stream: "agent_times_loggedin", Report: "agent", Metric: "LOGGED_IN_TIME", GroupBy: "AGENT",
			Detail: agentSeconds("logged_in"), Tolerance: 60, Spans: true},
	}
)

// agentSeconds sums, per agent and local day, the seconds of the day the
// agent's ranges of a kind overlap.
func agentSeconds(kind string) string {
	return `SELECT to_char(d, 'YYYYMMDD')::integer, a.user_id,
       sum(extract(epoch FROM least(a.ended_at, (d + interval '1 day') AT TIME ZONE t.timezone) - greatest(a.started_at, d AT TIME ZONE t.timezone)))
FROM engage.fact_agent_time a JOIN engage.dim_tenant t USING (tenant_key),
     generate_series((a.started_at AT TIME ZONE t.timezone)::date::timestamp, (a.ended_at AT TIME ZONE t.timezone)::date::timestamp, interval '1 day') AS d
WHERE a.tenant_key = $1 AND a.kind = '` + kind + `'
  AND a.date_key BETWEEN to_char(to_date(($2::integer)::text, 'YYYYMMDD') - 1, 'YYYYMMDD')::integer AND $3
  AND to_char(d, 'YYYYMMDD')::integer BETWEEN $2 AND $3 AND a.ended_at > d AT TIME ZONE t.timezone
GROUP BY 1, 2`
}
