package engagesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// WebhookTarget is where the simulator pushes a tenant's webhooks
// (CONTRACT.md §7), with the shared secret in WebhookSecretHeader.
type WebhookTarget struct {
	TenantID string
	URL      string
	Secret   string
}

// WebhookSecretHeader carries the shared secret (ASSUMED: Engage documents
// no signature; engage-etl also accepts ?secret= in the URL).
const WebhookSecretHeader = "X-Engage-Webhook-Secret"

// WebhookEventHeader names the hook: NEW_CONVERSATION, STATUS_CHANGE or NEW_MESSAGE.
const WebhookEventHeader = "X-Engage-Event"

type hook struct {
	at    time.Time
	event string
	body  any
}

// DeliverWebhooks posts, in time order, every hook of target's tenant that
// happened after the previous delivery (or the server's start) and before
// now: a status change for every change of a conversation's status, a new
// conversation when it becomes UNREAD (started or reopened), a new message
// for every customer message. It returns how many it delivered; a failed
// post stops the delivery, to be retried from there next time.
func (s *Server) DeliverWebhooks(ctx context.Context, client *http.Client, target WebhookTarget) (int, error) {
	t := s.tenantByID(target.TenantID)
	if t == nil {
		return 0, fmt.Errorf("no tenant %q", target.TenantID)
	}
	now := s.clock.now()
	s.mu.Lock()
	if s.delivered == nil {
		s.delivered = map[string]time.Time{}
	}
	since, ok := s.delivered[t.id]
	if !ok {
		since = s.cfg.Now
	}
	s.mu.Unlock()

	hooks := t.hooksBetween(since, now)
	for i, h := range hooks {
		b, _ := json.Marshal(h.body)
		req, err := http.NewRequestWithContext(ctx, "POST", target.URL, bytes.NewReader(b))
		if err != nil {
			return i, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(WebhookEventHeader, h.event)
		req.Header.Set(WebhookSecretHeader, target.Secret)
		resp, err := client.Do(req)
		if err != nil {
			return i, err
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return i, fmt.Errorf("webhook %s answered %d", h.event, resp.StatusCode)
		}
		s.mu.Lock()
		s.delivered[t.id] = h.at
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.delivered[t.id] = now
	s.mu.Unlock()
	return len(hooks), nil
}

// RunWebhooks delivers every interval until ctx ends.
func (s *Server) RunWebhooks(ctx context.Context, interval time.Duration, targets []WebhookTarget) {
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, target := range targets {
				if n, err := s.DeliverWebhooks(ctx, client, target); err != nil {
					s.log.Warn("webhook delivery failed", "tenant", target.TenantID, "delivered", n, "error", err)
				}
			}
		}
	}
}

// hooksBetween lists the hooks in (since, until], oldest first.
func (t *tenant) hooksBetween(since, until time.Time) []hook {
	var hooks []hook
	for _, c := range t.convsStarting(since.Add(-maxConversationLength), until, until) {
		tl := t.timeline(&c)
		for _, sc := range tl.status {
			if !sc.at.After(since) || sc.at.After(until) {
				continue
			}
			m := t.messageRow(&c, sc.msg, tl.msgs[sc.msg])
			body := map[string]any{"customerId": t.customers[c.customer].id, "status": sc.status,
				"lastMessage": m, "url": t.url("/chat/" + c.id)}
			if sc.status == "UNREAD" {
				hooks = append(hooks, hook{sc.at, "NEW_CONVERSATION", body})
			}
			hooks = append(hooks, hook{sc.at, "STATUS_CHANGE", body})
		}
		for k, m := range tl.msgs {
			if m.fromCustomer && m.at.After(since) && !m.at.After(until) {
				hooks = append(hooks, hook{m.at, "NEW_MESSAGE", t.messageRow(&c, k, m)})
			}
		}
	}
	sort.SliceStable(hooks, func(i, j int) bool { return hooks[i].at.Before(hooks[j].at) })
	return hooks
}
