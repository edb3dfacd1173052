// Package metabase gives Metabase what it cannot read from the bi views:
// which column is a view's entity key, which refers to another view's key
// (so questions join on their own), and the views' COMMENT ON descriptions,
// also when they change (Metabase copies comments only into empty
// descriptions, at its first sync).
//
// It talks to Metabase's documented REST API only (the endpoints of
// Client), authenticated with an API key (header X-API-Key). It has been
// tested against a fake of exactly those endpoints, not a live Metabase:
// none runs where engage-etl is built.
package metabase

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls a Metabase's REST API.
type Client struct {
	base *url.URL
	key  string
	http *http.Client
}

// New returns a client of the Metabase at baseURL (e.g.
// http://localhost:3000), authenticated by an API key.
func New(baseURL, apiKey string) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("metabase URL is not http(s)://host[:port] (for example http://localhost:3000)")
	}
	if u.User != nil {
		return nil, fmt.Errorf("metabase URL must not hold credentials: give the API key in METABASE_API_KEY")
	}
	if apiKey == "" {
		return nil, fmt.Errorf("no Metabase API key: set METABASE_API_KEY (Admin settings > Authentication > API keys)")
	}
	return &Client{base: u, key: apiKey, http: &http.Client{Timeout: time.Minute}}, nil
}

// Table and Field are the parts of GET /api/database/:id/metadata this
// package reads and writes.
type Table struct {
	ID          int     `json:"id"`
	Schema      string  `json:"schema"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Fields      []Field `json:"fields"`
}

type Field struct {
	ID              int     `json:"id"`
	Name            string  `json:"name"`
	SemanticType    *string `json:"semantic_type"`
	FKTargetFieldID *int    `json:"fk_target_field_id"`
	Description     *string `json:"description"`
}

// DatabaseID finds a database by its name in Metabase (GET /api/database,
// which answers {"data": [...]} since v0.45, a bare array before).
func (c *Client) DatabaseID(ctx context.Context, name string) (int, error) {
	var body json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/api/database", nil, &body); err != nil {
		return 0, err
	}
	type db struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	var wrapped struct {
		Data []db `json:"data"`
	}
	var list []db
	if err := json.Unmarshal(body, &wrapped); err != nil || wrapped.Data == nil {
		if err := json.Unmarshal(body, &list); err != nil {
			return 0, fmt.Errorf("GET /api/database: neither {\"data\": [...]} nor an array")
		}
	} else {
		list = wrapped.Data
	}
	var names []string
	for _, d := range list {
		if d.Name == name {
			return d.ID, nil
		}
		names = append(names, strconv.Quote(d.Name))
	}
	return 0, fmt.Errorf("Metabase has no database named %q (it has %s): give --database the name it shows under Admin > Databases", name, strings.Join(names, ", "))
}

// SyncSchema asks Metabase to read the database's tables and views again
// (POST /api/database/:id/sync_schema): views a migration added since its
// last sync then get their fields. It answers at once; the sync runs after.
func (c *Client) SyncSchema(ctx context.Context, db int) error {
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/api/database/%d/sync_schema", db), nil, nil)
}

// Metadata returns the database's tables with their fields (GET
// /api/database/:id/metadata).
func (c *Client) Metadata(ctx context.Context, db int) ([]Table, error) {
	var out struct {
		Tables []Table `json:"tables"`
	}
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/database/%d/metadata?include_hidden=true", db), nil, &out)
	return out.Tables, err
}

// UpdateTable sets a table's description (PUT /api/table/:id).
func (c *Client) UpdateTable(ctx context.Context, id int, description string) error {
	return c.do(ctx, http.MethodPut, fmt.Sprintf("/api/table/%d", id), map[string]any{"description": description}, nil)
}

// FieldUpdate is the body of PUT /api/field/:id: only what is set is sent.
type FieldUpdate struct {
	Description     *string `json:"description,omitempty"`
	SemanticType    *string `json:"semantic_type,omitempty"`
	FKTargetFieldID *int    `json:"fk_target_field_id,omitempty"`
}

// UpdateField changes a field (PUT /api/field/:id).
func (c *Client) UpdateField(ctx context.Context, id int, u FieldUpdate) error {
	return c.do(ctx, http.MethodPut, fmt.Sprintf("/api/field/%d", id), u, nil)
}

// do sends one request; an answer other than 2xx is an error naming the
// request and Metabase's message, never the key.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path, u.RawQuery = u.Path+p, q
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, p, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (is METABASE_API_KEY an admin API key of this Metabase?)"
		}
		return fmt.Errorf("%s %s: Metabase answered %s%s: %s", method, p, resp.Status, hint, strings.ReplaceAll(msg, c.key, "[redacted]"))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON Metabase documents: %w", method, p, err)
	}
	return nil
}
