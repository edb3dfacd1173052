package metabase_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/metabase"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// fakeMetabase implements exactly the endpoints the package calls, as
// Metabase documents them (https://www.metabase.com/docs/latest/api):
//
//	GET  /api/database                  "List all Databases" ({"data": [...]}, v0.45 on)
//	POST /api/database/:id/sync_schema  "Trigger a manual update of the schema metadata"
//	GET  /api/database/:id/metadata     "Get metadata about a Database, including all of its Tables and Fields"
//	PUT  /api/table/:id                 "Update Table with ID" (description)
//	PUT  /api/field/:id                 "Update Field with ID" (description, semantic_type, fk_target_field_id)
//
// and the API key header of "API keys" (Admin settings > Authentication),
// X-API-Key. Its tables are the warehouse's bi views as Metabase's sync
// would find them: their columns, no descriptions, no semantic types.
// Views it does not know before sync_schema appear after it, as a sync
// that ran later.
type fakeMetabase struct {
	key     string
	mu      sync.Mutex
	tables  []metabase.Table
	pending []metabase.Table // shown after sync_schema
	puts    []string
	synced  int
}

func (f *fakeMetabase) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") != f.key {
		http.Error(w, `{"message":"Unauthenticated"}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/database":
		json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"id": 1, "name": "Sample Database"}, {"id": 7, "name": "engage"}}, "total": 2})
	case r.Method == "POST" && len(parts) == 4 && parts[1] == "database" && parts[3] == "sync_schema" && parts[2] == "7":
		f.synced++
		f.tables = append(f.tables, f.pending...)
		f.pending = nil
		json.NewEncoder(w).Encode(map[string]any{"status": "ok"})
	case r.Method == "GET" && len(parts) == 4 && parts[1] == "database" && parts[3] == "metadata" && parts[2] == "7":
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "name": "engage", "tables": f.tables})
	case r.Method == "PUT" && len(parts) == 3 && (parts[1] == "table" || parts[1] == "field"):
		id, _ := strconv.Atoi(parts[2])
		var body map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `{"message":"bad json"}`, http.StatusBadRequest)
			return
		}
		if !f.update(parts[1], id, body) {
			http.Error(w, `{"message":"Not found."}`, http.StatusNotFound)
			return
		}
		f.puts = append(f.puts, parts[1]+"/"+parts[2])
		json.NewEncoder(w).Encode(map[string]any{"id": id})
	default:
		http.Error(w, `{"message":"API endpoint does not exist."}`, http.StatusNotFound)
	}
}

func (f *fakeMetabase) update(kind string, id int, body map[string]json.RawMessage) bool {
	for ti := range f.tables {
		t := &f.tables[ti]
		if kind == "table" && t.ID == id {
			var d string
			json.Unmarshal(body["description"], &d)
			t.Description = &d
			return true
		}
		for fi := range t.Fields {
			fl := &t.Fields[fi]
			if kind != "field" || fl.ID != id {
				continue
			}
			if v, ok := body["description"]; ok {
				var d string
				json.Unmarshal(v, &d)
				fl.Description = &d
			}
			if v, ok := body["semantic_type"]; ok {
				var s string
				json.Unmarshal(v, &s)
				fl.SemanticType = &s
			}
			if v, ok := body["fk_target_field_id"]; ok {
				var n int
				json.Unmarshal(v, &n)
				fl.FKTargetFieldID = &n
			}
			return true
		}
	}
	return false
}

func (f *fakeMetabase) field(view, column string) metabase.Field {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tables {
		for _, fl := range t.Fields {
			if t.Name == view && fl.Name == column {
				return fl
			}
		}
	}
	return metabase.Field{}
}

// newFake builds the fake's tables from the warehouse's bi views (and one
// table of another schema, which must be left alone); the views named in
// late appear only after a schema sync.
func newFake(t *testing.T, store *load.Store, late ...string) *fakeMetabase {
	t.Helper()
	rows, err := store.Pool().Query(context.Background(), `SELECT table_schema, table_name, column_name FROM information_schema.columns
WHERE table_schema IN ('bi', 'engage') AND table_name IN (SELECT table_name FROM information_schema.views WHERE table_schema = 'bi') OR (table_schema = 'engage' AND table_name = 'dim_tenant')
ORDER BY table_schema, table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f := &fakeMetabase{key: "mb_test_key_s3cret"}
	byName := map[string]*metabase.Table{}
	var order []string
	id := 100
	for rows.Next() {
		var schema, table, column string
		if err := rows.Scan(&schema, &table, &column); err != nil {
			t.Fatal(err)
		}
		name := schema + "." + table
		if byName[name] == nil {
			id++
			byName[name] = &metabase.Table{ID: id, Schema: schema, Name: table}
			order = append(order, name)
		}
		id++
		byName[name].Fields = append(byName[name].Fields, metabase.Field{ID: id, Name: column})
	}
	for _, name := range order {
		if slices.Contains(late, name) {
			f.pending = append(f.pending, *byName[name])
		} else {
			f.tables = append(f.tables, *byName[name])
		}
	}
	return f
}

func comments(t *testing.T, store *load.Store) metabase.Comments {
	t.Helper()
	views, columns, err := store.BIComments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := metabase.Comments{Views: views, Columns: map[metabase.Ref]string{}}
	for k, v := range columns {
		c.Columns[metabase.Ref{View: k[0], Column: k[1]}] = v
	}
	return c
}

// TestKeysLinksAndDescriptionsReachMetabaseOnce: against a fake of the
// documented endpoints (it has not run against a live Metabase), the
// command finds the database by name, syncs the schema so a view Metabase
// did not know yet appears, sets the entity keys, the foreign keys with
// their targets and every view's and column's comment; run again it sends
// nothing; a changed comment is sent, alone; a table of another schema is
// never touched; a wrong key fails naming the fix, without the key.
func TestKeysLinksAndDescriptionsReachMetabaseOnce(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	store, err := load.Open(ctx, testdb.Migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	fake := newFake(t, store, "bi.service_level")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client, err := metabase.New(srv.URL, fake.key)
	if err != nil {
		t.Fatal(err)
	}
	opt := metabase.Options{SyncSchema: true, Wait: 5 * time.Second, Poll: 10 * time.Millisecond}
	cm := comments(t, store)

	res, err := metabase.Apply(ctx, client, "engage", cm, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Database != 7 || fake.synced != 1 {
		t.Errorf("database %d, schema syncs %d: want database 7 (\"engage\"), one sync", res.Database, fake.synced)
	}
	for _, k := range metabase.EntityKeys {
		if f := fake.field(k.View, k.Column); f.SemanticType == nil || *f.SemanticType != "type/PK" {
			t.Errorf("%s: semantic type %v, want type/PK", k, f.SemanticType)
		}
	}
	for from, to := range metabase.ForeignKeys {
		f, target := fake.field(from.View, from.Column), fake.field(to.View, to.Column)
		if f.SemanticType == nil || *f.SemanticType != "type/FK" || f.FKTargetFieldID == nil || *f.FKTargetFieldID != target.ID {
			t.Errorf("%s: semantic type %v, target %v; want type/FK to field %d (%s)", from, f.SemanticType, f.FKTargetFieldID, target.ID, to)
		}
	}
	for ref, want := range cm.Columns {
		if f := fake.field(ref.View, ref.Column); f.Description == nil || *f.Description != want {
			t.Errorf("%s: description %v, want the comment %q", ref, f.Description, want)
		}
	}
	if got := fake.field("service_level", "service_level"); got.Description == nil {
		t.Errorf("bi.service_level, which Metabase showed only after the sync, got no descriptions")
	}
	for _, tb := range fake.tables {
		if tb.Schema == "bi" && (tb.Description == nil || *tb.Description != cm.Views[tb.Name]) {
			t.Errorf("view bi.%s: description %v, want its comment", tb.Name, tb.Description)
		}
		if tb.Schema != "bi" && tb.Description != nil {
			t.Errorf("%s.%s is not a bi view, yet got a description", tb.Schema, tb.Name)
		}
	}
	first := len(fake.puts)
	if first < len(cm.Columns) {
		t.Errorf("%d updates for %d commented columns", first, len(cm.Columns))
	}

	again, err := metabase.Apply(ctx, client, "engage", cm, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.FieldsUpdated)+len(again.TablesUpdated) != 0 || len(fake.puts) != first {
		t.Errorf("a second run updated %v %v: want nothing", again.TablesUpdated, again.FieldsUpdated)
	}

	if _, err := store.Pool().Exec(ctx, `COMMENT ON COLUMN bi.backlog.open_conversations IS 'Open at midnight, as of the last sync.'`); err != nil {
		t.Fatal(err)
	}
	changed, err := metabase.Apply(ctx, client, "engage", comments(t, store), opt)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(changed.FieldsUpdated) != "[bi.backlog.open_conversations]" || len(changed.TablesUpdated) != 0 {
		t.Errorf("after one comment changed, updated %v %v: want only bi.backlog.open_conversations", changed.TablesUpdated, changed.FieldsUpdated)
	}
	if f := fake.field("backlog", "open_conversations"); f.Description == nil || *f.Description != "Open at midnight, as of the last sync." {
		t.Errorf("the changed comment did not reach Metabase: %v", f.Description)
	}

	wrong, _ := metabase.New(srv.URL, "mb_wrong_key_0123456789")
	_, err = metabase.Apply(ctx, wrong, "engage", cm, opt)
	if err == nil || !strings.Contains(err.Error(), "METABASE_API_KEY") || strings.Contains(err.Error(), "mb_wrong_key_0123456789") {
		t.Errorf("a wrong key: %v; want an error naming METABASE_API_KEY, without the key", err)
	}
	if _, err := metabase.Apply(ctx, client, "warehouse", cm, opt); err == nil || !strings.Contains(err.Error(), `"engage"`) {
		t.Errorf("an unknown database name: %v; want an error listing the names Metabase has", err)
	}
}
