package mirror_test

import (
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/mirror"
	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"gorm.io/gorm"
)

// On PostgreSQL a scheduled visit of a customer without links is written
// under a share lock of the customer: a write holding the same share lock
// (another such visit of theirs, in a transaction not yet committed) does
// not hold it up, while a write of the customer's money does, and a link
// that write made sends the visit the long way, past the listeners.
func TestQuietVisitWritesOfOneCustomerGoSideBySideButWaitForItsMoney(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	w := newVisitWorld(t, s)
	w.customer(t, "ann", 41.9)
	var customerID int64
	if err := s.DB.Raw(`SELECT id FROM customers WHERE tenant_id = ? AND external_id = 'ann'`, w.tenant).Scan(&customerID).Error; err != nil {
		t.Fatal(err)
	}
	changes := 0
	w.a.Mirror.OnVisitChange(func(*gorm.DB, mirror.VisitChange) error { changes++; return nil })

	other := s.DB.Begin()
	if err := other.Exec(`SELECT id FROM customers WHERE id = ? FOR SHARE`, customerID).Error; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := w.visit("v1", "ann", mirror.VisitScheduled); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		other.Rollback()
		<-done
		t.Fatal("a quiet visit write waited for another quiet write's lock")
	}
	other.Rollback()
	if changes != 0 {
		t.Fatalf("a visit of a customer without links went past the listeners %d times", changes)
	}

	money := s.DB.Begin()
	if err := money.Exec(`UPDATE customers SET link_count = link_count + 1 WHERE id = ?`, customerID).Error; err != nil {
		t.Fatal(err)
	}
	go func() { _, _, err := w.visit("v2", "ann", mirror.VisitScheduled); done <- err }()
	select {
	case err := <-done:
		money.Rollback()
		t.Fatalf("a visit write did not wait for a write of its customer's money: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := money.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if changes != 1 {
		t.Fatalf("the visit written after the customer got a link went past the listeners %d times, want 1", changes)
	}
}
