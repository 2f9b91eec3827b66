// Package storetest opens throw-away, migrated databases for tests: a SQLite
// file in a temporary directory, and a fresh schema in the PostgreSQL named by
// ROUTELOOP_TEST_DATABASE_URL (default: the local "test" database). With
// CI=true an unreachable Postgres fails the test; elsewhere it skips with a
// hint on how to start it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/store"
)

// DefaultPostgresURL is used when ROUTELOOP_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the databases every storage test runs against: both,
// unless ROUTELOOP_TEST_DIALECTS names some (comma-separated). CI's pass
// under the race detector names postgres alone: the plain pass has run
// every test on both, and under the race detector SQLite's own engine
// (pure Go) spends most of the time while the code it would check for data
// races, routeloop's, is the same on both.
var Dialects = dialects(os.Getenv("ROUTELOOP_TEST_DIALECTS"))

func dialects(named string) []string {
	if strings.TrimSpace(named) == "" {
		return []string{store.SQLite, store.Postgres}
	}
	var out []string
	for _, d := range strings.Split(named, ",") {
		switch d = strings.TrimSpace(d); d {
		case store.SQLite, store.Postgres:
			out = append(out, d)
		default:
			panic(fmt.Sprintf("ROUTELOOP_TEST_DIALECTS: %q is not a database routeloop runs on (%s or %s)", d, store.SQLite, store.Postgres))
		}
	}
	return out
}

// RaceDetector is true in a test binary built with -race, where routeloop
// runs many times slower (SQLite's own engine, pure Go, most of all): the
// longest tests shrink under it to fit CI's time.
var RaceDetector = func() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}()

// Each runs fn once per dialect, as parallel-safe subtests, each with a fresh
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated store of the given dialect, removed when the
// test ends.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	switch dialect {
	case store.SQLite:
		return openSQLite(t)
	case store.Postgres:
		return openPostgres(t)
	}
	t.Fatalf("storetest: unknown dialect %q", dialect)
	return nil
}

func openSQLite(t testing.TB) *store.Store {
	s, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	migrate(t, s)
	return s
}

// PostgresURL is the server tests use.
func PostgresURL() string {
	if u := os.Getenv("ROUTELOOP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

func openPostgres(t testing.TB) *store.Store {
	u := FreshPostgresURL(t)
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: u, MaxOpenConns: 30})
	if err != nil {
		t.Fatalf("open postgres schema: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	migrate(t, s)
	return s
}

// FreshPostgresURL makes an empty schema in the test server and returns a
// URL whose search_path is that schema (for a routeloop process of the
// test's own); the schema is dropped when the test ends. An unreachable
// server skips the test, or fails it with CI=true.
func FreshPostgresURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	admin, err := store.Open(context.Background(), store.Options{DatabaseURL: base, MaxOpenConns: 2})
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable (%v). Start it with: "+
			"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, "+
			"or set ROUTELOOP_TEST_DATABASE_URL", base, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	schema := "t_" + randomHex(8)
	if err := admin.DB.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.DB.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func migrate(t testing.TB, s *store.Store) {
	t.Helper()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", s.Dialect, err)
	}
}

// Count returns the number of rows in table, for "nothing was stored" checks.
func Count(t testing.TB, db *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
