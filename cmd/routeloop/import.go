package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/routeloop/routeloop/internal/app"
	"github.com/routeloop/routeloop/internal/webhook"
)

// cmdImport loads a CSV export of the scheduler (customers, crews, visits or
// invoices) through the same writes as the API. Good rows are loaded even
// when some fail; the failed ones are listed and the exit is non-zero.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sf := newFlags("import", stdout, stderr, "data_dir", "database_url")
	tenantID := sf.fs.String("tenant", "", "tenant id (required)")
	file := sf.fs.String("file", "", "CSV file whose header row names the columns (required)")
	kind := sf.fs.String("type", "", "customers, crews, visits or invoices (default: from the file name)")
	if err := sf.parse(args); err != nil {
		return err
	}
	if *tenantID == "" || *file == "" {
		return errors.New("import: --tenant and --file are required")
	}
	if *kind == "" {
		if *kind = webhook.CSVKindOf(*file); *kind == "" {
			return fmt.Errorf("import: cannot tell the kind of %s from its name; give --type customers, crews, visits or invoices", *file)
		}
	}
	if _, ok := webhook.CSVColumns[*kind]; !ok {
		return fmt.Errorf("import: --type must be customers, crews, visits or invoices, not %q", *kind)
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	log, flush := app.NewLogger(cfg, stderr)
	defer flush()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	name := filepath.Base(*file)
	prog := newProgress(stderr, name, "rows")
	rep, err := a.Webhooks.ImportCSV(ctx, *tenantID, *kind, f, prog.update)
	prog.finish()
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s: %d rows, %d %s: %d created, %d updated, %d unchanged (older than stored), %d failed\n",
		name, rep.Rows, rep.Objects, rep.Kind, rep.Created, rep.Updated, rep.Stale, rep.Failed)
	if rep.Failed == 0 {
		return nil
	}
	lines := make([]string, len(rep.Errors))
	for i, e := range rep.Errors {
		lines[i] = e.String()
		fmt.Fprintln(stdout, "  "+lines[i])
	}
	return fmt.Errorf("import %s: %d of %d %s failed (the others were loaded): %s", name, rep.Failed, rep.Objects, rep.Kind, strings.Join(lines, "; "))
}

// progress shows a long command's progress (an import's rows, a
// reconciliation's days): a bar on a terminal, a plain line every few
// seconds (and at the end) elsewhere.
type progress struct {
	w    io.Writer
	name string
	unit string
	bar  *progressbar.ProgressBar
	last time.Time
	done int
}

func newProgress(w io.Writer, name, unit string) *progress {
	return &progress{w: w, name: name, unit: unit, last: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *progress) update(done, total int) {
	p.done = done
	if p.bar == nil && isTerminal(p.w) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.name),
			progressbar.OptionShowCount(), progressbar.OptionSetItsString(p.unit), progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	if p.bar != nil {
		_ = p.bar.Set(done)
		return
	}
	if done == total || time.Since(p.last) >= 2*time.Second {
		fmt.Fprintf(p.w, "%s: %d/%d %s\n", p.name, done, total, p.unit)
		p.last = time.Now()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
