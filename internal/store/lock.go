package store

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// localLocks serialise named jobs inside one process (SQLite: one process
// owns the file).
var localLocks sync.Map // name -> *sync.Mutex

// TryLock runs fn only if no other holder of the named lock is running it:
// across every replica on Postgres (a session advisory lock), within this
// process on SQLite. ran is false when someone else holds it.
func (s *Store) TryLock(ctx context.Context, name string, fn func() error) (ran bool, err error) {
	if s.Dialect != Postgres {
		m, _ := localLocks.LoadOrStore(name, &sync.Mutex{})
		mu := m.(*sync.Mutex)
		if !mu.TryLock() {
			return false, nil
		}
		defer mu.Unlock()
		return true, fn()
	}
	err = s.DB.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		var got bool
		if err := conn.Raw(`SELECT pg_try_advisory_lock(hashtext(?))`, name).Scan(&got).Error; err != nil {
			return fmt.Errorf("take lock %s: %w", name, err)
		}
		if !got {
			return nil
		}
		defer conn.Exec(`SELECT pg_advisory_unlock(hashtext(?))`, name)
		ran = true
		return fn()
	})
	return ran, err
}
