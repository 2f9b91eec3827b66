package ledger

// SetReconcileBatch makes a day's reconciliation refresh n customers per
// transaction until restore is called: the model test's days, a few
// customers each, then run in several batches side by side as a busy
// day's do.
func SetReconcileBatch(n int) (restore func()) {
	was := reconcileBatch
	reconcileBatch = n
	return func() { reconcileBatch = was }
}
