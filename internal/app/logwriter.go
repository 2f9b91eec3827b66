package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logWriter buffers the process log and writes it out at most flushAfter
// after a line was logged, or at once when the buffer fills: one log line a
// request would otherwise cost one write to the terminal or file a request.
// Warnings and errors are written out at once (flushing handler).
type logWriter struct {
	mu         sync.Mutex
	w          *bufio.Writer
	flushAfter time.Duration
	timer      *time.Timer // set while lines wait
}

func newLogWriter(w io.Writer, flushAfter time.Duration) *logWriter {
	return &logWriter{w: bufio.NewWriterSize(w, 64<<10), flushAfter: flushAfter}
}

// Write takes one record (slog writes each in one call).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if l.timer == nil && l.w.Buffered() > 0 {
		l.timer = time.AfterFunc(l.flushAfter, func() { _ = l.Flush() })
	}
	return n, err
}

// Flush writes out what waits.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	return l.w.Flush()
}

// flushing writes out the buffer after each record at Warn or above.
type flushing struct {
	slog.Handler
	w *logWriter
}

func (h flushing) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushing) WithAttrs(as []slog.Attr) slog.Handler {
	return flushing{h.Handler.WithAttrs(as), h.w}
}

func (h flushing) WithGroup(name string) slog.Handler {
	return flushing{h.Handler.WithGroup(name), h.w}
}
