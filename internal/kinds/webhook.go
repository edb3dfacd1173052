package kinds

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// WebhookStream names webhook deliveries: the stream whose lock a webhook
// commit takes, and their line in a rebuild's report. Webhooks change the
// rows of the kinds that replay them (ReplaysWebhooks).
const WebhookStream = "webhooks"

// ErrInvalidWebhook marks a webhook body that is not one Engage sends.
var ErrInvalidWebhook = errors.New("invalid webhook")

// Webhook reads a webhook delivery received at received (CONTRACT.md §7):
// a message object is a new message; an object with customerId and status
// is a new conversation or a status change.
func Webhook(src Source, received time.Time, body []byte) (load.Batch, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
	}
	fromCustomer := strings.Split(src.Dialect.Fields["messages"]["from_customer"], ".")
	if v, _ := decode.Lookup(probe, fromCustomer); !decode.IsNull(v) {
		m, _, err := decode.Object[engage.Message](src.Dialect, "messages", body)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
		}
		row, err := transform.Message(src.Location, src.StoreText, m)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
		}
		return load.MessageBatch(row.Date, row.Date.AddDays(1), []transform.MessageRow{row}), nil
	}
	e, _, err := decode.Object[engage.ConversationEvent](src.Dialect, "status_webhooks", body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
	}
	row, err := transform.ConversationEvent(src.Location, received, e)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
	}
	return load.StatusBatch(row), nil
}
