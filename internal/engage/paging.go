package engage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/jsonscan"
)

// maxPages bounds a paging loop, so an API that never proves an end fails
// the window instead of looping forever.
const maxPages = 100000

// Paging says how a paged answer is requested and read.
type Paging struct {
	PageParam, SizeParam string // query parameters of the page number and size
	FirstPage, PageSize  int
	SortParam, Sort      string // Sort is sent as SortParam=Sort when not empty
	Items                string // dotted path to a page's elements; "" when a page is a bare array
	ID                   string // dotted path to an element's id, to recognise a repeated page
	Config               string // where the user configures this, named in errors (e.g. api.lists)
}

// Page is one page: its body as received and its elements.
type Page struct {
	Index int // 0 for the first page, whatever the API numbers it
	Body  []byte
	Items []json.RawMessage
}

// Pages reads a paged answer (CONTRACT.md §5 and §6) until it proves its
// end, calling fn with each page; fn ends the paging early by returning
// done. An end is proven by an empty page, a page flagged last or the last
// of totalPages (where the answer has them), or a page shorter than one the
// server served before: a short first page is not an end, since the server
// may cap the page size below the one asked. A page repeating the previous
// one means the server ignores the paging parameters: that fails at once.
// Pages holds one page at a time: fn keeps what it needs.
func (c *Client) Pages(ctx context.Context, req Request, p Paging, fn func(Page) (done bool, err error)) error {
	var prevIDs []string
	served := 0
	for i := 0; i < maxPages; i++ {
		q := cloneQuery(req.Query)
		q.Set(p.PageParam, strconv.Itoa(p.FirstPage+i))
		q.Set(p.SizeParam, strconv.Itoa(p.PageSize))
		if p.Sort != "" {
			q.Set(p.SortParam, p.Sort)
		}
		r := req
		r.Query = q
		var body []byte
		var page pageShape
		err := c.Do(ctx, r, func(rd io.Reader) error {
			b, err := io.ReadAll(rd)
			if err != nil {
				return err
			}
			if page, err = readPage(b, p.Items); err != nil {
				return fmt.Errorf("%w (config key %s.items)", err, p.Config)
			}
			body = b
			return nil
		})
		if err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
		ids := pageIDs(page.items, p.ID)
		if i > 0 && len(ids) > 0 && slices.Equal(ids, prevIDs) {
			return fmt.Errorf("page %d repeats page %d: the server ignores the paging parameters %q and %q (config keys %s.page_param, %s.size_param, %s.first_page)",
				i, i-1, p.PageParam, p.SizeParam, p.Config, p.Config, p.Config)
		}
		prevIDs = ids
		done, err := fn(Page{Index: i, Body: body, Items: page.items})
		if err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
		n := len(page.items)
		switch {
		case done, n == 0, page.last, page.totalPages > 0 && i+1 >= page.totalPages, n < served:
			return nil
		}
		served = max(served, n)
	}
	return fmt.Errorf("%s: more than %d pages without an end (config keys %s.page_param, %s.size_param)", req.Path, maxPages, p.Config, p.Config)
}

// PageAt fetches one page of a paged answer, the index-th (0 for the
// first) of size elements, and returns its elements and the total the
// answer says it holds (a Spring Page's totalElements; -1 when it says
// none): what an estimate probes of a list or a log before it is read.
func (c *Client) PageAt(ctx context.Context, req Request, p Paging, index, size int) (items []json.RawMessage, total int, err error) {
	q := cloneQuery(req.Query)
	q.Set(p.PageParam, strconv.Itoa(p.FirstPage+index))
	q.Set(p.SizeParam, strconv.Itoa(size))
	if p.Sort != "" {
		q.Set(p.SortParam, p.Sort)
	}
	req.Query = q
	total = -1
	err = c.Do(ctx, req, func(rd io.Reader) error {
		b, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		page, err := readPage(b, p.Items)
		if err != nil {
			return fmt.Errorf("%w (config key %s.items)", err, p.Config)
		}
		items, total = page.items, -1
		var top struct {
			TotalElements *int `json:"totalElements"`
		}
		if p.Items != "" && json.Unmarshal(b, &top) == nil && top.TotalElements != nil {
			total = *top.TotalElements
		}
		return nil
	})
	return items, total, err
}

// pageShape is what paging reads of a page.
type pageShape struct {
	items      []json.RawMessage
	last       bool
	totalPages int
}

// readPage finds a page's elements at the dotted path items, and the Spring
// Page flags last and totalPages where the page has them. A valid page of
// the usual shape is walked once (see jsonscan); any other is decoded by
// readPageSlowly, which says what is wrong with it.
func readPage(body []byte, items string) (pageShape, error) {
	if !json.Valid(body) {
		return readPageSlowly(body, items)
	}
	var out pageShape
	doc := body
	if items != "" {
		// encoding/json matches the flags' names whatever their case, the
		// items' key exactly.
		path := strings.Split(items, ".")
		var last, total, top []byte
		isObject, _ := jsonscan.Object(body, func(key, v []byte) error {
			k := jsonscan.Key(key)
			if k == path[0] {
				top = v
			}
			if strings.EqualFold(k, "last") {
				last = v
			}
			if strings.EqualFold(k, "totalPages") {
				total = v
			}
			return nil
		})
		ok := top != nil
		if doc = top; ok && len(path) > 1 {
			doc, ok = jsonscan.Find(top, path[1:])
		}
		if !isObject || !ok || string(doc) == "null" || !isBool(last) || !isInt(total) {
			return readPageSlowly(body, items) // says what is wrong
		}
		out.last = string(last) == "true"
		out.totalPages, _ = strconv.Atoi(string(total))
	}
	out.items = []json.RawMessage{}
	isArray, _ := jsonscan.Array(doc, func(_ int, it []byte) error {
		out.items = append(out.items, it)
		return nil
	})
	if !isArray {
		return readPageSlowly(body, items)
	}
	return out, nil
}

// isBool and isInt: absent, null, or what encoding/json decodes into a
// bool or an int.
func isBool(v []byte) bool {
	s := string(v)
	return v == nil || s == "true" || s == "false" || s == "null"
}

func isInt(v []byte) bool {
	if v == nil || string(v) == "null" {
		return true
	}
	_, err := strconv.Atoi(string(v))
	return err == nil
}

// readPageSlowly is readPage through encoding/json, for its errors.
func readPageSlowly(body []byte, items string) (pageShape, error) {
	var out pageShape
	doc := json.RawMessage(body)
	if items != "" {
		var top struct {
			Last       *bool `json:"last"`
			TotalPages *int  `json:"totalPages"`
		}
		if err := json.Unmarshal(body, &top); err != nil {
			return out, fmt.Errorf("page is not a JSON object: %w", decode.UnexpectedEOF(err))
		}
		out.last = top.Last != nil && *top.Last
		if top.TotalPages != nil {
			out.totalPages = *top.TotalPages
		}
		var ok bool
		if doc, ok = Path(doc, items); !ok {
			return out, fmt.Errorf("page has no %q", items)
		}
	}
	if err := json.Unmarshal(doc, &out.items); err != nil {
		return out, fmt.Errorf("page's %q is not an array: %w", items, decode.UnexpectedEOF(err))
	}
	return out, nil
}

func pageIDs(items []json.RawMessage, idPath string) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		if idPath == "" {
			ids[i] = string(it)
			continue
		}
		v, _ := validPath(it, idPath) // items of a valid page
		ids[i] = string(v)
	}
	return ids
}

// Path finds the value at a dotted path (a.b.c) in a JSON document; ok is
// false when a step is missing or not an object, or the value is null (or
// the document is not valid JSON).
func Path(doc json.RawMessage, path string) (json.RawMessage, bool) {
	if !json.Valid(doc) {
		return nil, false
	}
	return validPath(doc, path)
}

// validPath is Path of a document known to be valid JSON.
func validPath(doc []byte, path string) (json.RawMessage, bool) {
	v, ok := jsonscan.Find(doc, strings.Split(path, "."))
	if !ok || string(bytes.TrimSpace(v)) == "null" {
		return nil, false
	}
	return v, true
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

// PageItems returns the elements of one page kept by Pages.
func PageItems(body []byte, items string) ([]json.RawMessage, error) {
	p, err := readPage(body, items)
	return p.items, err
}
