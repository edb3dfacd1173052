package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// rebuildAll replays every kept answer and returns the result and how many
// warehouse rows it wrote. Webhooks replay by when they were received, on
// the wall clock, so the range runs through the real today, as the
// command's default does.
func rebuildAll(t *testing.T, f *fixture) (pipeline.RebuildResult, int64) {
	t.Helper()
	to := civil.Of(time.Now(), f.tenant.Location).AddDays(2)
	res, err := f.runner.Rebuild(context.Background(), f.tenants, catalog.All(), f.tenant.Start, to)
	if err != nil {
		t.Fatal(err)
	}
	var written int64
	for _, s := range res.Streams {
		if s.Err != nil {
			t.Errorf("rebuild of %s: %v", s.Stream, s.Err)
		}
		written += s.Written
	}
	return res, written
}

func exec(t *testing.T, f *fixture, sql string, args ...any) int64 {
	t.Helper()
	tag, err := f.store.Pool().Exec(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag.RowsAffected()
}

func TestRebuildFromRawRestoresDamagedFactsWithoutTheAPI(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	want := testdb.Checksums(t, f.dsn)

	// The API is gone: any request is counted and refused.
	var requests atomic.Int64
	f.retarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "gone", http.StatusServiceUnavailable)
	}))

	if _, written := rebuildAll(t, f); written != 0 {
		t.Errorf("rebuild of an intact warehouse wrote %d rows, want 0", written)
	}
	if diff := cmp.Diff(want, testdb.Checksums(t, f.dsn)); diff != "" {
		t.Fatalf("rebuild of an intact warehouse changed it (-before +after):\n%s", diff)
	}

	// A webhook after the sync closes a conversation: the rebuild must
	// replay it after the sync's answers, as it came.
	var conv, customer string
	if err := f.store.Pool().QueryRow(context.Background(), `
SELECT c.conversation_id, cu.customer_id FROM engage.fact_conversation c JOIN engage.dim_customer cu USING (customer_key)
WHERE c.status <> 'DONE' ORDER BY c.conversation_id LIMIT 1`).Scan(&conv, &customer); err != nil {
		t.Fatal(err)
	}
	hook := fmt.Sprintf(`{"customerId":%q,"status":"DONE","lastMessage":{"id":"m-hook","conversationId":%q,"customerId":%q,"fromCustomer":false,"type":"MESSAGE","message":"bye","timestamp":"%s"}}`,
		customer, conv, customer, f.sim.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano))
	if ok, n, err := f.runner.ApplyWebhook(context.Background(), f.tenant, []byte(hook), time.Now(), ""); err != nil || !ok || n != 1 {
		t.Fatalf("webhook: applied %v, %d rows, %v", ok, n, err)
	}
	want = testdb.Checksums(t, f.dsn)

	// Damage every kind of fact: rows deleted, values altered.
	damaged := exec(t, f, `DELETE FROM engage.fact_report_metric WHERE date_key % 3 = 0`) +
		exec(t, f, `UPDATE engage.fact_report_metric SET value = value + 1 WHERE date_key % 3 = 1`) +
		exec(t, f, `DELETE FROM engage.fact_message WHERE message_id IN (SELECT message_id FROM engage.fact_message ORDER BY message_id LIMIT 50)`) +
		exec(t, f, `UPDATE engage.fact_message SET text_length = text_length + 7 WHERE message_id IN (SELECT message_id FROM engage.fact_message ORDER BY message_id DESC LIMIT 20)`) +
		exec(t, f, `UPDATE engage.fact_conversation SET status = 'UNREAD', ended_at = NULL`) +
		exec(t, f, `DELETE FROM engage.fact_conversation_agent WHERE user_id IN (SELECT min(user_id) FROM engage.fact_conversation_agent)`) +
		exec(t, f, `DELETE FROM engage.fact_agent_time WHERE kind = 'online'`) +
		exec(t, f, `DELETE FROM engage.fact_visit WHERE date_key % 2 = 0`) +
		exec(t, f, `UPDATE engage.fact_cobrowse_session SET seconds = 0`) +
		exec(t, f, `DELETE FROM engage.fact_activity_event WHERE log = 'livechat'`) +
		exec(t, f, `DELETE FROM engage.fact_realtime_snapshot`)
	if damaged < 100 {
		t.Fatalf("damaged only %d rows: the test would prove little", damaged)
	}
	if diff := cmp.Diff(want, testdb.Checksums(t, f.dsn)); diff == "" {
		t.Fatal("the damage changed no checksum")
	}

	res, written := rebuildAll(t, f)
	if written == 0 {
		t.Errorf("rebuild of a damaged warehouse wrote no row")
	}
	if diff := cmp.Diff(want, testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("rebuilt warehouse differs from the synced one (-synced +rebuilt):\n%s", diff)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("rebuild made %d API requests, want 0", n)
	}
	replayed := map[string]int{}
	for _, s := range res.Streams {
		replayed[s.Stream] = s.Answers
	}
	for _, name := range []string{"conversations", "messages", "webhooks", "activity_livechat", "agent_online_time_by_agent", "realtime"} {
		if replayed[name] == 0 {
			t.Errorf("no answer of %s replayed", name)
		}
	}
}

func TestRebuildAfterLateUpdatesWritesNothingOnAnIntactWarehouse(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	streams := selectStreams(t, "conversations", "chat_done*", "chat_unresolved*", "users", "teams", "roles")
	f.sync(t, streams)
	f.sim.Advance(30 * time.Hour) // statuses change, new days arrive
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("second sync failed:\n%s", failures(res))
	}
	want := testdb.Checksums(t, f.dsn)
	today := civil.Of(f.sim.Now(), f.tenant.Location)
	res, err := f.runner.Rebuild(context.Background(), f.tenants, streams, f.tenant.Start, today.AddDays(1))
	if err != nil || !res.OK() {
		t.Fatalf("rebuild: %v %+v", err, res)
	}
	for _, s := range res.Streams {
		if s.Written != 0 {
			t.Errorf("%s: rebuild wrote %d rows of an intact warehouse, want 0", s.Stream, s.Written)
		}
	}
	if diff := cmp.Diff(want, testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("rebuild changed an intact warehouse:\n%s", diff)
	}
}

func TestWebhookDeliveriesKeptOncePerBody(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	at := time.Now()
	body := func(id string) []byte {
		return []byte(fmt.Sprintf(`{"id":%q,"conversationId":"c1","customerId":"cu1","fromCustomer":true,"type":"MESSAGE","message":"hi","timestamp":"2026-11-03T09:00:00Z"}`, id))
	}
	for i, b := range [][]byte{body("m1"), body("m2"), body("m1")} {
		applied, n, err := f.runner.ApplyWebhook(context.Background(), f.tenant, b, at, "") // one instant for all three
		want := int64(1)
		if i == 2 {
			want = 0 // a redelivery is not applied again
		}
		if err != nil || n != want || applied != (i < 2) {
			t.Errorf("delivery %d: applied %v, wrote %d rows, %v; want %d", i, applied, n, err, want)
		}
	}
	// With the sender's delivery ids, the same body twice is two deliveries.
	for _, id := range []string{"d-1", "d-2", "d-2"} {
		if _, _, err := f.runner.ApplyWebhook(context.Background(), f.tenant, body("m1"), at, id); err != nil {
			t.Fatal(err)
		}
	}
	var kept int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM raw.webhook`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != 4 {
		t.Errorf("raw.webhook holds %d deliveries, want 4 (two bodies at one instant, one redelivered; then two ids, one redelivered)", kept)
	}
	if _, _, err := f.runner.ApplyWebhook(context.Background(), f.tenant, []byte(`{"status":"SLEEPING"}`), at, ""); !pipeline.IsInvalidWebhook(err) {
		t.Errorf("invalid webhook: %v, want an invalid-webhook error", err)
	}
}

func TestRebuildRestoresEveryRealtimeSnapshotOfADay(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	realtime := selectStreams(t, "realtime")
	for i := 0; i < 3; i++ {
		if res := f.sync(t, realtime); !res.OK() {
			t.Fatalf("sync:\n%s", failures(res))
		}
		f.sim.Advance(7 * time.Minute)
	}
	want := count(t, f, `SELECT count(*) FROM engage.fact_realtime_snapshot`)
	exec(t, f, `DELETE FROM engage.fact_realtime_snapshot`)
	to := civil.Of(time.Now(), f.tenant.Location).AddDays(2)
	if res, err := f.runner.Rebuild(context.Background(), f.tenants, realtime, f.tenant.Start, to); err != nil || !res.OK() {
		t.Fatalf("rebuild: %v %+v", err, res)
	}
	if got := count(t, f, `SELECT count(*) FROM engage.fact_realtime_snapshot`); got != want || want < 3*4 {
		t.Errorf("rebuilt %d realtime figures, want the %d of three snapshots", got, want)
	}
}

// statusHook is a webhook that closes the first open conversation.
func statusHook(t *testing.T, f *fixture) []byte {
	t.Helper()
	var conv, customer string
	if err := f.store.Pool().QueryRow(context.Background(), `
SELECT c.conversation_id, cu.customer_id FROM engage.fact_conversation c JOIN engage.dim_customer cu USING (customer_key)
WHERE c.status <> 'DONE' ORDER BY c.conversation_id LIMIT 1`).Scan(&conv, &customer); err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf(`{"customerId":%q,"status":"DONE","lastMessage":{"id":"m-hook","conversationId":%q,"customerId":%q,"fromCustomer":false,"type":"MESSAGE","message":"bye","timestamp":"%s"}}`,
		customer, conv, customer, f.sim.Now().Add(time.Minute).UTC().Format(time.RFC3339Nano)))
}

// A webhook never commits between the answers a rebuild replays: while the
// webhooks' stream is locked as a rebuild locks it, a delivery waits, and it
// commits, whole, once the lock is released.
func TestAWebhookArrivingDuringARebuildWaitsForIt(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, []catalog.Stream{stream(t, "conversations")}); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	hook := statusHook(t, f)
	lock, busy, err := f.store.LockStreams(ctx, f.tenant.ID, []string{"conversations", "messages", pipeline.WebhookStream})
	if err != nil || len(busy) > 0 {
		t.Fatalf("lock: busy %v, %v", busy, err)
	}
	defer lock.Release(ctx)
	done := make(chan error, 1)
	go func() {
		_, _, err := f.runner.ApplyWebhook(ctx, f.tenant, hook, time.Now(), "during-rebuild")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the webhook committed while a rebuild held the webhooks' lock (err %v)", err)
	case <-time.After(time.Second):
	}
	if n := exec(t, f, `SELECT 1 FROM raw.webhook`); n != 0 {
		t.Fatalf("%d webhooks kept while the rebuild held their lock", n)
	}
	lock.Release(ctx)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the webhook after the rebuild: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the webhook still waits after the rebuild released its lock")
	}
	if n := exec(t, f, `SELECT 1 FROM raw.webhook WHERE delivery_id = 'delivery:during-rebuild'`); n != 1 {
		t.Fatalf("%d webhooks kept after the rebuild, want 1", n)
	}
}

// A rebuild takes the webhooks' lock before it replays them: while another
// process holds it, the streams that replay webhooks are skipped as busy,
// and the others are rebuilt.
func TestARebuildDoesNotReplayWebhooksAnotherProcessHolds(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	f := newFixture(t, engagesim.Faults{})
	streams := []catalog.Stream{stream(t, "conversations"), stream(t, "visits")}
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	lock, ok, err := f.store.TryLockStream(ctx, f.tenant.ID, pipeline.WebhookStream)
	if err != nil || !ok {
		t.Fatalf("lock webhooks: %v, %v", ok, err)
	}
	defer lock.Release(ctx)
	to := civil.Of(time.Now(), f.tenant.Location).AddDays(2)
	res, err := f.runner.Rebuild(ctx, f.tenants, streams, f.tenant.Start, to)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]error{}
	for _, s := range res.Streams {
		got[s.Stream] = s.Err
	}
	if err := got["conversations"]; err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("conversations: %v, want skipped as busy", err)
	}
	if err := got["visits"]; err != nil {
		t.Errorf("visits: %v, want rebuilt", err)
	}
}

// A rebuild of an emptied range inserts its rows without a merge
// (load.Emptied), yet restores exactly what was there: a message answered
// twice (by the sync, then again by a webhook with another text) keeps the
// later answer's value, and a second rebuild, of a range no longer emptied,
// merges and changes nothing.
func TestRebuildOfAnEmptiedRangeRestoresItExactly(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	var id, conv, customer string
	var sent time.Time
	if err := f.store.Pool().QueryRow(ctx, `
SELECT m.message_id, m.conversation_id, cu.customer_id, m.sent_at FROM engage.fact_message m JOIN engage.dim_customer cu USING (customer_key)
ORDER BY m.message_id LIMIT 1`).Scan(&id, &conv, &customer, &sent); err != nil {
		t.Fatal(err)
	}
	const edited = "edited after the sync, a later answer"
	hook := fmt.Sprintf(`{"id":%q,"conversationId":%q,"customerId":%q,"fromCustomer":true,"type":"MESSAGE","message":%q,"timestamp":%q}`,
		id, conv, customer, edited, sent.UTC().Format(time.RFC3339Nano))
	if ok, n, err := f.runner.ApplyWebhook(ctx, f.tenant, []byte(hook), time.Now(), ""); err != nil || !ok || n != 1 {
		t.Fatalf("webhook: applied %v, %d rows, %v", ok, n, err)
	}
	if ok, _, err := f.runner.ApplyWebhook(ctx, f.tenant, statusHook(t, f), time.Now(), ""); err != nil || !ok {
		t.Fatalf("status webhook: applied %v, %v", ok, err)
	}
	textLength := func() int {
		var n int
		if err := f.store.Pool().QueryRow(ctx, `SELECT text_length FROM engage.fact_message WHERE message_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := textLength(); got != len(edited) {
		t.Fatalf("the webhook left message %s %d characters long, want %d", id, got, len(edited))
	}
	want := testdb.Checksums(t, f.dsn)

	var facts string
	if err := f.store.Pool().QueryRow(ctx, `SELECT string_agg('engage.' || tablename, ', ') FROM pg_tables
WHERE schemaname = 'engage' AND tablename LIKE 'fact\_%'`).Scan(&facts); err != nil {
		t.Fatal(err)
	}
	exec(t, f, `TRUNCATE `+facts)

	res, _ := rebuildAll(t, f)
	if diff := cmp.Diff(want, testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("rebuild of the emptied warehouse differs from the synced one (-synced +rebuilt):\n%s", diff)
	}
	if got := textLength(); got != len(edited) {
		t.Errorf("rebuilt message %s is %d characters long, want the webhook's %d", id, got, len(edited))
	}
	inserted := map[string]int64{}
	for _, s := range res.Streams {
		inserted[s.Stream] = s.Inserted
	}
	for _, name := range []string{"messages", "conversations", "activity_livechat", "visits"} {
		if inserted[name] == 0 {
			t.Errorf("%s: no row inserted without a merge into its emptied table", name)
		}
	}

	// (The second rebuild writes the message and the status the sync's
	// answers replay and the webhooks then replace again, as every rebuild
	// of a warehouse with webhooks after its sync does.)
	res, _ = rebuildAll(t, f)
	for _, s := range res.Streams {
		if s.Inserted != 0 {
			t.Errorf("%s: a second rebuild inserted %d rows without a merge, want 0: its tables are not emptied", s.Stream, s.Inserted)
		}
	}
	if diff := cmp.Diff(want, testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("a second rebuild changed the warehouse (-synced +rebuilt):\n%s", diff)
	}
}
