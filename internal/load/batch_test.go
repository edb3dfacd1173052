package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// TestBatchConformance holds every Batch implementation to the contract of
// load.Batch against a real PostgreSQL: a batch's rows commit (its days are
// added to dim_date even before 2000, outside the pre-filled calendar), a
// second commit of the same batch writes nothing and leaves every row
// untouched, and a failed commit leaves nothing behind.
func TestBatchConformance(t *testing.T) {
	t.Parallel()                                      // a database of its own (testdb)
	day := civil.Date{Year: 1999, Month: 12, Day: 30} // before the pre-filled calendar
	next := day.AddDays(1)
	at := day.Start(time.UTC).Add(10 * time.Hour)
	end := at.Add(20 * time.Minute)
	ms := int64(1500)
	agent := "a@x.com"
	text := "hello"
	cases := []struct {
		name  string
		table string // where the rows land
		batch func() load.Batch
	}{
		{"agent times", "engage.fact_agent_time", func() load.Batch {
			return load.AgentTimeBatch(day, next, []transform.AgentTimeRow{{UserID: agent, Kind: "online", Start: at, End: end, Seconds: "1200", Date: day}})
		}},
		{"conversations", "engage.fact_conversation", func() load.Batch {
			return load.ConversationBatch(day, next, []transform.ConversationRow{{ID: "c1", CustomerID: "cu1", TeamID: "t1", Channel: "CHAT",
				Status: "DONE", Start: at, End: &end, UserIDs: []string{agent}, FirstAgent: agent, MessageCount: 2,
				CustomerMessageCount: 1, AgentMessageCount: 1, FirstResponseMs: &ms, AvgResponseMs: &ms, DurationMs: 1200000, Date: day}})
		}},
		{"conversation agents", "engage.fact_conversation_agent", func() load.Batch {
			return load.ConversationAgentBatch(day, next, []transform.ConversationAgentRow{{ConversationID: "c1", UserID: agent, MessageCount: 1, FirstResponseMs: &ms}})
		}},
		{"messages", "engage.fact_message", func() load.Batch {
			return load.MessageBatch(day, next, []transform.MessageRow{{ID: "m1", ConversationID: "c1", CustomerID: "cu1", UserID: &agent,
				Type: "MESSAGE", Text: &text, TextLength: 5, SentAt: at, Date: day}})
		}},
		{"visits", "engage.fact_visit", func() load.Batch {
			return load.VisitBatch(day, next, []transform.VisitRow{{ID: "v1", SessionID: "s1", VisitorID: "x", URL: "https://x/a", Path: "/a", Start: at, End: end, Seconds: "1200", Date: day}})
		}},
		{"co-browse", "engage.fact_cobrowse_session", func() load.Batch {
			return load.CobrowseBatch(day, next, []transform.CobrowseRow{{SessionID: "s1", UserID: agent, CustomerID: "cu1", Start: at, End: end, Seconds: "1200", Date: day}})
		}},
		{"activity", "engage.fact_activity_event", func() load.Batch {
			return load.ActivityBatch(day, next, []transform.ActivityRow{{ID: "e1", Log: "call", Type: "START_CALL", UserID: &agent, At: at, Date: day, Data: []byte(`{"callId":"k"}`)}})
		}},
		{"realtime", "engage.fact_realtime_snapshot", func() load.Batch {
			return load.RealtimeBatch(at, time.UTC, []transform.RealtimeRow{{Metric: "QUEUE_SIZE", Value: "4"}})
		}},
		{"roles", "engage.dim_role", func() load.Batch {
			return load.RoleBatch(day, at, []transform.NamedRow{{ID: "r1", Name: "Agent", Active: true, Types: []string{}}})
		}},
		{"teams", "engage.dim_team", func() load.Batch {
			return load.TeamBatch(day, at, []transform.TeamRow{{ID: "t1", Name: "Sales", Members: []string{"u1"}, Tags: []string{}}})
		}},
		{"rules", "engage.dim_rule", func() load.Batch {
			return load.RuleBatch(day, []transform.NamedRow{{ID: "rule1", Name: "VIP", Active: true, Types: []string{"CHAT"}}})
		}},
		{"customers", "engage.dim_customer", func() load.Batch {
			return load.CustomerBatch(day, []transform.CustomerRow{{ID: "cu9", Email: "c@x.com", FirstName: "C"}})
		}},
		{"users (agent versions)", "engage.dim_agent", func() load.Batch {
			return load.UserBatch(day, at, []transform.UserRow{{ID: "u1", Email: agent, DisplayName: "A", RoleID: "r1"}})
		}},
		{"report (window replace)", "engage.fact_report_metric", func() load.Batch {
			return load.ReportBatch{Report: "agent", Metric: "ONLINE_TIME", GroupBy: "AGENT", Unit: "seconds", Aggregation: "sum",
				From: day, To: next, Rows: []transform.ReportRow{{Date: day, GroupValue: agent, Value: "1200"}}}
		}},
		{"webhook status", "engage.fact_conversation", func() load.Batch {
			return load.StatusBatch(transform.StatusRow{ConversationID: "c2", CustomerID: "cu2", Status: "UNREAD", At: at, Date: day})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a database of its own
			s := newStore(t)
			ctx := context.Background()
			tk, err := s.EnsureTenant(ctx, "t1", "UTC")
			if err != nil {
				t.Fatal(err)
			}
			commitBatch := func(b load.Batch) (int64, error) {
				return s.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "conformance",
					Start: day.Start(time.UTC), End: next.Start(time.UTC), Batch: b})
			}
			// A cancelled commit rolls back whole.
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.CommitWindow(cancelled, load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "conformance", Batch: tc.batch()}); err == nil {
				t.Fatal("commit with a cancelled context succeeded")
			}
			if n := countRows(t, s, tc.table); n != 0 {
				t.Fatalf("a failed commit left %d rows in %s", n, tc.table)
			}

			first, err := commitBatch(tc.batch())
			if err != nil {
				t.Fatalf("first commit: %v", err)
			}
			if first == 0 || countRows(t, s, tc.table) == 0 {
				t.Fatalf("first commit wrote %d rows, %s holds %d; want some", first, tc.table, countRows(t, s, tc.table))
			}
			before := xmins(t, s, tc.table)
			again, err := commitBatch(tc.batch())
			if err != nil {
				t.Fatalf("second commit: %v", err)
			}
			if again != 0 {
				t.Errorf("second commit of the same batch wrote %d rows, want 0", again)
			}
			if after := xmins(t, s, tc.table); after != before {
				t.Errorf("second commit rewrote rows of %s: xmin %s, then %s", tc.table, before, after)
			}
		})
	}
}

func countRows(t *testing.T, s *load.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE tenant_key <> 0").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// xmins fingerprints which transactions last wrote a table's rows.
func xmins(t *testing.T, s *load.Store, table string) string {
	t.Helper()
	var x string
	if err := s.Pool().QueryRow(context.Background(), "SELECT COALESCE(string_agg(xmin::text, ',' ORDER BY ctid), '') FROM "+table).Scan(&x); err != nil {
		t.Fatal(err)
	}
	return x
}
