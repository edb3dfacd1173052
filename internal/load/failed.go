package load

import (
	"context"
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/redact"
)

// FailedAnswer is an answer that failed its window, kept for diagnosis.
type FailedAnswer struct {
	ID               int64
	TenantID, Stream string
	WindowStart      time.Time
	WindowEnd        time.Time
	ReceivedAt       time.Time
	Error            string
	Status           int // 0 when unknown
	ContentType      string
	Bytes            int64
	Head             []byte // at most FailedHead bytes
}

// FailedHead bounds the bytes of a failed answer kept, and failedPerStream
// how many are kept per tenant and stream: diagnosis needs the latest few.
const (
	FailedHead      = 64 << 10
	failedPerStream = 20
)

const keepFailedSQL = `
WITH kept AS (
    INSERT INTO raw.failed_payload (tenant_id, stream, window_start, window_end, received_at, error, status, content_type, body_bytes, body_head)
    VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, 0), NULLIF($8, ''), $9, $10)
    RETURNING id
)
DELETE FROM raw.failed_payload
WHERE tenant_id = $1 AND stream = $2
  AND id NOT IN (SELECT id FROM raw.failed_payload WHERE tenant_id = $1 AND stream = $2
                 ORDER BY received_at DESC, id DESC LIMIT $11 - 1)
  AND id NOT IN (SELECT id FROM kept)`

// KeepFailed stores a failed answer in its own transaction (the window's
// rolled back), keeping the newest few per tenant and stream.
func (s *Store) KeepFailed(ctx context.Context, f FailedAnswer) error {
	head := f.Head
	if len(head) > FailedHead {
		head = head[:FailedHead]
	}
	head = []byte(redact.String(string(head))) // an API may echo what it was sent
	ctx = context.WithoutCancel(ctx)
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, keepFailedSQL, f.TenantID, f.Stream, f.WindowStart, f.WindowEnd,
			f.ReceivedAt, redact.String(f.Error), f.Status, f.ContentType, f.Bytes, head, failedPerStream)
		return err
	})
	if err != nil {
		return fmt.Errorf("keep failed answer: %w", err)
	}
	return nil
}

// FailedAnswers lists the kept failed answers, newest first; tenant and
// stream, when not empty, select.
func (s *Store) FailedAnswers(ctx context.Context, tenantID, stream string, limit int) ([]FailedAnswer, error) {
	rows, err := s.pool.Query(ctx, `
SELECT id, tenant_id, stream, window_start, window_end, received_at, error, COALESCE(status, 0), COALESCE(content_type, ''), body_bytes, body_head
FROM raw.failed_payload
WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR stream = $2)
ORDER BY received_at DESC, id DESC LIMIT $3`, tenantID, stream, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FailedAnswer
	for rows.Next() {
		var f FailedAnswer
		if err := rows.Scan(&f.ID, &f.TenantID, &f.Stream, &f.WindowStart, &f.WindowEnd, &f.ReceivedAt, &f.Error,
			&f.Status, &f.ContentType, &f.Bytes, &f.Head); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
