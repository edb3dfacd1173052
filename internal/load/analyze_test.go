package load_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// TestTablesChangedPastTheThresholdGetStatistics: after a window of 600
// messages lands in a table never analyzed, AnalyzeChanged analyzes it (the
// planner then knows its rows), and called again leaves it alone: nothing
// changed since. The test servers run without autovacuum, so nothing else
// takes these statistics.
func TestTablesChangedPastTheThresholdGetStatistics(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	s := newStore(t)
	tk, err := s.EnsureTenant(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	at := d1.Start(time.UTC).Add(9 * time.Hour)
	var rows []transform.MessageRow
	for i := range 600 {
		text := fmt.Sprint("message ", i)
		rows = append(rows, transform.MessageRow{ID: fmt.Sprint("m", i), ConversationID: "c1", CustomerID: "cu1", Type: "MESSAGE",
			Text: &text, TextLength: len(text), SentAt: at.Add(time.Duration(i) * time.Second), Date: d1})
	}
	if _, err := s.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: "acme", Stream: "messages",
		Batch: load.MessageBatch(d1, d2, rows), Rows: len(rows)}); err != nil {
		t.Fatal(err)
	}
	// A session reports its writes to the statistics a moment after its
	// transaction (at most a second later, once idle): wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var changed int64
		if err := s.Pool().QueryRow(ctx, `SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = 'engage.fact_message'::regclass`).Scan(&changed); err != nil {
			t.Fatal(err)
		}
		if changed >= 600 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server counts %d rows changed in engage.fact_message after 10 s, not 600", changed)
		}
		time.Sleep(100 * time.Millisecond)
	}

	analyzed, err := s.AnalyzeChanged(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(analyzed, "engage.fact_message") {
		t.Fatalf("analyzed %v, not engage.fact_message, which changed by 600 rows and had no statistics", analyzed)
	}
	var tuples float64
	var last *time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT c.reltuples, s.last_analyze FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.oid = 'engage.fact_message'::regclass`).Scan(&tuples, &last); err != nil {
		t.Fatal(err)
	}
	if tuples != 600 || last == nil {
		t.Errorf("after the analysis the planner takes engage.fact_message for %v rows (analyzed at %v), want 600 rows, analyzed", tuples, last)
	}

	again, err := s.AnalyzeChanged(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again, "engage.fact_message") {
		t.Errorf("analyzed engage.fact_message again although nothing changed since: %v", again)
	}
}
