package engagesim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engagesim"
)

func TestWebhooksFollowTheStatusLog(t *testing.T) {
	w := newWorld(t, nil)
	var mu sync.Mutex
	events := map[string]int{}
	var bad []string
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get(engagesim.WebhookSecretHeader) != "s3cret" || json.Unmarshal(b, &body) != nil || body["customerId"] == nil {
			bad = append(bad, string(b))
		}
		events[r.Header.Get(engagesim.WebhookEventHeader)]++
	}))
	defer receiver.Close()
	target := engagesim.WebhookTarget{TenantID: "acme", URL: receiver.URL, Secret: "s3cret"}

	start := w.sim.Now()
	w.sim.Advance(2 * time.Hour)
	n, err := w.sim.DeliverWebhooks(context.Background(), http.DefaultClient, target)
	if err != nil || n == 0 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	// Every status change of the two hours is in the status log too.
	var statusLog springPage
	w.ok(t, "GET", "/activity/status?size=1000", acme, "", &statusLog)
	changes, unread := 0, 0
	for _, e := range statusLog.Content {
		if e.Timestamp.After(start) {
			changes++
			if e.Data["status"] == "UNREAD" {
				unread++
			}
		}
	}
	if events["STATUS_CHANGE"] != changes || events["NEW_CONVERSATION"] != unread || events["NEW_MESSAGE"] == 0 {
		t.Errorf("hooks %v; the status log has %d changes, %d to UNREAD", events, changes, unread)
	}
	if len(bad) > 0 {
		t.Errorf("malformed or unauthenticated hooks: %v", bad)
	}
	if n, _ := w.sim.DeliverWebhooks(context.Background(), http.DefaultClient, target); n != 0 {
		t.Errorf("a second delivery at the same moment sent %d hooks again", n)
	}
}
