package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

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

// Answer fetches a stream's window and returns the body of its answer
// exactly as received; a paged list or log is read to its end and its pages
// kept as one JSON array. decode reads the body: for a single request it runs
// inside the request's retries, so a body cut short is fetched again, and it
// must start over each time it is called.
func Answer(ctx context.Context, c *engage.Client, s catalog.Stream, w Window, decode func(body []byte) error) ([]byte, error) {
	req, err := Request(s, w)
	if err != nil {
		return nil, err
	}
	if !s.Kind.Paged() {
		var raw []byte
		err := c.Do(ctx, req, func(r io.Reader) error {
			body, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if err := decode(body); err != nil {
				return err
			}
			raw = body
			return nil
		})
		return raw, err
	}
	var raw []byte
	if s.Kind == catalog.KindActivity {
		raw, err = c.ActivitySince(ctx, req, s.PageSize, w.Start, func(engage.ActivityEvent) error { return nil })
	} else {
		raw, err = c.ListAll(ctx, req, s.PageSize, func(json.RawMessage) error { return nil })
	}
	if err != nil {
		return nil, err
	}
	return raw, decode(raw)
}

// ConversationList fetches the list of a messages stream's window: the
// conversations whose messages it loads (IDsMethod, IDsPath).
func ConversationList(ctx context.Context, c *engage.Client, s catalog.Stream, w Window, decode func(body []byte) error) ([]byte, error) {
	list := s
	list.Kind, list.Method, list.Path = catalog.KindConversations, s.IDsMethod, s.IDsPath
	return Answer(ctx, c, list, w, decode)
}

// Conversations fetches the messages of each conversation of ids, at most
// parallel at a time, handing each answer to decode as it arrives: decode
// runs inside the request's retries and may be called from several
// goroutines at once.
func Conversations(ctx context.Context, c *engage.Client, s catalog.Stream, ids []string, parallel int,
	decode func(id string, body []byte) error) error {
	path, _, _ := strings.Cut(s.Path, "?")
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallel, 1))
	for _, id := range ids {
		g.Go(func() error {
			req := engage.Request{Method: s.Method, Path: path, Query: url.Values{"conversationId": {id}}}
			err := c.Do(ctx, req, func(r io.Reader) error {
				body, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				return decode(id, body)
			})
			if err != nil {
				return fmt.Errorf("conversation %s: %w", id, err)
			}
			return nil
		})
	}
	return g.Wait()
}
