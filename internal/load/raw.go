package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Raw is an answer as received, kept in schema raw in the transaction of the
// rows it became, so the rows can be rebuilt from it without the API.
type Raw interface {
	// keep stores the answer. fresh is false when the same answer was kept
	// before and its rows must not be applied again (a redelivered webhook).
	keep(ctx context.Context, tx pgx.Tx, tenantID string) (fresh bool, err error)
}

// Payload is a window's answer: the latest one per tenant, stream and window
// start is kept in raw.payload.
type Payload struct {
	Stream     string
	Start, End time.Time
	Chunk      int  // part of a window answered in chunks, from 0
	Last       bool // the window's last chunk: chunks after it, kept by an earlier try, go
	FetchedAt  time.Time
	Body       []byte
}

const upsertPayloadSQL = `
INSERT INTO raw.payload (tenant_id, stream, window_start, window_end, fetched_at, body, chunk)
VALUES ($1, $2, $3, $4, $5, $6::json, $7)
ON CONFLICT (tenant_id, stream, window_start, chunk) DO UPDATE
SET window_end = EXCLUDED.window_end, fetched_at = EXCLUDED.fetched_at, body = EXCLUDED.body`

func (p Payload) keep(ctx context.Context, tx pgx.Tx, tenantID string) (bool, error) {
	if _, err := tx.Exec(ctx, upsertPayloadSQL, tenantID, p.Stream, p.Start, p.End, p.FetchedAt, string(p.Body), p.Chunk); err != nil {
		return false, fmt.Errorf("store raw payload: %w", err)
	}
	if p.Last {
		if _, err := tx.Exec(ctx, `DELETE FROM raw.payload WHERE tenant_id = $1 AND stream = $2 AND window_start = $3 AND chunk > $4`,
			tenantID, p.Stream, p.Start, p.Chunk); err != nil {
			return false, fmt.Errorf("drop stale raw chunks: %w", err)
		}
	}
	return true, nil
}

// ConversationMessages is one conversation's messages answer: the latest one
// per conversation is kept in raw.conversation_messages.
type ConversationMessages struct {
	ConversationID string
	Messages       int
	FetchedAt      time.Time
	Body           []byte
}

const upsertConversationMessagesSQL = `
INSERT INTO raw.conversation_messages (tenant_id, conversation_id, fetched_at, message_count, body)
VALUES ($1, $2, $3, $4, $5::json)
ON CONFLICT (tenant_id, conversation_id) DO UPDATE
SET fetched_at = EXCLUDED.fetched_at, message_count = EXCLUDED.message_count, body = EXCLUDED.body`

func (m ConversationMessages) keep(ctx context.Context, tx pgx.Tx, tenantID string) (bool, error) {
	if _, err := tx.Exec(ctx, upsertConversationMessagesSQL, tenantID, m.ConversationID, m.FetchedAt, m.Messages, string(m.Body)); err != nil {
		return false, fmt.Errorf("raw messages of %s: %w", m.ConversationID, err)
	}
	return true, nil
}

// Webhook is one webhook delivery, kept in raw.webhook under its delivery
// id when the sender gave one, else under the digest of its body: two
// deliveries received at the same instant are two rows, and a delivery sent
// again is one row, applied once. (Without a delivery id, two deliveries
// with the very same body are taken for one: a status that flips back and
// forth with nothing else changing waits for the next sync.)
type Webhook struct {
	Received   time.Time
	DeliveryID string // the sender's, when it gave one
	Body       []byte
}

// ErrAlreadyKept is a webhook delivery kept (and applied) before: the commit
// writes nothing.
var ErrAlreadyKept = errors.New("delivery received before")

// WebhookID is the key a delivery is kept under.
func WebhookID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

const insertWebhookSQL = `
INSERT INTO raw.webhook (tenant_id, delivery_id, received_at, body)
VALUES ($1, $2, $3, $4::json)
ON CONFLICT (tenant_id, delivery_id) DO NOTHING`

func (w Webhook) keep(ctx context.Context, tx pgx.Tx, tenantID string) (bool, error) {
	id := "sha256:" + WebhookID(w.Body)
	if w.DeliveryID != "" {
		id = "delivery:" + w.DeliveryID
	}
	tag, err := tx.Exec(ctx, insertWebhookSQL, tenantID, id, w.Received, string(w.Body))
	if err != nil {
		return false, fmt.Errorf("store webhook: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
