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

// HoldSecondConn takes the right of a reconciliation's read to a second
// connection until release is called: the reads then go on one.
func HoldSecondConn() (release func()) {
	secondConns <- struct{}{}
	return func() { <-secondConns }
}
