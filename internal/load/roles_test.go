package load_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// superExec runs statements as the test server's (superuser) account on dsn.
func superExec(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func randomName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func asUser(dsn, user string) string {
	u, _ := url.Parse(dsn)
	u.User = url.User(user)
	return u.String()
}

// ownedWarehouse is an empty database owned by a new login role without
// superuser rights (with CREATEROLE when asked), and its URL as that role.
// Roles outlive databases: the role is dropped after the database.
func ownedWarehouse(t *testing.T, createRole bool) (ownerDSN, adminDSN, owner string) {
	t.Helper()
	owner = randomName("owner_")
	server := strings.TrimSpace(testdbServer(t))
	attrs := "LOGIN NOSUPERUSER NOCREATEDB"
	if createRole {
		attrs += " CREATEROLE"
	}
	superExec(t, server, "CREATE ROLE "+owner+" "+attrs)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP ROLE IF EXISTS "+owner)
	})
	adminDSN = testdb.New(t) // dropped before the role: cleanups run last first
	u, _ := url.Parse(adminDSN)
	superExec(t, adminDSN, "ALTER DATABASE "+strings.TrimPrefix(u.Path, "/")+" OWNER TO "+owner)
	return asUser(adminDSN, owner), adminDSN, owner
}

// testdbServer is the server's own URL (its postgres database).
func testdbServer(t *testing.T) string {
	dsn := testdb.New(t)
	u, _ := url.Parse(dsn)
	u.Path = "/postgres"
	return u.String()
}

func migrateAs(t *testing.T, dsn string) (*load.Store, *load.Migrator) {
	t.Helper()
	s, err := load.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	m, err := s.NewMigrator()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return s, m
}

func checkVersion(t *testing.T, m *load.Migrator, want uint) {
	t.Helper()
	v, dirty, err := m.Version()
	if err != nil || dirty || v != want {
		t.Fatalf("version %d dirty %v (%v), want %d clean", v, dirty, err, want)
	}
}

func TestOwnerWithoutSuperuserMigratesUpAndDown(t *testing.T) {
	for _, createRole := range []bool{true, false} {
		t.Run(map[bool]string{true: "CREATEROLE", false: "NOCREATEROLE"}[createRole], func(t *testing.T) {
			ctx := context.Background()
			ownerDSN, adminDSN, owner := ownedWarehouse(t, createRole)
			s, m := migrateAs(t, ownerDSN)
			if err := m.Up(); err != nil {
				t.Fatalf("migrate up as %s: %v", owner, err)
			}
			checkVersion(t, m, load.LatestVersion())
			reader, err := s.GrantReader(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var exists bool
			s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = etl.reader_role())`).Scan(&exists)
			if createRole {
				if !reader.Granted || !exists || reader.Advice() != "" {
					t.Errorf("with CREATEROLE: %+v, role exists %v; want it created and granted", reader, exists)
				}
			} else {
				if reader.Granted || exists {
					t.Errorf("without CREATEROLE: %+v, role exists %v; want it missing", reader, exists)
				}
				want := "CREATE ROLE " + reader.Name + " NOLOGIN;"
				if !strings.Contains(reader.Advice(), want) || !strings.Contains(reader.Advice(), "migrate up") {
					t.Errorf("advice %q does not say %q and to migrate again", reader.Advice(), want)
				}
				// The administrator runs the advice; the next migrate up grants.
				superExec(t, adminDSN, want)
				if reader, err = s.GrantReader(ctx); err != nil || !reader.Granted {
					t.Fatalf("after the administrator created the role: %+v, %v", reader, err)
				}
			}
			login := randomName("bi_")
			superExec(t, adminDSN, "CREATE ROLE "+login+" LOGIN IN ROLE "+reader.Name)
			t.Cleanup(func() { superExec(t, testdbServer(t), "DROP ROLE IF EXISTS "+login) })
			bi, err := pgx.Connect(ctx, asUser(adminDSN, login))
			if err != nil {
				t.Fatal(err)
			}
			defer bi.Close(ctx)
			var n int
			if err := bi.QueryRow(ctx, `SELECT count(*) FROM engage.dim_customer`).Scan(&n); err != nil {
				t.Errorf("a login in %s cannot read its warehouse: %v", reader.Name, err)
			}

			if err := m.Down(0); err != nil {
				t.Fatalf("migrate down as %s: %v", owner, err)
			}
			checkVersion(t, m, 0)
			if err := m.Up(); err != nil {
				t.Fatalf("migrate up again: %v", err)
			}
			checkVersion(t, m, load.LatestVersion())
		})
	}
}

func TestReaderRoleOfOneWarehouseCannotReadAnother(t *testing.T) {
	ctx := context.Background()
	a, b := newStore(t), newStore(t)
	var roleA string
	a.Pool().QueryRow(ctx, `SELECT etl.reader_role()`).Scan(&roleA)
	login := randomName("bi_")
	superExec(t, testdbServer(t), "CREATE ROLE "+login+" LOGIN IN ROLE "+roleA)
	t.Cleanup(func() { superExec(t, testdbServer(t), "DROP ROLE IF EXISTS "+login) })
	// A login in the old shared role too, where it exists.
	var shared bool
	a.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'engage_reader')`).Scan(&shared)
	if shared {
		superExec(t, testdbServer(t), "GRANT engage_reader TO "+login)
	}
	inA := connectAs(t, a, login)
	var n int
	if err := inA.QueryRow(ctx, `SELECT count(*) FROM engage.dim_customer`).Scan(&n); err != nil {
		t.Fatalf("reader of A cannot read A: %v", err)
	}
	inB := connectAs(t, b, login)
	for _, q := range []string{`SELECT count(*) FROM engage.dim_customer`, `SELECT count(*) FROM bi.conversations`} {
		err := inB.QueryRow(ctx, q).Scan(&n)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("reader of A in B: %s: %v, want permission denied", q, err)
		}
	}
}

func connectAs(t *testing.T, s *load.Store, user string) *pgx.Conn {
	t.Helper()
	cfg := s.Pool().Config().ConnConfig.Copy()
	cfg.User = user
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestReaderRoleNames(t *testing.T) {
	s := newStore(t)
	name := func(db string) string {
		var r string
		if err := s.Pool().QueryRow(context.Background(), `SELECT etl.reader_role($1)`, db).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for db, want := range map[string]string{"engage": "engage_reader", "engage_demo": "engage_demo_reader", "wh2": "wh2_reader"} {
		if got := name(db); got != want {
			t.Errorf("reader role of %q = %q, want %q", db, got, want)
		}
	}
	seen := map[string]string{}
	for _, db := range []string{"a-b", "a_b", "A_b", "Warehouse", "lager ü", "lager_ü", "1st", `we"ird`,
		strings.Repeat("x", 56), strings.Repeat("x", 57), strings.Repeat("y", 63) + "1", strings.Repeat("y", 63) + "2"} {
		r := name(db)
		if len(r) > 63 || !strings.HasSuffix(r, "_reader") || strings.Trim(r, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("reader role of %q = %q: want at most 63 bytes of a-z 0-9 _ ending in _reader", db, r)
		}
		if other, dup := seen[r]; dup {
			t.Errorf("%q and %q share the reader role %q", db, other, r)
		}
		seen[r] = db
	}
}
