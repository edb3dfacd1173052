package engage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

// Object sends req and decodes the JSON object it answers into v (reset to
// its zero value before every attempt). raw is the body exactly as received.
func (c *Client) Object(ctx context.Context, req Request, v any) (raw []byte, err error) {
	err = c.Do(ctx, req, func(r io.Reader) error {
		var buf bytes.Buffer
		reflect.ValueOf(v).Elem().SetZero()
		if err := DecodeObject(io.TeeReader(r, &buf), v); err != nil {
			return err
		}
		raw = buf.Bytes()
		return nil
	})
	return raw, err
}

// maxPages bounds a paging loop, so an API that never answers a short page
// fails the window instead of looping forever.
const maxPages = 100000

// ListAll reads a paged list (CONTRACT.md §5) from page 0 until a page is
// shorter than pageSize, calling fn with each element. It returns the raw
// pages as a JSON array, for the raw payload store.
func (c *Client) ListAll(ctx context.Context, req Request, pageSize int, fn func(json.RawMessage) error) (raw []byte, err error) {
	var pages [][]byte
	for page := 0; page < maxPages; page++ {
		q := cloneQuery(req.Query)
		q.Set("pageNumber", strconv.Itoa(page))
		q.Set("pageSize", strconv.Itoa(pageSize))
		r := req
		r.Query = q
		var lp ListPage
		body, err := c.Object(ctx, r, &lp)
		if err != nil {
			return nil, err
		}
		pages = append(pages, body)
		for _, item := range lp.Results {
			if err := fn(item); err != nil {
				return nil, err
			}
		}
		if len(lp.Results) < pageSize {
			return JoinJSON(pages), nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages", req.Path, maxPages)
}

// ActivitySince reads an activity log newest first (CONTRACT.md §6) until a
// page reaches an event older than since, or the last page. Events that
// arrive while it pages push older ones onto later pages, so the same event
// may come twice: fn sees each id once. It returns the raw pages.
func (c *Client) ActivitySince(ctx context.Context, req Request, pageSize int, since time.Time, fn func(ActivityEvent) error) (raw []byte, err error) {
	seen := map[string]bool{}
	var pages [][]byte
	for page := 0; page < maxPages; page++ {
		q := cloneQuery(req.Query)
		q.Set("page", strconv.Itoa(page))
		q.Set("size", strconv.Itoa(pageSize))
		q.Set("sort", "timestamp,desc")
		r := req
		r.Query = q
		var ap ActivityPage
		body, err := c.Object(ctx, r, &ap)
		if err != nil {
			return nil, err
		}
		pages = append(pages, body)
		reachedSince := false
		for _, item := range ap.Content {
			var e ActivityEvent
			if err := json.Unmarshal(item, &e); err != nil {
				return nil, fmt.Errorf("page %d: %w", page, err)
			}
			if e.ID == "" || e.Timestamp.IsZero() {
				return nil, fmt.Errorf("page %d: event without id or timestamp", page)
			}
			if e.Timestamp.Before(since) {
				reachedSince = true
				continue
			}
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			if err := fn(e); err != nil {
				return nil, err
			}
		}
		if reachedSince || ap.Last || len(ap.Content) == 0 {
			return JoinJSON(pages), nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages", req.Path, maxPages)
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// JoinJSON makes one JSON array of JSON documents: the raw payload of a
// window that took several requests.
func JoinJSON(docs [][]byte) []byte {
	return append(append([]byte("["), bytes.Join(docs, []byte(","))...), ']')
}
