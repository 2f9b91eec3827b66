package app

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/config"
)

// lockedBuffer is the terminal the log goes to, read while it is written.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) read() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

// Info lines go out together within logFlushAfter; a warning goes out at
// once with every line before it; flush writes out the rest.
func TestTheLogIsWrittenInBatchesAndWarningsAtOnce(t *testing.T) {
	out := &lockedBuffer{}
	log, flush := NewLogger(config.Defaults(), out)
	for i := range 100 {
		log.Info("request", "n", i)
	}
	if got, _ := out.read(); got != "" {
		t.Fatalf("info lines written at once: %q", got)
	}
	deadline := time.Now().Add(5 * logFlushAfter)
	for {
		got, writes := out.read()
		if strings.Count(got, "msg=request") == 100 {
			if writes != 1 {
				t.Fatalf("100 lines in %d writes, want 1", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d lines out", 5*logFlushAfter, strings.Count(got, "msg=request"))
		}
		time.Sleep(logFlushAfter / 10)
	}

	log.Info("before the warning")
	log.With("job", "reconcile").Warn("slow")
	got, _ := out.read()
	if !strings.Contains(got, "before the warning") || !strings.Contains(got, "job=reconcile msg=slow") && !strings.Contains(got, "msg=slow job=reconcile") {
		t.Fatalf("a warning did not write itself and what waited: %q", got)
	}
	log.Debug("hidden")
	log.Info("last")
	flush()
	got, _ = out.read()
	if !strings.HasSuffix(got, "msg=last\n") || strings.Contains(got, "hidden") {
		t.Fatalf("after flush: %q", got[max(0, len(got)-200):])
	}
	// JSON goes the same way.
	cfg := config.Defaults()
	cfg.LogFormat = "json"
	out = &lockedBuffer{}
	log, flush = NewLogger(cfg, out)
	log.Error("broke", slog.Int("status", 500))
	if got, _ := out.read(); !strings.Contains(got, `"msg":"broke","status":500`) {
		t.Fatalf("an error in JSON: %q", got)
	}
	flush()
}
