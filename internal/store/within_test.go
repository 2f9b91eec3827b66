package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"gorm.io/gorm"
)

// A write made through a context carrying a transaction (store.Within)
// commits or rolls back with that transaction; a failed inner Tx undoes
// only its own writes.
func TestTxWithinJoinsTheCarriedTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.DB.Exec(`CREATE TABLE within_probe (name TEXT PRIMARY KEY)`).Error; err != nil {
			t.Fatal(err)
		}
		names := func() []string {
			var got []string
			if err := s.DB.Raw(`SELECT name FROM within_probe ORDER BY name`).Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			return got
		}
		put := func(ctx context.Context, name string) error {
			return s.Tx(ctx, func(tx *gorm.DB) error {
				return tx.Exec(`INSERT INTO within_probe (name) VALUES (?)`, name).Error
			})
		}
		refused := errors.New("refused")
		outer := s.Tx(ctx, func(tx *gorm.DB) error {
			in := store.Within(ctx, tx)
			if err := put(in, "kept"); err != nil {
				return err
			}
			// An inner Tx that fails leaves the outer one usable and its
			// earlier write in place, on PostgreSQL too (a savepoint).
			err := s.Tx(in, func(tx *gorm.DB) error {
				if err := tx.Exec(`INSERT INTO within_probe (name) VALUES (?)`, "undone").Error; err != nil {
					return err
				}
				return refused
			})
			if !errors.Is(err, refused) {
				t.Fatalf("inner Tx = %v, want its own error", err)
			}
			if err := put(in, "kept"); !store.IsUniqueViolation(err) {
				t.Fatalf("a duplicate inside = %v, want a unique violation", err)
			}
			var n int64
			if err := s.Conn(in).Raw(`SELECT COUNT(*) FROM within_probe`).Scan(&n).Error; err != nil || n != 1 {
				t.Fatalf("Conn inside sees %d rows (%v), want the one written inside", n, err)
			}
			return put(in, "later")
		})
		if outer != nil {
			t.Fatal(outer)
		}
		if got := names(); len(got) != 2 || got[0] != "kept" || got[1] != "later" {
			t.Fatalf("after commit: %v, want [kept later]", got)
		}
		// The outer transaction rolled back takes the inner writes with it.
		err := s.Tx(ctx, func(tx *gorm.DB) error {
			if err := put(store.Within(ctx, tx), "gone"); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatal(err)
		}
		if got := names(); len(got) != 2 {
			t.Fatalf("after rollback: %v, want the two committed before", got)
		}
		// Without a carried transaction Conn is the pool.
		if s.Conn(ctx).Statement.ConnPool != s.DB.Statement.ConnPool {
			t.Fatal("Conn without a transaction is not the pool")
		}
	})
}
