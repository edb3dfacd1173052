package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	Chunk      int // part of a window answered in chunks, from 0
	FetchedAt  time.Time
	Body       []byte
}

const upsertPayloadSQL = `
INSERT INTO raw.payload (tenant_id, stream, window_start, window_end, fetched_at, body, chunk)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
ON CONFLICT (tenant_id, stream, window_start, chunk) DO UPDATE
SET window_end = EXCLUDED.window_end, fetched_at = EXCLUDED.fetched_at, body = EXCLUDED.body`

func (p Payload) keep(ctx context.Context, tx pgx.Tx, tenantID string) (bool, error) {
	if _, err := tx.Exec(ctx, upsertPayloadSQL, tenantID, p.Stream, p.Start, p.End, p.FetchedAt, string(p.Body), p.Chunk); err != nil {
		return false, fmt.Errorf("store raw payload: %w", err)
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
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (tenant_id, conversation_id) DO UPDATE
SET fetched_at = EXCLUDED.fetched_at, message_count = EXCLUDED.message_count, body = EXCLUDED.body`

func (m ConversationMessages) keep(ctx context.Context, tx pgx.Tx, tenantID string) (bool, error) {
	if _, err := tx.Exec(ctx, upsertConversationMessagesSQL, tenantID, m.ConversationID, m.FetchedAt, m.Messages, string(m.Body)); err != nil {
		return false, fmt.Errorf("raw messages of %s: %w", m.ConversationID, err)
	}
	return true, nil
}

// Webhook is one webhook delivery, kept in raw.webhook under the digest of
// its body: two deliveries received at the same instant are two rows, and a
// delivery Engage sends again is one row, applied once.
type Webhook struct {
	Received time.Time
	Body     []byte
}

// WebhookID is the key a delivery is kept under.
func WebhookID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

const insertWebhookSQL = `
INSERT INTO raw.webhook (tenant_id, delivery_id, received_at, body)
VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT (tenant_id, delivery_id) DO NOTHING`

func (w Webhook) keep(ctx context.Context, tx pgx.Tx, tenantID string) (bool, error) {
	tag, err := tx.Exec(ctx, insertWebhookSQL, tenantID, WebhookID(w.Body), w.Received, string(w.Body))
	if err != nil {
		return false, fmt.Errorf("store webhook: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
