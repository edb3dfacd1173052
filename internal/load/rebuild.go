package load

import (
	"context"
	"fmt"
	"time"
)

// RawAnswer is an answer kept in schema raw, read back for a rebuild.
type RawAnswer struct {
	Source     RawSource
	Stream     string // the payload's stream; empty for the other sources
	Start, End time.Time
	FetchedAt  time.Time
	Body       []byte
	// Owned, for a windowed answer, are the instants [start, end) of its
	// window that no later answer covers: its rows of other days were
	// replaced since.
	Owned [][2]time.Time
}

// RawSource says which raw table an answer was kept in.
type RawSource string

const (
	RawPayload      RawSource = "payload"      // raw.payload: a window's answer
	RawConversation RawSource = "conversation" // raw.conversation_messages
	RawWebhook      RawSource = "webhook"      // raw.webhook
)

// RawQuery selects a tenant's kept answers for a rebuild of [Start, End).
type RawQuery struct {
	TenantID   string
	Start, End time.Time
	// Windowed are streams whose answers cover days: an answer whose days
	// later answers of the same stream cover again is left out, since the
	// later answers replace its rows.
	Windowed []string
	// Latest are streams whose answer is a state as a whole (type 1
	// dimensions): only the stream's latest answer, if it falls in the range.
	Latest []string
	// Other streams: every answer in the range.
	Other []string
	// Conversations and Webhooks include those raw tables.
	Conversations, Webhooks bool
}

// rawAnswersSQL reads a tenant's answers oldest first. Of a windowed
// answer it also reads the parts of its window no later answer of the
// stream covers again (owned_from, owned_to); one with no such part is left
// out. A conversation's messages are fetched after it started, so those
// fetched before the range cannot hold a message of it; webhooks are
// replayed by when they were received.
const rawAnswersSQL = `
SELECT 'payload' AS source, p.stream AS stream, '' AS conversation_id, p.window_start AS window_start,
       p.window_end AS window_end, p.fetched_at AS fetched_at, p.body::text AS body, o.owned_from, o.owned_to
FROM raw.payload p
LEFT JOIN LATERAL (
    SELECT array_agg(lower(r) ORDER BY lower(r)) AS owned_from, array_agg(upper(r) ORDER BY lower(r)) AS owned_to
    FROM unnest(tstzmultirange(tstzrange(p.window_start, p.window_end)) - COALESCE((
        SELECT range_agg(tstzrange(q.window_start, q.window_end)) FROM raw.payload q
        WHERE q.tenant_id = p.tenant_id AND q.stream = p.stream AND q.fetched_at > p.fetched_at
    ), '{}'::tstzmultirange)) AS r
) o ON p.stream = ANY ($4)
WHERE p.tenant_id = $1 AND p.window_start < $3 AND p.window_end > $2
  AND (p.stream = ANY ($6)
       OR (p.stream = ANY ($4) AND o.owned_from IS NOT NULL)
       OR (p.stream = ANY ($5) AND NOT EXISTS (
           SELECT 1 FROM raw.payload q
           WHERE q.tenant_id = p.tenant_id AND q.stream = p.stream AND q.fetched_at > p.fetched_at)))
UNION ALL
SELECT 'conversation', '', c.conversation_id, c.fetched_at, c.fetched_at, c.fetched_at, c.body::text, NULL, NULL
FROM raw.conversation_messages c
WHERE $7 AND c.tenant_id = $1 AND c.fetched_at >= $2
UNION ALL
SELECT 'webhook', '', '', w.received_at, w.received_at, w.received_at, w.body::text, NULL, NULL
FROM raw.webhook w
WHERE $8 AND w.tenant_id = $1 AND w.received_at >= $2 AND w.received_at < $3
ORDER BY fetched_at, source, stream, window_start`

// RawAnswers calls fn with each answer q selects, oldest first, one at a
// time: a rebuild of a long range never holds more than one answer.
func (s *Store) RawAnswers(ctx context.Context, q RawQuery, fn func(RawAnswer) error) error {
	rows, err := s.pool.Query(ctx, rawAnswersSQL, q.TenantID, q.Start, q.End,
		nonNilStrings(q.Windowed), nonNilStrings(q.Latest), nonNilStrings(q.Other), q.Conversations, q.Webhooks)
	if err != nil {
		return fmt.Errorf("read raw answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a RawAnswer
		var body string
		var ownedFrom, ownedTo []time.Time
		if err := rows.Scan(&a.Source, &a.Stream, new(string), &a.Start, &a.End, &a.FetchedAt, &body, &ownedFrom, &ownedTo); err != nil {
			return fmt.Errorf("read raw answers: %w", err)
		}
		for i := range ownedFrom {
			a.Owned = append(a.Owned, [2]time.Time{ownedFrom[i], ownedTo[i]})
		}
		a.Body = []byte(body)
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
