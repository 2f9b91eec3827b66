package ledger

import (
	"fmt"
	"testing"
)

// The keys read back without fmt are the keys fmt read: the ones syncKey
// and rewardKey write, and odd ones as before.
func TestParseKeyReadsWhatFmtRead(t *testing.T) {
	keys := []string{syncKey(42, 7), syncKey(0, 1), syncKey(-3, 9_000_000_000), rewardKey(3), rewardKey(0),
		"sync:1", "sync:a:b", "sync:1:2x", "sync: 1:2", "reward:", "reward:x", "reward:5x", "visit:3", "", "sync:1:2:3"}
	for _, k := range keys {
		kind, a, b, ok := parseKey(k)
		var wa, wb int64
		var wkind string
		var werr error
		switch {
		case len(k) >= 5 && k[:5] == "sync:":
			_, werr = fmt.Sscanf(k, "sync:%d:%d", &wa, &wb)
			wkind = KindSyncDiscount
		case len(k) >= 7 && k[:7] == "reward:":
			_, werr = fmt.Sscanf(k, "reward:%d", &wa)
			wkind = KindReward
		default:
			werr = fmt.Errorf("no kind")
		}
		if ok != (werr == nil) || (ok && (kind != wkind || a != wa || b != wb)) {
			t.Errorf("%q: got %s %d %d %v, fmt read %s %d %d %v", k, kind, a, b, ok, wkind, wa, wb, werr)
		}
	}
}
