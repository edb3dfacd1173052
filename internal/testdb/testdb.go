// Package testdb gives each test its own empty PostgreSQL database.
//
// The server comes from ENGAGE_ETL_TEST_DATABASE_URL (any database on it; the
// user must be allowed to create databases), else from a testcontainers
// PostgreSQL where a Docker engine runs. With neither the test fails, loudly:
// a test that needs the warehouse never passes by skipping.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
)

// EnvVar names the server to test against.
const EnvVar = "ENGAGE_ETL_TEST_DATABASE_URL"

var (
	serverOnce sync.Once
	serverDSN  string
	serverErr  error
)

// New creates a database for t, returns its connection string, and drops it
// when t ends.
func New(t testing.TB) string {
	t.Helper()
	return create(t, "template0")
}

// testServer returns the server's connection string, failing t without one.
func testServer(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() { serverDSN, serverErr = server() })
	if serverErr != nil {
		t.Fatalf("no PostgreSQL for tests: %v", serverErr)
	}
	return serverDSN
}

// create makes a database for t as a copy of template, dropped when t ends.
func create(t testing.TB, template string) string {
	t.Helper()
	testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, serverDSN)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close(ctx)

	b := make([]byte, 6)
	rand.Read(b)
	name := "engage_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, serverDSN)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		// Migrations create a reader role per database (etl.reader_role):
		// roles are cluster-wide and would outlive the database.
		if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+name+"_reader"); err != nil {
			t.Errorf("drop the reader role of %s: %v", name, err)
		}
	})
	return withDatabase(serverDSN, name)
}

func server() (string, error) {
	if dsn := os.Getenv(EnvVar); dsn != "" {
		return dsn, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := tcpostgres.Run(ctx, "postgres:16-alpine",
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.BasicWaitStrategies(),
	)
	if err != nil {
		return "", fmt.Errorf("%s is not set and no Docker engine could start one (%v); "+
			"set %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable, or run 'make test', which finds the local server",
			EnvVar, err, EnvVar)
	}
	_ = testcontainers.Container(c) // terminated by the Ryuk reaper when the test binary exits
	return c.ConnectionString(ctx, "sslmode=disable")
}

// withDatabase points a URL or key=value connection string at database name.
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return strings.TrimSpace(dsn) + " dbname=" + name
}
