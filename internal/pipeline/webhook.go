package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// WebhookStream names webhook deliveries: the stream lock a webhook's
// commit takes, and their line in a rebuild's report.
const WebhookStream = kinds.WebhookStream

// IsInvalidWebhook reports whether ApplyWebhook refused a body as not one
// Engage sends (the sender's fault), rather than failing to store it.
func IsInvalidWebhook(err error) bool { return errors.Is(err, kinds.ErrInvalidWebhook) }

// ApplyWebhook applies a webhook delivery (CONTRACT.md §7) received from
// Engage for tenant t: its rows and the delivery itself commit in one
// transaction, under the webhooks' stream lock (waiting, within ctx, while
// a rebuild replays them). deliveryID is the sender's id of the delivery, when it gave
// one. A delivery received before is not applied again: applied is false.
func (r *Runner) ApplyWebhook(ctx context.Context, t Tenant, body []byte, received time.Time, deliveryID string) (applied bool, written int64, err error) {
	src := kinds.Source{Dialect: t.dialect(), Location: t.Location, StoreText: r.StoreMessageText,
		Window: extract.Window{Start: received, End: received}}
	batch, err := kinds.Webhook(src, received, body)
	if err != nil {
		return false, 0, err
	}
	tenantKey, err := r.Store.EnsureTenant(ctx, t.ID, t.Timezone)
	if err != nil {
		return false, 0, err
	}
	written, err = r.Store.CommitWindow(ctx, load.WindowCommit{
		TenantKey: tenantKey, TenantID: t.ID, Stream: WebhookStream, Start: received, End: received,
		Batch: batch, Raws: []load.Raw{load.Webhook{Received: received, DeliveryID: deliveryID, Body: body}},
		// A rebuild replaying the webhooks holds their lock: this commit
		// waits for it, so it never interleaves with the replay.
		Lock: load.TransactionLock(t.ID, WebhookStream),
	})
	if errors.Is(err, load.ErrAlreadyKept) {
		return false, 0, nil
	}
	return err == nil, written, err
}
