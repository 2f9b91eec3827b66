package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/migrations"
)

// migration is one numbered SQL file.
type migration struct {
	Version int
	Name    string
	SQL     string
}

func (s *Store) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations.FS, s.Dialect)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %s must start with a number and an underscore", name)
		}
		body, err := fs.ReadFile(migrations.FS, s.Dialect+"/"+name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("store: two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

const createVersions = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)`

func applied(tx *gorm.DB) (map[int]bool, error) {
	var versions []int
	if err := tx.Raw(`SELECT version FROM schema_migrations`).Scan(&versions).Error; err != nil {
		return nil, err
	}
	done := make(map[int]bool, len(versions))
	for _, v := range versions {
		done[v] = true
	}
	return done, nil
}

// Pending lists the migrations not yet applied.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	all, err := s.migrations()
	if err != nil {
		return nil, err
	}
	db := s.DB.WithContext(ctx)
	if !db.Migrator().HasTable("schema_migrations") {
		names := make([]string, len(all))
		for i, m := range all {
			names[i] = m.Name
		}
		return names, nil
	}
	done, err := applied(db)
	if err != nil {
		return nil, fmt.Errorf("store: read schema version: %w", err)
	}
	var names []string
	for _, m := range all {
		if !done[m.Version] {
			names = append(names, m.Name)
		}
	}
	return names, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the names it applied. It is safe to run twice and from several
// processes at once: on Postgres an advisory lock serialises migrators (per
// schema), on SQLite the immediate write transaction does.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	all, err := s.migrations()
	if err != nil {
		return nil, err
	}
	var ran []string
	err = s.DB.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		if s.Dialect == Postgres {
			if err := conn.Exec(`SELECT pg_advisory_lock(hashtext('routeloop.migrate.' || current_schema()))`).Error; err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
			defer conn.Exec(`SELECT pg_advisory_unlock(hashtext('routeloop.migrate.' || current_schema()))`)
		}
		if err := conn.Exec(createVersions).Error; err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		for _, m := range all {
			err := conn.Transaction(func(tx *gorm.DB) error {
				done, err := applied(tx) // re-read under the lock
				if err != nil {
					return err
				}
				if done[m.Version] {
					return nil
				}
				if err := tx.Exec(m.SQL).Error; err != nil {
					return fmt.Errorf("apply %s: %w", m.Name, err)
				}
				if err := tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
					m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)).Error; err != nil {
					return fmt.Errorf("record %s: %w", m.Name, err)
				}
				ran = append(ran, m.Name)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ran, fmt.Errorf("store: migrate: %w", err)
	}
	return ran, nil
}
