package load_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// TestEmptiedTableInsertsNewKeysAndMergesAKeyAnsweredAgain: batches of a
// table a rebuild found emptied insert their rows without a merge, but a
// key answered again (here in the second batch, with a later value; and
// twice in one batch) replaces the row as the merge does: the same rows and
// the same counts as the commits without Emptied, in a tenant of its own.
func TestEmptiedTableInsertsNewKeysAndMergesAKeyAnsweredAgain(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	s := newStore(t)
	at := d1.Start(time.UTC).Add(9 * time.Hour)
	msg := func(id, text string, min int) transform.MessageRow {
		return transform.MessageRow{ID: id, ConversationID: "c1", CustomerID: "cu1", Type: "MESSAGE", Text: &text,
			TextLength: len(text), SentAt: at.Add(time.Duration(min) * time.Minute), Date: d1}
	}
	batches := [][]transform.MessageRow{
		{msg("m1", "one", 1), msg("m2", "two", 2)},
		{msg("m2", "two, edited", 2), msg("m3", "three", 3)}, // m2 again, later
		{msg("m4", "four", 4), msg("m4", "four", 4)},         // one key twice in one batch
		{msg("m5", "five", 5)},
	}
	type result struct {
		written  []int64
		rows     map[string]string
		inserted int64
		merged   int
	}
	load1 := func(tenant string, emptied bool) result {
		tk, err := s.EnsureTenant(ctx, tenant, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		var e *load.Emptied
		if emptied {
			if e, err = s.EmptiedFacts(ctx, tk, d1, d3); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(e.Tables(), "engage.fact_message") {
				t.Fatalf("emptied tables %v leave out engage.fact_message, which holds no row of %s", e.Tables(), tenant)
			}
		}
		var res result
		for _, rows := range batches {
			n, err := s.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: tenant, Stream: "messages",
				Batch: load.MessageBatch(d1, d2, rows), Rows: len(rows), Emptied: e})
			if err != nil {
				t.Fatal(err)
			}
			res.written = append(res.written, n)
		}
		res.inserted, res.merged = e.Inserted("messages")
		res.rows = map[string]string{}
		q, err := s.Pool().Query(ctx, `SELECT message_id, message_text || '/' || text_length || '/' || (customer_key <> 0)::text FROM engage.fact_message f
JOIN engage.dim_tenant t USING (tenant_key) WHERE t.tenant_id = $1`, tenant)
		if err != nil {
			t.Fatal(err)
		}
		for q.Next() {
			var id, v string
			if err := q.Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			res.rows[id] = v
		}
		return res
	}
	merged := load1("merged", false)
	emptied := load1("emptied", true)
	if got := emptied.rows["m2"]; got != "two, edited/11/true" {
		t.Errorf("m2 answered again is %q, want the later answer's value", got)
	}
	if diff := cmp.Diff(merged.rows, emptied.rows); diff != "" {
		t.Errorf("rows of the emptied table differ from the merged ones (-merged +emptied):\n%s", diff)
	}
	if diff := cmp.Diff(merged.written, emptied.written); diff != "" {
		t.Errorf("rows written differ (-merged +emptied):\n%s", diff)
	}
	// Batches 1, 3 and 4 insert (2 + 1 + 1 rows); batch 2 meets m2 and merges.
	if emptied.inserted != 4 || emptied.merged != 1 {
		t.Errorf("emptied: %d rows inserted without a merge, %d batches merged; want 4 and 1", emptied.inserted, emptied.merged)
	}
	if merged.inserted != 0 || merged.merged != 0 {
		t.Errorf("without Emptied: %d rows inserted, %d batches merged; want none", merged.inserted, merged.merged)
	}

	// Now that the tenant has rows on those days, the table is not emptied.
	tk, _ := s.EnsureTenant(ctx, "emptied", "UTC")
	e, err := s.EmptiedFacts(ctx, tk, d1, d3)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(e.Tables(), "engage.fact_message") {
		t.Errorf("engage.fact_message counts as emptied while it holds the tenant's rows of those days")
	}
	if !slices.Contains(e.Tables(), "engage.fact_visit") {
		t.Errorf("emptied tables %v leave out engage.fact_visit", e.Tables())
	}
	// Days after the rows: emptied.
	if e, err = s.EmptiedFacts(ctx, tk, d3, d3.AddDays(5)); err != nil || !slices.Contains(e.Tables(), "engage.fact_message") {
		t.Errorf("emptied tables of days without rows: %v, %v; want engage.fact_message among them", e.Tables(), err)
	}
}
