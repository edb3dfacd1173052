package metabase

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Ref names a column of a view of schema bi.
type Ref struct{ View, Column string }

func (r Ref) String() string { return "bi." + r.View + "." + r.Column }

// EntityKeys are the bi views' columns that identify a row (semantic type
// type/PK): views have no constraints for Metabase to read them from.
var EntityKeys = []Ref{
	{"conversations", "conversation_id"},
	{"messages", "message_id"},
	{"activity", "event_id"},
	{"visits", "visit_id"},
	{"cobrowse_sessions", "session_id"},
	{"sla_rules", "sla_rule_id"},
}

// ForeignKeys are the columns that refer to another view's entity key
// (type/FK with fk_target_field_id): Metabase then joins them by itself.
var ForeignKeys = map[Ref]Ref{
	{"messages", "conversation_id"}:                    {"conversations", "conversation_id"},
	{"conversation_response_times", "conversation_id"}: {"conversations", "conversation_id"},
}

// Comments are the COMMENT ON texts of the bi views and their columns.
type Comments struct {
	Views   map[string]string
	Columns map[Ref]string
}

// Result says what Apply changed.
type Result struct {
	Database      int
	TablesUpdated []string
	FieldsUpdated []string
}

// Options of Apply.
type Options struct {
	// SyncSchema asks Metabase to read the schema again first, and waits
	// (up to Wait) until every bi view of Comments has its fields there.
	SyncSchema bool
	Wait       time.Duration
	Poll       time.Duration
}

// Apply sets, in the Metabase database named database, the entity keys,
// foreign keys and descriptions of the bi views as declared and commented.
// It sends only what differs, so a second run changes nothing.
func Apply(ctx context.Context, c *Client, database string, comments Comments, opt Options) (Result, error) {
	var res Result
	db, err := c.DatabaseID(ctx, database)
	if err != nil {
		return res, err
	}
	res.Database = db
	if opt.SyncSchema {
		if err := c.SyncSchema(ctx, db); err != nil {
			return res, err
		}
	}
	tables, err := waitForViews(ctx, c, db, comments, opt)
	if err != nil {
		return res, err
	}
	fields := map[Ref]Field{}
	for _, t := range tables {
		if t.Schema != "bi" {
			continue
		}
		for _, f := range t.Fields {
			fields[Ref{t.Name, f.Name}] = f
		}
	}
	for _, ref := range append(append([]Ref(nil), EntityKeys...), targets()...) {
		if _, ok := fields[ref]; !ok {
			return res, fmt.Errorf("Metabase does not show %s, a declared key: run `engage-etl migrate up`, then this again", ref)
		}
	}
	for _, t := range tables {
		if t.Schema != "bi" {
			continue
		}
		if want, ok := comments.Views[t.Name]; ok && deref(t.Description) != want {
			if err := c.UpdateTable(ctx, t.ID, want); err != nil {
				return res, err
			}
			res.TablesUpdated = append(res.TablesUpdated, "bi."+t.Name)
		}
		for _, f := range t.Fields {
			ref := Ref{t.Name, f.Name}
			u, changed := fieldUpdate(ref, f, comments, fields)
			if !changed {
				continue
			}
			if err := c.UpdateField(ctx, f.ID, u); err != nil {
				return res, err
			}
			res.FieldsUpdated = append(res.FieldsUpdated, ref.String())
		}
	}
	return res, nil
}

// fieldUpdate is what a field should become, and whether that differs.
func fieldUpdate(ref Ref, f Field, comments Comments, fields map[Ref]Field) (FieldUpdate, bool) {
	var u FieldUpdate
	changed := false
	if want, ok := comments.Columns[ref]; ok && deref(f.Description) != want {
		u.Description, changed = &want, true
	}
	semantic := ""
	for _, k := range EntityKeys {
		if k == ref {
			semantic = "type/PK"
		}
	}
	if target, ok := ForeignKeys[ref]; ok {
		semantic = "type/FK"
		id := fields[target].ID
		if f.FKTargetFieldID == nil || *f.FKTargetFieldID != id {
			u.FKTargetFieldID, changed = &id, true
		}
	}
	if semantic != "" && deref(f.SemanticType) != semantic {
		u.SemanticType, changed = &semantic, true
	}
	if u.FKTargetFieldID != nil && u.SemanticType == nil {
		u.SemanticType = &semantic // Metabase keeps a target only on a type/FK
	}
	return u, changed
}

func targets() []Ref {
	var out []Ref
	for from, to := range ForeignKeys {
		out = append(out, from, to)
	}
	return out
}

// waitForViews reads the metadata until it holds every commented bi view
// with all its columns (a sync Metabase runs after SyncSchema answered).
func waitForViews(ctx context.Context, c *Client, db int, comments Comments, opt Options) ([]Table, error) {
	deadline := time.Now().Add(opt.Wait)
	poll := opt.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	for {
		tables, err := c.Metadata(ctx, db)
		if err != nil {
			return nil, err
		}
		missing := missingColumns(tables, comments)
		if len(missing) == 0 {
			return tables, nil
		}
		if !opt.SyncSchema || time.Now().After(deadline) {
			if len(missing) > 5 {
				missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
			}
			return nil, fmt.Errorf("Metabase does not show %s yet: let it sync the database (Admin > Databases > Sync database schema now) and run this again", strings.Join(missing, ", "))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func missingColumns(tables []Table, comments Comments) []string {
	have := map[Ref]bool{}
	for _, t := range tables {
		if t.Schema == "bi" {
			have[Ref{t.Name, ""}] = true
			for _, f := range t.Fields {
				have[Ref{t.Name, f.Name}] = true
			}
		}
	}
	var missing []string
	for ref := range comments.Columns {
		if !have[ref] {
			missing = append(missing, ref.String())
		}
	}
	sort.Strings(missing)
	return missing
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
