package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// The two migration sets (migrations/postgres, migrations/sqlite) must build
// the same schema: the same tables, the same columns with the same kind of
// type and nullability, and the same indexes (columns, uniqueness, partial
// or not, and the name of every index a migration names). A difference not
// listed in knownDrift below fails, so a migration written for one
// database and forgotten, or written differently, for the other is caught.
func TestBothMigrationSetsBuildTheSameSchema(t *testing.T) {
	pg := schemaOf(t, storetest.Open(t, store.Postgres))
	lite := schemaOf(t, storetest.Open(t, store.SQLite))
	if len(pg) < 100 || len(lite) < 100 {
		t.Fatalf("the schemas read are too small to compare (%d and %d facts): the queries are wrong", len(pg), len(lite))
	}
	var problems []string
	for _, f := range pg {
		if !slices.Contains(lite, f) && knownDrift[f] == "" {
			problems = append(problems, "only on PostgreSQL: "+f)
		}
	}
	for _, f := range lite {
		if !slices.Contains(pg, f) && knownDrift[f] == "" {
			problems = append(problems, "only on SQLite:     "+f)
		}
	}
	for f := range knownDrift {
		if slices.Contains(pg, f) == slices.Contains(lite, f) {
			problems = append(problems, "listed as a known difference but not one (remove it from knownDrift): "+f)
		}
	}
	if len(problems) > 0 {
		t.Errorf("the migration sets disagree; write the missing migration for the other database "+
			"(or, for a difference the databases force, list it in knownDrift with the reason):\n  %s", strings.Join(problems, "\n  "))
	}
}

// knownDrift lists the facts only one database has, each with its reason.
var knownDrift = map[string]string{
	// The nearby copy's change cursor: PostgreSQL stamps a changed customer
	// with its transaction id (xid8) so a reader can tell which changes its
	// snapshot sees; SQLite, one writer at a time, stamps a counter.
	"column customers.nearby_xid xid8 null":                              "PostgreSQL's transaction stamp",
	"index customers(tenant_id,nearby_xid) customers_nearby_xid":         "PostgreSQL's transaction stamp",
	"column customers.nearby_version integer not null":                   "SQLite's change counter",
	"index customers(tenant_id,nearby_version) customers_nearby_version": "SQLite's change counter",
	// A visit's write marks its day for the route rollup. PostgreSQL's
	// statement triggers add a mark per write and the refresh takes them in
	// id order; SQLite's row triggers (one writer at a time) add one only
	// when the day has none, looking it up by day (migration 0024).
	"index route_dirty(tenant_id,id) route_dirty_tenant": "PostgreSQL takes the marks in id order",
	"index route_dirty(tenant_id,day) route_dirty_day":   "SQLite looks a day's mark up before adding one",
}

// typeKind is a column type as both databases mean it, by the spellings the
// migration files use.
var typeKind = map[string]string{
	"text": "text", "uuid": "text", "character": "text", "char(3)": "text", "date": "text",
	"bigint": "integer", "integer": "integer",
	"timestamp with time zone": "time", "datetime": "time",
	"boolean":          "bool",
	"double precision": "real", "real": "real",
	"xid8": "xid8",
}

// schemaOf lists the schema's facts as comparable lines.
func schemaOf(t *testing.T, s *store.Store) []string {
	t.Helper()
	var cols []struct {
		TableName, ColumnName, DataType string
		Nullable                        bool
	}
	var idx []struct {
		TableName, IndexName, Columns string
		IsUnique, IsPartial, Named    bool
	}
	var err error
	if s.Dialect == store.Postgres {
		err = s.DB.Raw(`SELECT table_name, column_name, data_type, is_nullable = 'YES' AS nullable
			FROM information_schema.columns WHERE table_schema = current_schema()`).Scan(&cols).Error
		if err == nil {
			err = s.DB.Raw(`SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique AS is_unique,
				       ix.indpred IS NOT NULL AS is_partial,
				       NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid) AS named,
				       (SELECT string_agg(COALESCE(a.attname, 'expr'), ',' ORDER BY k.ord)
				          FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
				          LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns
				FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
				JOIN pg_namespace n ON n.oid = t.relnamespace
				WHERE n.nspname = current_schema() AND NOT ix.indisprimary`).Scan(&idx).Error
		}
	} else {
		err = s.DB.Raw(`SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, NOT (p."notnull" OR p.pk > 0) AS nullable
			FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`).Scan(&cols).Error
		if err == nil {
			err = s.DB.Raw(`SELECT m.name AS table_name, l.name AS index_name, l."unique" AS is_unique, l.partial AS is_partial,
				       l.origin = 'c' AS named,
				       (SELECT group_concat(COALESCE(name, 'expr'), ',') FROM (SELECT ii.name FROM pragma_index_xinfo(l.name) ii
				         WHERE ii.key ORDER BY ii.seqno)) AS columns
				FROM sqlite_master m, pragma_index_list(m.name) l
				WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND l.origin <> 'pk'`).Scan(&idx).Error
		}
	}
	if err != nil {
		t.Fatalf("%s: read the schema: %v", s.Dialect, err)
	}
	var facts []string
	for _, c := range cols {
		kind, ok := typeKind[strings.ToLower(c.DataType)]
		if !ok {
			t.Errorf("%s: column %s.%s has type %q, which typeKind does not know: add its spelling", s.Dialect, c.TableName, c.ColumnName, c.DataType)
		}
		null := "not null"
		if c.Nullable {
			null = "null"
		}
		facts = append(facts, fmt.Sprintf("column %s.%s %s %s", c.TableName, c.ColumnName, kind, null))
	}
	for _, i := range idx {
		f := fmt.Sprintf("index %s(%s)", i.TableName, i.Columns)
		if i.IsUnique {
			f = "unique " + f
		}
		if i.IsPartial {
			f += " partial"
		}
		if i.Named {
			f += " " + i.IndexName
		}
		facts = append(facts, f)
	}
	slices.Sort(facts)
	return facts
}
