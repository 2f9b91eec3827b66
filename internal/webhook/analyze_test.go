package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
	"github.com/routeloop/routeloop/internal/webhook"
)

// tableStats is what PostgreSQL's statistics say of one table of the
// test's schema.
type tableStats struct {
	Analyzed      bool  // ANALYZE ran on it (not autovacuum)
	ModsSince     int64 // rows changed since it was last analyzed
	PlannerTuples int64 // the planner's row estimate (pg_class.reltuples)
}

func statsOf(t *testing.T, s *store.Store, table string) tableStats {
	t.Helper()
	var st tableStats
	err := s.DB.Raw(`SELECT u.last_analyze IS NOT NULL AS analyzed, u.n_mod_since_analyze AS mods_since,
			GREATEST(c.reltuples, 0)::bigint AS planner_tuples
		FROM pg_stat_user_tables u JOIN pg_class c ON c.oid = u.relid
		WHERE u.schemaname = current_schema() AND u.relname = ?`, table).Scan(&st).Error
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitAnalyzed reads a table's statistics until they say it was analyzed
// (the statistics another session reports reach this one within a second
// or so), or gives up after a while and returns the last reading.
func waitAnalyzed(t *testing.T, s *store.Store, table string) tableStats {
	t.Helper()
	var st tableStats
	for range 50 {
		if st = statsOf(t, s, table); st.Analyzed {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	return st
}

// A first large import leaves the planner knowing the tables' size: a CSV
// file of 1,000 customers, then a sync batch of 1,000 of their visits. A
// small import leaves statistics to autovacuum.
func TestALargeImportRefreshesThePlannersStatistics(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	f := newFixture(t, s)
	ctx := context.Background()
	n := webhook.AnalyzeAfter

	small := "external_id,name\nfew-1,Few One\nfew-2,Few Two\n"
	if rep, err := f.app.Webhooks.ImportCSV(ctx, f.greenway, "customers", strings.NewReader(small), nil); err != nil || rep.Created != 2 {
		t.Fatalf("small import: %+v %v", rep, err)
	}
	if st := statsOf(t, s, "customers"); st.Analyzed {
		t.Fatalf("a 2-row import analyzed customers: %+v", st)
	}

	var file strings.Builder
	file.WriteString("external_id,name,address\n")
	for i := range n {
		fmt.Fprintf(&file, "c%d,Customer %d,%d Elm St\n", i, i, i)
	}
	rep, err := f.app.Webhooks.ImportCSV(ctx, f.greenway, "customers", strings.NewReader(file.String()), nil)
	if err != nil || rep.Created != n {
		t.Fatalf("customers: %d created of %d, %v", rep.Created, n, err)
	}
	// (Rows changed since: a connection reports its last second of writes
	// later, perhaps after the ANALYZE; never the whole import.)
	if st := waitAnalyzed(t, s, "customers"); !st.Analyzed || st.ModsSince >= int64(n) || st.PlannerTuples < int64(n) {
		t.Fatalf("customers after importing %d: %+v, want analyzed, and >= %d rows planned", n, st, n)
	}

	in := webhook.BatchInput{}
	for i := range n {
		data, _ := json.Marshal(map[string]any{"customer_id": fmt.Sprintf("c%d", i), "service_date": "2026-05-05", "price_cents": 4500})
		in.Objects = append(in.Objects, webhook.BatchObject{Type: webhook.KindVisit, ExternalID: fmt.Sprintf("v%d", i), Data: data})
	}
	brep, err := f.app.Webhooks.ApplyBatch(ctx, webhook.Tenant{ID: f.greenway, Location: time.UTC, Currency: "USD"}, in)
	if err != nil || brep.Created != n {
		t.Fatalf("visits: %d created of %d (%d failed), %v", brep.Created, n, brep.Failed, err)
	}
	if st := waitAnalyzed(t, s, "visits"); !st.Analyzed || st.ModsSince >= int64(n) || st.PlannerTuples < int64(n) {
		t.Fatalf("visits after a batch of %d: %+v, want analyzed, and >= %d rows planned", n, st, n)
	}
}

// On SQLite a large import runs PRAGMA optimize, which analyzes the table
// it filled: sqlite_stat1 then holds its row count.
func TestALargeImportAnalyzesOnSQLite(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	f := newFixture(t, s)
	var file strings.Builder
	file.WriteString("external_id,name\n")
	for i := range webhook.AnalyzeAfter {
		fmt.Fprintf(&file, "c%d,Customer %d\n", i, i)
	}
	if _, err := f.app.Webhooks.ImportCSV(context.Background(), f.greenway, "customers", strings.NewReader(file.String()), nil); err != nil {
		t.Fatal(err)
	}
	var stats []string
	if err := s.DB.Raw(`SELECT stat FROM sqlite_stat1 WHERE tbl = 'customers'`).Scan(&stats).Error; err != nil || len(stats) == 0 {
		t.Fatalf("no statistics of customers after importing %d: %v %v", webhook.AnalyzeAfter, stats, err)
	}
	if !strings.HasPrefix(stats[0], fmt.Sprint(webhook.AnalyzeAfter)) {
		t.Fatalf("customers' statistics %q, want %d rows first", stats[0], webhook.AnalyzeAfter)
	}
}
