package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// Request builds the API request of a stream for a window. A catalog path may
// carry a query (GET /team?unused=).
func Request(s catalog.Stream, w Window) (engage.Request, error) {
	var body []byte
	if s.Method != "GET" {
		var err error
		body, err = RenderBody(s.Body, Vars{
			From: w.Start.UnixMilli(), To: w.End.UnixMilli(), Metric: s.Metric, GroupBy: s.GroupBy,
		})
		if err != nil {
			return engage.Request{}, err
		}
	}
	path, rawQuery, _ := strings.Cut(s.Path, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return engage.Request{}, fmt.Errorf("path %q: %w", s.Path, err)
	}
	return engage.Request{Method: s.Method, Path: path, Query: query, Body: body}, nil
}

// List reads every page of a list stream, decoding each element into T.
func List[T any](ctx context.Context, c *engage.Client, s catalog.Stream, w Window, reset func(), fn func(T) error) ([]byte, error) {
	req, err := Request(s, w)
	if err != nil {
		return nil, err
	}
	reset()
	return c.ListAll(ctx, req, s.PageSize, func(item json.RawMessage) error {
		var v T
		if err := json.Unmarshal(item, &v); err != nil {
			return err
		}
		return fn(v)
	})
}

// Activity reads an activity log back to the window's start.
func Activity(ctx context.Context, c *engage.Client, s catalog.Stream, w Window, fn func(engage.ActivityEvent) error) ([]byte, error) {
	req, err := Request(s, w)
	if err != nil {
		return nil, err
	}
	return c.ActivitySince(ctx, req, s.PageSize, w.Start, fn)
}

// ConversationRef is a conversation of the list the messages stream reads.
type ConversationRef struct {
	ID           string `json:"conversationId"`
	MessageCount int    `json:"messageCount"`
}

// Messages lists the conversations that started in the window (IDsPath),
// asks need which of them to fetch, then fetches those conversations'
// messages, at most parallel at a time, handing each conversation's messages
// and raw answer to fn (called from one goroutine at a time). It returns the
// raw conversation list.
func Messages(ctx context.Context, c *engage.Client, s catalog.Stream, w Window, parallel int,
	need func([]ConversationRef) (map[string]bool, error),
	fn func(id string, raw []byte, msgs []engage.Message) error) ([]byte, error) {
	list := s
	list.Method, list.Path = "POST", s.IDsPath
	var refs []ConversationRef
	listRaw, err := Array(ctx, c, list, w, func() { refs = refs[:0] }, func(r ConversationRef) error {
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	wanted, err := need(refs)
	if err != nil {
		return nil, err
	}
	path, _, _ := strings.Cut(s.Path, "?")
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallel, 1))
	for _, ref := range refs {
		if !wanted[ref.ID] {
			continue
		}
		g.Go(func() error {
			var msgs []engage.Message
			req := engage.Request{Method: s.Method, Path: path, Query: url.Values{"conversationId": {ref.ID}}}
			var raw []byte
			err := c.Do(ctx, req, func(r io.Reader) error {
				var buf bytes.Buffer
				msgs = msgs[:0]
				if err := engage.DecodeArray(io.TeeReader(r, &buf), func(m engage.Message) error {
					msgs = append(msgs, m)
					return nil
				}); err != nil {
					return err
				}
				raw = buf.Bytes()
				return nil
			})
			if err != nil {
				return fmt.Errorf("conversation %s: %w", ref.ID, err)
			}
			mu.Lock()
			defer mu.Unlock()
			return fn(ref.ID, raw, msgs)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return listRaw, nil
}

// Report fetches a bucketed report window. raw is the body exactly as received.
func Report(ctx context.Context, c *engage.Client, s catalog.Stream, w Window) (resp engage.ReportResponse, raw []byte, err error) {
	raw, err = Object(ctx, c, s, w, &resp)
	return resp, raw, err
}

// Object fetches a window whose answer is one JSON object, decoded into v.
func Object(ctx context.Context, c *engage.Client, s catalog.Stream, w Window, v any) (raw []byte, err error) {
	req, err := Request(s, w)
	if err != nil {
		return nil, err
	}
	return c.Object(ctx, req, v)
}

// Array fetches a detail report window whose answer is a JSON array, handing
// each element to fn as it is decoded. fn runs again from the first element if
// the request is retried, so it must start over when reset is called.
func Array[T any](ctx context.Context, c *engage.Client, s catalog.Stream, w Window, reset func(), fn func(T) error) (raw []byte, err error) {
	req, err := Request(s, w)
	if err != nil {
		return nil, err
	}
	err = c.Do(ctx, req, func(r io.Reader) error {
		var buf bytes.Buffer
		reset()
		if err := engage.DecodeArray(io.TeeReader(r, &buf), fn); err != nil {
			return err
		}
		raw = buf.Bytes()
		return nil
	})
	return raw, err
}
