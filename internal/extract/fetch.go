package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// API is one tenant's API: its client, the dialect it speaks and its zone.
type API struct {
	Client   *engage.Client
	Dialect  *catalog.Dialect // nil: CONTRACT.md's
	Location *time.Location   // nil: UTC
}

func (a API) dialect() catalog.Dialect {
	if a.Dialect == nil {
		return catalog.Contract()
	}
	return *a.Dialect
}

func (a API) location() *time.Location {
	if a.Location == nil {
		return time.UTC
	}
	return a.Location
}

// Shape is how the API answers a stream: in one body or page by page, and
// which element kind its answers hold. A stream kind declares it (see
// internal/kinds).
type Shape struct {
	Paging  Paging
	Element string // the element kind of its answers (catalog.Elements): a page's items are told apart by its id field
}

// Paging says whether and how the API pages an answer.
type Paging int

const (
	// OneBody: the answer is one body (a report, a detail array).
	OneBody Paging = iota
	// ListPages: a list read page by page as api.lists says (CONTRACT.md §5).
	ListPages
	// LogPages: an activity log read page by page as api.activity says,
	// newest first back to the window's start (CONTRACT.md §6).
	LogPages
)

// paging is how a paged stream's answer is read in the API's dialect.
func (a API) paging(s catalog.Stream, shape Shape) engage.Paging {
	d := a.dialect()
	p, config := d.Lists, "api.lists"
	if shape.Paging == LogPages {
		p, config = d.Activity, "api.activity"
	}
	out := engage.Paging{PageParam: p.PageParam, SizeParam: p.SizeParam, FirstPage: p.FirstPage, PageSize: p.PageSize,
		SortParam: p.SortParam, Sort: p.Sort, Items: p.Items, ID: d.Fields[shape.Element]["id"], Config: config}
	if s.PageSize > 0 {
		out.PageSize = s.PageSize
	}
	return out
}

// Request builds the API request of a stream for a window. A catalog path may
// carry a query (GET /team?unused=).
func Request(api API, s catalog.Stream, w Window) (engage.Request, error) {
	var body []byte
	if s.Method != "GET" {
		v, err := vars(api, s, w)
		if err != nil {
			return engage.Request{}, err
		}
		if body, err = RenderBody(s.Body, v); err != nil {
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

// Answer fetches a stream's window, answered in shape, and returns the body of its answer
// exactly as received; a paged list or log is read to its end and its pages
// kept as one JSON array. decode reads the body: for a single request it runs
// inside the request's retries, so a body cut short is fetched again, and it
// must start over each time it is called.
func Answer(ctx context.Context, api API, s catalog.Stream, shape Shape, w Window, decode func(body []byte) error) ([]byte, error) {
	c := api.Client
	req, err := Request(api, s, w)
	if err != nil {
		return nil, err
	}
	if shape.Paging == OneBody {
		var raw []byte
		err := c.Do(ctx, req, func(r io.Reader) error {
			body, err := io.ReadAll(io.LimitReader(r, MaxAnswerBytes+1))
			if err != nil {
				return err
			}
			if len(body) > MaxAnswerBytes {
				return tooBig(s, shape)
			}
			if err := decode(body); err != nil {
				return err
			}
			raw = body
			return nil
		})
		return raw, err
	}
	var pages [][]byte
	size := 0
	err = EachPage(ctx, api, s, shape, w, func(pg engage.Page) error {
		if size += len(pg.Body); size > MaxAnswerBytes {
			return tooBig(s, shape)
		}
		pages = append(pages, pg.Body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	raw := engage.JoinJSON(pages)
	return raw, decode(raw) // on error the pages come back too, for diagnosis
}

// MaxAnswerBytes bounds the answer of one window held whole (all but the
// chunked activity logs): it is decoded in memory and kept as one json
// value in raw, well under PostgreSQL's 1 GB for a value.
const MaxAnswerBytes = 128 << 20

func tooBig(s catalog.Stream, shape Shape) error {
	if shape.Paging != OneBody {
		return fmt.Errorf("the pages of one window passed %d MiB: the list is too long to load in one piece", MaxAnswerBytes>>20)
	}
	return fmt.Errorf("the answer of one window passed %d MiB: lower streams.%s.window_days", MaxAnswerBytes>>20, s.Name)
}

// EachPage reads a paged stream's window page by page (CONTRACT.md §5 and
// §6), handing fn one page at a time. An activity log is read newest first
// back to the window's start: it ends at the first page reaching an event
// older than the start, which proves an end only if the log is in order, so
// an event newer than one before it fails the window.
func EachPage(ctx context.Context, api API, s catalog.Stream, shape Shape, w Window, fn func(engage.Page) error) error {
	req, err := Request(api, s, w)
	if err != nil {
		return err
	}
	log := newestFirst{path: api.dialect().Fields["activity"]["timestamp"], since: w.Start}
	return api.Client.Pages(ctx, req, api.paging(s, shape), func(pg engage.Page) (bool, error) {
		if err := fn(pg); err != nil {
			return false, err
		}
		if shape.Paging != LogPages {
			return false, nil
		}
		return log.page(pg)
	})
}

// newestFirst follows an activity log's order across its pages. Events
// that arrive while the log is paged push older ones onto later pages, so a
// page may begin with events the previous page held (newer than its last);
// but within a page events go from newer to older, and each page ends no
// newer than the one before it.
type newestFirst struct {
	path       string    // of an event's time
	since      time.Time // the window's start
	prevOldest time.Time // the last event of the previous page
}

// page reports whether a page reaches an event older than since, and fails
// when the page is out of that order. An event whose time cannot be read is
// left for the decoder to report.
func (l *newestFirst) page(pg engage.Page) (reached bool, err error) {
	var prev time.Time
	for i, it := range pg.Items {
		v, ok := engage.Path(it, l.path)
		if !ok {
			continue
		}
		var t time.Time
		if json.Unmarshal(v, &t) != nil {
			var ms int64
			if json.Unmarshal(v, &ms) != nil {
				continue
			}
			t = time.UnixMilli(ms)
		}
		if !prev.IsZero() && t.After(prev) {
			return false, outOfOrder(fmt.Sprintf("element %d (%s) is newer than element %d before it (%s)", i,
				t.UTC().Format(time.RFC3339), i-1, prev.UTC().Format(time.RFC3339)))
		}
		prev = t
		reached = reached || t.Before(l.since)
	}
	if !prev.IsZero() {
		if !l.prevOldest.IsZero() && prev.After(l.prevOldest) {
			return false, outOfOrder(fmt.Sprintf("the page ends newer (%s) than the page before it (%s)",
				prev.UTC().Format(time.RFC3339), l.prevOldest.UTC().Format(time.RFC3339)))
		}
		l.prevOldest = prev
	}
	return reached, nil
}

func outOfOrder(what string) error {
	return fmt.Errorf("%s: the log is not newest first, so no page proves its end; set api.activity.sort_param and api.activity.sort to what the API sorts newest first by", what)
}

// PageAt fetches one page of a paged stream's window, the index-th of size
// elements, with the total its answer says (-1: none); see
// engage.Client.PageAt.
func PageAt(ctx context.Context, api API, s catalog.Stream, shape Shape, w Window, index, size int) ([]json.RawMessage, int, error) {
	req, err := Request(api, s, w)
	if err != nil {
		return nil, 0, err
	}
	return api.Client.PageAt(ctx, req, api.paging(s, shape), index, size)
}

// PageSize is the page size a paged stream asks.
func PageSize(api API, s catalog.Stream, shape Shape) int { return api.paging(s, shape).PageSize }

// EventTime reads an activity event's time (at the dialect's timestamp
// field, RFC 3339 or epoch ms); ok is false when it has none.
func EventTime(api API, event json.RawMessage) (time.Time, bool) {
	v, ok := engage.Path(event, api.dialect().Fields["activity"]["timestamp"])
	if !ok {
		return time.Time{}, false
	}
	var t time.Time
	if json.Unmarshal(v, &t) == nil {
		return t, true
	}
	var ms int64
	if json.Unmarshal(v, &ms) == nil {
		return time.UnixMilli(ms), true
	}
	return time.Time{}, false
}

// ConversationList fetches the list of a messages stream's window: the
// conversations whose messages it loads (IDsMethod, IDsPath), in one body.
func ConversationList(ctx context.Context, api API, s catalog.Stream, w Window, decode func(body []byte) error) ([]byte, error) {
	list := s
	list.Method, list.Path = s.IDsMethod, s.IDsPath
	return Answer(ctx, api, list, Shape{Paging: OneBody, Element: "conversations"}, w, decode)
}

// Conversations fetches the messages of each conversation of ids, at most
// parallel at a time. decode reads each answer inside the request's
// retries, so it keeps no state: a body cut short is fetched again and
// decoded afresh. take then receives the answer and what decode made of
// it, once per conversation, after the request is done: it may keep state
// (and commit), and may be called from several goroutines at once.
func Conversations[T any](ctx context.Context, api API, s catalog.Stream, ids []string, parallel int,
	decode func(id string, body []byte) (T, error), take func(id string, body []byte, v T) error) error {
	path, _, _ := strings.Cut(s.Path, "?")
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallel, 1))
	for _, id := range ids {
		g.Go(func() error {
			req := engage.Request{Method: s.Method, Path: path, Query: url.Values{api.dialect().ConversationParam: {id}}}
			var body []byte
			var v T
			err := api.Client.Do(ctx, req, func(r io.Reader) (err error) {
				b, err := io.ReadAll(io.LimitReader(r, MaxAnswerBytes+1))
				if err != nil {
					return err
				}
				if len(b) > MaxAnswerBytes {
					return tooBig(s, Shape{Paging: OneBody, Element: "messages"})
				}
				if v, err = decode(id, b); err != nil {
					return err
				}
				body = b
				return nil
			})
			if err == nil {
				err = take(id, body, v)
			}
			if err != nil {
				return fmt.Errorf("conversation %s: %w", id, err)
			}
			return nil
		})
	}
	return g.Wait()
}
