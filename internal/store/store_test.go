package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

func TestMigrateIsSafeTwiceAndConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// storetest already migrated once; again, from several goroutines.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ran, err := s.Migrate(ctx)
				if err == nil && len(ran) > 0 {
					t.Errorf("second migrate applied %v again", ran)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		pending, err := s.Pending(ctx)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after migrate: %v, %v", pending, err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
		if n := storetest.Count(t, s.DB, "schema_migrations"); n == 0 {
			t.Fatal("no versions recorded")
		}
	})
}

func TestFreshDatabaseIsNotReady(t *testing.T) {
	s, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(context.Background()); err == nil {
		t.Fatal("an unmigrated database said it was ready")
	}
	ran, err := s.Migrate(context.Background())
	if err != nil || len(ran) == 0 {
		t.Fatalf("migrate: %v %v", ran, err)
	}
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesUnknownURL(t *testing.T) {
	if _, err := store.Open(context.Background(), store.Options{DatabaseURL: "mysql://x"}); err == nil {
		t.Fatal("mysql URL accepted")
	}
}
