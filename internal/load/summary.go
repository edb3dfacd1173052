package load

import (
	"context"
	"fmt"
)

// Summary is a glance at a warehouse: rows per main table and the busiest agents.
type Summary struct {
	Tables    []TableRows
	TopAgents []AgentLoad
}

// TableRows is a table and how many rows it holds.
type TableRows struct {
	Table string
	Rows  int64
}

// AgentLoad is an agent's conversations and online hours over the whole warehouse.
type AgentLoad struct {
	Email         string
	Conversations int64
	OnlineHours   string // one decimal
}

var summaryTables = []string{
	"engage.fact_report_metric", "engage.fact_conversation", "engage.fact_message", "engage.fact_agent_time",
	"engage.fact_visit", "engage.fact_activity_event", "engage.dim_agent", "engage.dim_customer", "raw.payload",
}

const topAgentsSQL = `
SELECT agent_email, sum(conversations)::bigint AS conversations, round(sum(online_seconds) / 3600, 1)::text AS online_hours
FROM bi.agent_day
GROUP BY agent_email
ORDER BY conversations DESC
LIMIT 5`

// Summary counts the rows of the main tables and finds the five busiest agents.
func (s *Store) Summary(ctx context.Context) (Summary, error) {
	var out Summary
	for _, table := range summaryTables {
		var n int64
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			return out, fmt.Errorf("count %s: %w", table, err)
		}
		out.Tables = append(out.Tables, TableRows{table, n})
	}
	rows, err := s.pool.Query(ctx, topAgentsSQL)
	if err != nil {
		return out, fmt.Errorf("busiest agents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AgentLoad
		if err := rows.Scan(&a.Email, &a.Conversations, &a.OnlineHours); err != nil {
			return out, err
		}
		out.TopAgents = append(out.TopAgents, a)
	}
	return out, rows.Err()
}
