package outbox

import (
	"context"
	"fmt"
)

// Pending counts the deliveries of every tenant not yet delivered: waiting
// for their first attempt or for a retry.
func (w *Worker) Pending(ctx context.Context) (int64, error) {
	var n int64
	if err := w.store.DB.WithContext(ctx).Raw(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	return n, nil
}
