package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// apiStatuses asks the API for every conversation of the tenant's history
// and returns each one's status.
func apiStatuses(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	body := fmt.Sprintf(`{"grouping":"CUSTOM","from":%d,"to":%d}`, f.tenant.Start.Start(f.tenant.Location).UnixMilli(), f.sim.Now().UnixMilli())
	out := map[string]string{}
	err := f.tenant.Client.Do(context.Background(), engage.Request{Method: "POST", Path: "/report/chat/conversations", Body: []byte(body)},
		func(r io.Reader) error {
			var convs []struct{ ConversationID, Status string }
			if err := json.NewDecoder(r).Decode(&convs); err != nil {
				return err
			}
			for _, c := range convs {
				out[c.ConversationID] = c.Status
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenConversationsConvergeAfterTheLookback: a conversation still open
// when the lookback passes its day is read again at every sync until it is
// closed, so its status is the API's, however late it closed.
func TestOpenConversationsConvergeAfterTheLookback(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	f.runner.OpenHorizon = 30 * 24 * time.Hour // sync.open_horizon's default
	conv := []catalog.Stream{stream(t, "conversations")}
	if res := f.sync(t, conv); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	old := f.sim.Now().Add(-72 * time.Hour)
	openBefore := count(t, f, fmt.Sprintf(`SELECT count(*) FROM engage.fact_conversation WHERE ended_at IS NULL AND started_at < '%s'`, old.Format(time.RFC3339)))
	if openBefore == 0 {
		t.Fatal("no conversation is open past the lookback: the test proves nothing")
	}
	// Five days on, in daily syncs: many of them closed meanwhile.
	for day := 0; day < 5; day++ {
		f.sim.Advance(24 * time.Hour)
		if res := f.sync(t, conv); !res.OK() {
			t.Fatalf("sync failed:\n%s", failures(res))
		}
	}
	want := apiStatuses(t, f)
	rows, err := f.store.Pool().Query(context.Background(), `SELECT conversation_id, status FROM engage.fact_conversation`)
	if err != nil {
		t.Fatal(err)
	}
	stale := 0
	for rows.Next() {
		var id, status string
		rows.Scan(&id, &status)
		if want[id] != status {
			stale++
		}
	}
	if stale > 0 {
		t.Errorf("%d conversations hold a status the API no longer gives (of %d open past the lookback at first)", stale, openBefore)
	}
}

// TestAnOpenConversationHasNoStaleDuration: bi.conversations gives no
// duration while a conversation is open (the stored one is the API's at
// the last read), and the API's once it closed.
func TestAnOpenConversationHasNoStaleDuration(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, []catalog.Stream{stream(t, "conversations")}); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	open := count(t, f, `SELECT count(*) FROM bi.conversations WHERE ended_at IS NULL`)
	if open == 0 {
		t.Fatal("no open conversation: the test proves nothing")
	}
	if n := count(t, f, `SELECT count(*) FROM bi.conversations WHERE ended_at IS NULL AND duration_ms IS NOT NULL`); n != 0 {
		t.Errorf("%d of %d open conversations show a duration", n, open)
	}
	if n := count(t, f, `SELECT count(*) FROM bi.conversations b JOIN engage.fact_conversation f USING (conversation_id)
WHERE b.ended_at IS NOT NULL AND b.duration_ms IS DISTINCT FROM f.duration_ms`); n != 0 {
		t.Errorf("%d closed conversations show another duration than the API's", n)
	}
}
