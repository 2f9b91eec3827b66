package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// A tenant and an API key of it; a second key with the same hash, or a
// tenant with the same id, is a unique-key conflict in either database.
func TestUniqueConflictIsRecognisedAndOtherErrorsAreNot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Now().UTC()
		id := uuid.NewString()
		addTenant := func(id string) error {
			return s.DB.Exec(`INSERT INTO tenants (id, name, timezone, currency, created_at, updated_at) VALUES (?, 'Acme', 'UTC', 'EUR', ?, ?)`,
				id, now, now).Error
		}
		addKey := func(hash string) error {
			return s.DB.Exec(`INSERT INTO api_keys (tenant_id, role, prefix, key_hash, created_at) VALUES (?, 'admin', 'rl_', ?, ?)`,
				id, hash, now).Error
		}
		if err := addTenant(id); err != nil {
			t.Fatal(err)
		}
		if err := addKey("h1"); err != nil {
			t.Fatal(err)
		}

		if err := addTenant(id); !store.IsUniqueViolation(err) {
			t.Errorf("same tenant id twice: %v, not a unique conflict", err)
		}
		if err := addKey("h1"); !store.IsUniqueViolation(err) {
			t.Errorf("same key hash twice: %v, not a unique conflict", err)
		}
		err := s.DB.Exec(`INSERT INTO api_keys (tenant_id, role, prefix, key_hash, created_at) VALUES (?, 'owner', 'rl_', 'h2', ?)`, id, now).Error
		if err == nil || store.IsUniqueViolation(err) {
			t.Errorf("a role the check refuses: %v, want an error that is no unique conflict", err)
		}
		if store.IsUniqueViolation(nil) || store.IsUniqueViolation(errors.New("UNIQUE")) {
			t.Error("no error, or a plain one, taken for a unique conflict")
		}
	})
}

// The file keeps times as text in one form, the one it was written in from
// the start: what an older routeloop wrote reads back as the same instant,
// and what is written now sorts among it as text.
func TestSQLiteStoresTimesAsTheFileAlwaysHas(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	at := time.Date(2024, 3, 5, 10, 11, 12, 123456000, time.UTC)
	add := func(id string, created any) {
		t.Helper()
		if err := s.DB.Exec(`INSERT INTO tenants (id, name, timezone, currency, created_at, updated_at) VALUES (?, 'Acme', 'UTC', 'EUR', ?, ?)`,
			id, created, created).Error; err != nil {
			t.Fatal(err)
		}
	}
	add("now", at)
	add("older-whole-second", "2024-03-05 10:11:12+00:00")
	add("older-later", "2024-03-05 10:11:12.5+00:00")

	var text string
	if err := s.DB.Raw(`SELECT CAST(created_at AS TEXT) FROM tenants WHERE id = 'now'`).Scan(&text).Error; err != nil {
		t.Fatal(err)
	}
	if want := "2024-03-05 10:11:12.123456+00:00"; text != want {
		t.Errorf("stored %q, want %q", text, want)
	}

	var rows []struct {
		ID        string
		CreatedAt time.Time
	}
	if err := s.DB.Raw(`SELECT id, created_at FROM tenants ORDER BY created_at`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id string
		at time.Time
	}{
		{"older-whole-second", at.Truncate(time.Second)},
		{"now", at},
		{"older-later", at.Truncate(time.Second).Add(500 * time.Millisecond)},
	}
	if len(rows) != len(want) {
		t.Fatalf("read %d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].ID != w.id || !rows[i].CreatedAt.Equal(w.at) {
			t.Errorf("row %d: %s at %v, want %s at %v", i, rows[i].ID, rows[i].CreatedAt, w.id, w.at)
		}
	}
}

// Every connection of the pool has the settings the store relies on, and a
// transaction takes the write lock when it begins: a second one waits at
// BEGIN while the first holds it, before either has written anything.
func TestSQLiteConnectionsWaitForTheWriterAtBegin(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	sqlDB, err := s.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	first, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Rollback() }()

	second, err := sqlDB.Conn(ctx) // another connection: the first is held by the transaction
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "1"} {
		var got string
		if err := second.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	started := time.Now()
	tx, err := second.BeginTx(short, nil)
	if err == nil {
		_ = tx.Rollback()
		t.Fatal("a second transaction began while the first held the write lock")
	}
	if waited := time.Since(started); waited < 250*time.Millisecond {
		t.Errorf("the second transaction gave up after %v instead of waiting (%v)", waited, err)
	}
}
