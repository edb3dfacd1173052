package transform

import (
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// StatusRow is a conversation status pushed by a webhook.
type StatusRow struct {
	ConversationID string // from lastMessage; "" when the webhook did not say
	CustomerID     string
	Status         string
	At             time.Time // when it happened: the last message's time, else when it arrived
	Date           civil.Date
}

// ConversationEvent maps a "new conversation" or "status change" webhook.
func ConversationEvent(loc *time.Location, received time.Time, e engage.ConversationEvent) (StatusRow, error) {
	switch e.Status {
	case "UNREAD", "UNRESOLVED", "DONE":
	default:
		return StatusRow{}, fmt.Errorf("status %q is not UNREAD, UNRESOLVED or DONE", e.Status)
	}
	if e.CustomerID == "" {
		return StatusRow{}, fmt.Errorf("webhook without customerId")
	}
	r := StatusRow{CustomerID: e.CustomerID, Status: e.Status, At: received.UTC()}
	if m := e.LastMessage; m != nil {
		r.ConversationID = m.ConversationID
		if !m.Timestamp.IsZero() {
			r.At = m.Timestamp.UTC()
		}
	}
	r.Date = civil.Of(r.At, loc)
	return r, nil
}
