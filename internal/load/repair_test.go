package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// TestAConversationCommittedBesideItsAgentsRepairsThem: two daemons may
// commit a conversation and its agents' part at the same moment. The agents'
// rows are merged first and committed last; the conversation's commit runs
// its repair in between, when it cannot see them yet. Without the commit
// lock the agents' rows keep the Unknown day for good (the two-daemon test
// saw it as a different bi.agent_day); with it, the conversation's commit
// waits for the agents', and repairs them.
func TestAConversationCommittedBesideItsAgentsRepairsThem(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	s := newStore(t)
	tk, err := s.EnsureTenant(ctx, "t1", "Europe/Vienna")
	if err != nil {
		t.Fatal(err)
	}
	day := civil.Date{Year: 2026, Month: 3, Day: 10}
	at := day.Start(time.UTC).Add(9 * time.Hour)
	end := at.Add(10 * time.Minute)
	agents := func(advance time.Time) load.WindowCommit {
		return load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "conversation_agents", AdvanceTo: advance,
			Batch: load.ConversationAgentBatch(day, day.AddDays(1), []transform.ConversationAgentRow{{ConversationID: "c1", UserID: "a@x.com", MessageCount: 1}})}
	}
	// A cursor row to hold: the agents' commit merges its rows, then waits
	// on it before it can commit. The agent is known already (an earlier
	// conversation), so neither commit waits on the other's new agent.
	if _, err := s.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "conversation_agents",
		AdvanceTo: at, Batch: load.ConversationAgentBatch(day, day.AddDays(1), []transform.ConversationAgentRow{{ConversationID: "c0", UserID: "a@x.com", MessageCount: 1}})}); err != nil {
		t.Fatal(err)
	}
	hold, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `SELECT 1 FROM etl.cursor WHERE tenant_id = 't1' AND stream = 'conversation_agents' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	agentsDone := make(chan error, 1)
	go func() { _, err := s.CommitWindow(ctx, agents(end)); agentsDone <- err }()
	waitForWaiters(t, s, 1)
	conversationDone := make(chan error, 1)
	go func() {
		_, err := s.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "conversations",
			Batch: load.ConversationBatch(day, day.AddDays(1), []transform.ConversationRow{{ID: "c1", CustomerID: "cu1", Channel: "CHAT",
				Status: "DONE", Start: at, End: &end, UserIDs: []string{"a@x.com"}, FirstAgent: "a@x.com", DurationMs: 600000, Date: day}})})
		conversationDone <- err
	}()
	// The conversation's commit either finished (no lock) or waits for the
	// agents' (the lock): either way, let the agents' commit finish now.
	select {
	case err := <-conversationDone:
		conversationDone <- err
	case <-waitForWaitersAsync(s, 2):
	}
	hold.Rollback(ctx)
	for _, done := range []chan error{agentsDone, conversationDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var dateKey int
	if err := s.Pool().QueryRow(ctx, `SELECT date_key FROM engage.fact_conversation_agent WHERE conversation_id = 'c1'`).Scan(&dateKey); err != nil {
		t.Fatal(err)
	}
	if dateKey != day.Key() {
		t.Errorf("the agents' row has day %d, want the conversation's %d", dateKey, day.Key())
	}
}

// waitForWaiters waits until n sessions of the test's database wait on a lock.
func waitForWaiters(t *testing.T, s *load.Store, n int) {
	t.Helper()
	select {
	case <-waitForWaitersAsync(s, n):
	case <-time.After(10 * time.Second):
		t.Fatalf("fewer than %d sessions wait on a lock after 10 s", n)
	}
}

func waitForWaitersAsync(s *load.Store, n int) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		defer close(c)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			var waiting int
			s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
			if waiting >= n {
				return
			}
		}
	}()
	return c
}
