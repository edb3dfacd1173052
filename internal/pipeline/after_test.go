package pipeline_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/jackc/pgx/v5"
)

// TestAStreamStartsAfterTheStreamsItNames: conversation_agents (After:
// conversations) starts once conversations has finished, but not after the
// slow messages, which it does not wait for (it used to: a phase of its own
// waited for every fact stream, and in a year's backfill it then ran alone
// for half a minute at the end); streams that wait for nothing load beside
// the slow conversations rather than after them.
func TestAStreamStartsAfterTheStreamsItNames(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	f.retarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The conversation report is slow, and every conversation's messages.
		switch {
		case strings.HasSuffix(r.URL.Path, "/report/chat/conversations"):
			time.Sleep(150 * time.Millisecond)
		case strings.HasSuffix(r.URL.Path, "/report/chat/messages"):
			time.Sleep(100 * time.Millisecond)
		}
		f.sim.Handler().ServeHTTP(w, r)
	}))
	// Every day counts as recent, so conversations load in one round (a
	// long load's rounds, rounds_test.go, order them by their days).
	f.runner.RecentDays = 30
	streams, err := catalog.Select(catalog.All(), []string{"conversations", "conversation_agents", "messages", "visits", "cobrowse_sessions"})
	if err != nil {
		t.Fatal(err)
	}
	res := f.sync(t, streams)
	if !res.OK() {
		t.Fatalf("sync failed: %+v", res)
	}
	conn, err := pgx.Connect(context.Background(), f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	times := map[string][2]time.Time{}
	rows, err := conn.Query(context.Background(), `SELECT stream, started_at, finished_at FROM etl.run_stream
		WHERE run_id = (SELECT max(run_id) FROM etl.run)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var st, fin time.Time
		if err := rows.Scan(&name, &st, &fin); err != nil {
			t.Fatal(err)
		}
		times[name] = [2]time.Time{st, fin}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	conv, agents := times["conversations"], times["conversation_agents"]
	if conv[1].IsZero() || agents[0].IsZero() {
		t.Fatalf("run_stream times: %v", times)
	}
	if agents[0].Before(conv[1]) {
		t.Errorf("conversation_agents started at %s, before conversations finished at %s", agents[0].Format(time.StampMicro), conv[1].Format(time.StampMicro))
	}
	if msgs := times["messages"]; !agents[0].Before(msgs[1]) {
		t.Errorf("conversation_agents started at %s, after messages finished at %s: it waits only for conversations", agents[0].Format(time.StampMicro), msgs[1].Format(time.StampMicro))
	}
	for _, other := range []string{"visits", "cobrowse_sessions"} {
		if !times[other][0].Before(conv[1]) {
			t.Errorf("%s started at %s, after conversations finished at %s: it waits for nothing", other, times[other][0].Format(time.StampMicro), conv[1].Format(time.StampMicro))
		}
	}
}
