package webhook

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/routeloop/routeloop/internal/store"
)

// AnalyzeAfter is how many objects an import (a CSV file, a sync batch)
// must have written (created or updated) before it refreshes the planner's
// statistics of the tables it filled. PostgreSQL's autovacuum analyzes a
// table only after 50 rows plus 10% of it changed, and only at its next
// round (a minute apart by default): right after a first large import the
// planner still plans with the statistics of a nearly empty table (a
// sequential scan of the visit list; p99 867 ms under mixed load). ANALYZE
// reads a sample (at most 30,000 rows at the default statistics target),
// tens of milliseconds: against an import of a thousand Put calls that is
// little, and below that a stale estimate is off by too little to matter.
const AnalyzeAfter = 1000

// sqliteAnalysisLimit is how many rows of each index SQLite's ANALYZE
// reads at most: enough for the row estimates its planner uses.
const sqliteAnalysisLimit = 2000

// kindTables are the tables each kind of object is written to.
var kindTables = map[string][]string{
	KindCustomer: {"customers"},
	KindCrew:     {"crews", "crew_members"},
	KindVisit:    {"visits"},
	KindInvoice:  {"invoices", "invoice_lines"},
}

// analyzeImported refreshes the statistics of the tables of the kinds that
// written counts (objects written, by kind) when they are AnalyzeAfter or
// more in all. It runs after the import's writes, in statements of its
// own: ANALYZE of those tables, on SQLite with analysis_limit (PRAGMA
// optimize would not do: it analyzes only what its own connection has
// queried). It reports whether it did. A failure does not fail the
// import, whose objects are written: the statistics are then refreshed by
// autovacuum, as before.
func (s *Service) analyzeImported(ctx context.Context, written map[string]int) bool {
	total := 0
	var tables []string
	for kind, n := range written {
		if n == 0 {
			continue
		}
		total += n
		tables = append(tables, kindTables[kind]...)
	}
	if total < AnalyzeAfter || len(tables) == 0 {
		return false
	}
	sort.Strings(tables)
	q := "ANALYZE " + strings.Join(tables, ", ")
	if s.store.Dialect != store.Postgres {
		// One table per ANALYZE; analysis_limit bounds the rows it reads of
		// each index (SQLite would otherwise read them all).
		q = fmt.Sprintf("PRAGMA analysis_limit = %d; ANALYZE %s", sqliteAnalysisLimit, strings.Join(tables, "; ANALYZE "))
	}
	return s.store.DB.WithContext(ctx).Exec(q).Error == nil
}
