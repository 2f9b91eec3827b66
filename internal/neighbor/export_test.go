package neighbor

import (
	"context"
	"testing"
	"time"
)

// NearbyFromDatabase is Nearby answered by the database alone.
func (s *Service) NearbyFromDatabase(ctx context.Context, tenantID, ext string, radiusM, limit int) ([]Nearby, error) {
	return s.nearbyFromDatabase(s.store.DB.WithContext(ctx), tenantID, ext, radiusM, limit)
}

// NearbyFromCopy is Nearby answered from the tenant's copy in memory; ok
// is false when the copy could not answer.
func (s *Service) NearbyFromCopy(ctx context.Context, tenantID, ext string, radiusM, limit int) ([]Nearby, bool, error) {
	return s.nearbyFromCopy(s.store.DB.WithContext(ctx), tenantID, ext, radiusM, limit)
}

// WaitNearbyCopy starts loading the tenant's copy and waits until it is
// there.
func (s *Service) WaitNearbyCopy(tb testing.TB, tenantID string) {
	tb.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, cp := s.nearby.get(tenantID); cp != nil {
			return
		}
	}
	tb.Fatalf("the nearby copy of tenant %s did not load", tenantID)
}

// HasNearbyCopy says whether the tenant's copy is held.
func (s *Service) HasNearbyCopy(tenantID string) bool {
	s.nearby.mu.Lock()
	defer s.nearby.mu.Unlock()
	e := s.nearby.tenants[tenantID]
	return e != nil && e.cur.Load() != nil
}
