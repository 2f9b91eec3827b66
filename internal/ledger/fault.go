package ledger

import "sync/atomic"

// FaultHook, when set, is called at named points of a money write — after
// the fact is stored and before its consequences are worked out — and an
// error it returns aborts the write there, as a crash would. It exists so a
// test can prove that such an abort loses nothing and half-saves nothing:
// tests Store a function (and nil to remove it); nothing else sets it.
var FaultHook atomic.Pointer[func(point string) error]

// Fault points.
const (
	// PointRefresh is the start of re-filling a customer's drafts, inside
	// the transaction of the write that made it necessary.
	PointRefresh = "refresh"
)

func fault(point string) error {
	if fn := FaultHook.Load(); fn != nil {
		return (*fn)(point)
	}
	return nil
}
