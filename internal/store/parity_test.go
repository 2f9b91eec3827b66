package store_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/routeloop/routeloop/internal/store"
	"github.com/routeloop/routeloop/internal/store/storetest"
)

// sameType lists, for each column type PostgreSQL reports
// (information_schema's data_type, with its length where it has one), the
// SQLite declarations that stand for it. A pair not listed here is drift: a
// column that is one thing on PostgreSQL and another on SQLite.
var sameType = map[string][]string{
	"bigint":                   {"BIGINT", "INTEGER"}, // BIGSERIAL ids are SQLite's INTEGER PRIMARY KEY AUTOINCREMENT
	"integer":                  {"INTEGER"},
	"text":                     {"TEXT"},
	"uuid":                     {"TEXT"},         // SQLite has no UUID type; the service writes the text form
	"character(3)":             {"CHAR(3)"},      // currency codes
	"timestamp with time zone": {"DATETIME"},     // SQLite has no time type either; DATETIME says what the text is
	"date":                     {"DATE", "TEXT"}, // a tenant-local day, YYYY-MM-DD text on SQLite
	"double precision":         {"DOUBLE PRECISION", "REAL"},
	"boolean":                  {"BOOLEAN"},
}

// knownDifferences are the only ways the two schemas may differ, each with
// why; any other difference fails the test, and so does one listed here that
// no longer occurs.
var knownDifferences = map[string]string{
	"column customers.nearby_xid only on postgres": "0023: the nearby search's copy of a tenant's customers reads the rows changed since it was read; " +
		"on PostgreSQL they carry the writing transaction's id, so a copy reads just what its snapshot did not see",
	"index customers_nearby_xid only on postgres":    "0023: those rows, by transaction id",
	"column customers.nearby_version only on sqlite": "0023: on SQLite, one writer at a time, the rows carry the tenant's change counter instead",
	"index customers_nearby_version only on sqlite":  "0023: those rows, by counter",
	"index route_dirty_tenant only on postgres":      "0020: the route rollup takes its marks in id order; PostgreSQL's triggers add a mark on every change",
	"index route_dirty_day only on sqlite": "0024: SQLite's triggers add a day's mark only when the day has none, " +
		"so they look marks up by day; it replaced route_dirty_tenant there",
}

// TestTheMigrationsOfBothDatabasesMakeTheSameSchema applies every migration
// to a fresh PostgreSQL schema and a fresh SQLite file and compares what
// they made: tables, columns (name, type, nullability), primary keys and
// indexes (name, columns, uniqueness, partial or not).
func TestTheMigrationsOfBothDatabasesMakeTheSameSchema(t *testing.T) {
	pg := readSchema(t, storetest.Open(t, store.Postgres))
	lite := readSchema(t, storetest.Open(t, store.SQLite))
	// What the readers see, checked on a few things the first migrations
	// made, so that a reader seeing nothing cannot pass.
	for _, sc := range []struct {
		dialect string
		schema
	}{{store.Postgres, pg}, {store.SQLite, lite}} {
		if len(sc.tables) < 20 || len(sc.indexes) < 50 {
			t.Fatalf("%s: only %d tables and %d indexes read", sc.dialect, len(sc.tables), len(sc.indexes))
		}
		if c := sc.tables["customers"]["lat"]; c.typ == "" || c.notNull || !sc.tables["customers"]["name"].notNull {
			t.Errorf("%s: customers.lat read as %+v, customers.name as %+v", sc.dialect, c, sc.tables["customers"]["name"])
		}
		if ix := sc.indexes["neighbor_links_open"]; ix.String() != "unique neighbor_links (tenant_id, customer_a_id, customer_b_id) partial" {
			t.Errorf("%s: neighbor_links_open read as %q", sc.dialect, ix)
		}
		if _, ok := sc.indexes["unique customers (tenant_id, external_id)"]; !ok || sc.primary["customers"] != "id" {
			t.Errorf("%s: the customers' UNIQUE (tenant_id, external_id) or primary key (id) not read: %q", sc.dialect, sc.primary["customers"])
		}
	}
	found := map[string]bool{}
	for _, d := range schemaDifferences(pg, lite) {
		found[d] = true
		if _, ok := knownDifferences[d]; !ok {
			t.Errorf("the migrations differ between the databases: %s", d)
		}
	}
	for d := range knownDifferences {
		if !found[d] {
			t.Errorf("listed as a known difference but the schemas agree: %s (remove it from knownDifferences)", d)
		}
	}
	if t.Failed() {
		t.Log("A change to the schema is two migration files, one per database (migrations/postgres, migrations/sqlite), " +
			"with the same number; types that differ only in spelling are listed in sameType.")
	}
}

type column struct {
	typ     string
	notNull bool
}

// index is one index, named by its name when a migration named it (CREATE
// INDEX) and by its table and columns when a constraint made it (UNIQUE),
// since each database names those its own way.
type index struct {
	table   string
	columns []string
	unique  bool
	partial bool
}

func (ix index) String() string {
	s := ix.table + " (" + strings.Join(ix.columns, ", ") + ")"
	if ix.unique {
		s = "unique " + s
	}
	if ix.partial {
		s += " partial"
	}
	return s
}

type schema struct {
	tables  map[string]map[string]column // table → column → its type
	primary map[string]string            // table → its primary key's columns
	indexes map[string]index             // name, or "unique TABLE (COLUMNS)" for a constraint's
}

func readSchema(t *testing.T, s *store.Store) schema {
	t.Helper()
	sc := schema{tables: map[string]map[string]column{}, primary: map[string]string{}, indexes: map[string]index{}}
	var err error
	switch s.Dialect {
	case store.Postgres:
		err = readPostgres(s, &sc)
	case store.SQLite:
		err = readSQLite(s, &sc)
	}
	if err != nil {
		t.Fatalf("read the %s schema: %v", s.Dialect, err)
	}
	return sc
}

func readPostgres(s *store.Store, sc *schema) error {
	var cols []struct {
		TableName, ColumnName, DataType, IsNullable string
		CharacterMaximumLength                      *int
	}
	err := s.DB.Raw(`
		SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.character_maximum_length
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`).Scan(&cols).Error
	if err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	for _, c := range cols {
		typ := c.DataType
		if c.CharacterMaximumLength != nil {
			typ = fmt.Sprintf("%s(%d)", typ, *c.CharacterMaximumLength)
		}
		addColumn(sc, c.TableName, c.ColumnName, column{typ: typ, notNull: c.IsNullable == "NO"})
	}
	// pg_indexes names every index of the schema; the catalog behind it says
	// which columns, whether unique or partial, and whether a constraint
	// (primary key, UNIQUE) made it. An index's INCLUDE columns follow its
	// key columns: SQLite has no INCLUDE, its covering indexes carry them
	// in the key.
	var ixs []struct {
		Tablename, Indexname string
		Columns              string
		Unique, Partial      bool
		Constraint           string
	}
	err = s.DB.Raw(`
		SELECT pi.tablename, pi.indexname,
		       (SELECT string_agg(COALESCE(a.attname, pg_get_indexdef(i.indexrelid, k, true)), ',' ORDER BY k)
		          FROM generate_series(1, i.indnatts) AS k
		          LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] AND i.indkey[k - 1] <> 0
		       ) AS columns,
		       i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
		       COALESCE((SELECT con.contype::text FROM pg_constraint con
		                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')), '') AS constraint
		FROM pg_indexes pi
		JOIN pg_class ic ON ic.relname = pi.indexname
		JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = pi.schemaname
		JOIN pg_index i ON i.indexrelid = ic.oid
		WHERE pi.schemaname = current_schema()`).Scan(&ixs).Error
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	for _, ix := range ixs {
		cols := strings.Split(ix.Columns, ",")
		switch ix.Constraint {
		case "p":
			sc.primary[ix.Tablename] = strings.Join(cols, ", ")
		case "u":
			addIndex(sc, "", index{table: ix.Tablename, columns: cols, unique: true})
		default:
			addIndex(sc, ix.Indexname, index{table: ix.Tablename, columns: cols, unique: ix.Unique, partial: ix.Partial})
		}
	}
	return nil
}

func readSQLite(s *store.Store, sc *schema) error {
	var tables []string
	err := s.DB.Raw(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&tables).Error
	if err != nil {
		return fmt.Errorf("tables: %w", err)
	}
	for _, table := range tables {
		var cols []struct {
			Name, Type string
			Notnull    bool
			Pk         int // its place in the primary key, from 1; 0: not in it
		}
		if err := s.DB.Raw(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY pk`, table).Scan(&cols).Error; err != nil {
			return fmt.Errorf("columns of %s: %w", table, err)
		}
		var pk []string
		for _, c := range cols {
			// A primary key column is NOT NULL on PostgreSQL by definition;
			// SQLite's INTEGER PRIMARY KEY is the row id, never NULL, and
			// its other primary keys are always given a value by the code.
			addColumn(sc, table, c.Name, column{typ: strings.ToUpper(c.Type), notNull: c.Notnull || c.Pk > 0})
			if c.Pk > 0 {
				pk = append(pk, c.Name)
			}
		}
		if len(pk) > 0 {
			sc.primary[table] = strings.Join(pk, ", ")
		}
		var ixs []struct {
			Name    string
			Unique  bool
			Origin  string
			Partial bool
		}
		if err := s.DB.Raw(`SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, table).Scan(&ixs).Error; err != nil {
			return fmt.Errorf("indexes of %s: %w", table, err)
		}
		for _, ix := range ixs {
			var keys []struct {
				Cid  int
				Name *string
			}
			if err := s.DB.Raw(`SELECT cid, name FROM pragma_index_info(?) ORDER BY seqno`, ix.Name).Scan(&keys).Error; err != nil {
				return fmt.Errorf("columns of index %s: %w", ix.Name, err)
			}
			var cols []string
			for _, k := range keys {
				if k.Name == nil {
					cols = append(cols, "(expression)")
					continue
				}
				cols = append(cols, *k.Name)
			}
			switch ix.Origin {
			case "pk": // a primary key that is not the row id; read above
			case "u":
				addIndex(sc, "", index{table: table, columns: cols, unique: true})
			default:
				addIndex(sc, ix.Name, index{table: table, columns: cols, unique: ix.Unique, partial: ix.Partial})
			}
		}
	}
	return nil
}

func addColumn(sc *schema, table, name string, c column) {
	if sc.tables[table] == nil {
		sc.tables[table] = map[string]column{}
	}
	sc.tables[table][name] = c
}

func addIndex(sc *schema, name string, ix index) {
	if name == "" {
		name = ix.String()
	}
	sc.indexes[name] = ix
}

// schemaDifferences says, one line each, where the two schemas differ.
func schemaDifferences(pg, lite schema) []string {
	var out []string
	for _, table := range keysOf(pg.tables, lite.tables) {
		pcols, inPG := pg.tables[table]
		lcols, inLite := lite.tables[table]
		if !inPG || !inLite {
			out = append(out, "table "+table+" "+onlyIn(inPG))
			continue
		}
		for _, name := range keysOf(pcols, lcols) {
			p, inPG := pcols[name]
			l, inLite := lcols[name]
			switch {
			case !inPG || !inLite:
				out = append(out, "column "+table+"."+name+" "+onlyIn(inPG))
			case !slices.Contains(sameType[p.typ], l.typ):
				out = append(out, fmt.Sprintf("column %s.%s: postgres %s, sqlite %s", table, name, p.typ, l.typ))
			case p.notNull != l.notNull:
				out = append(out, fmt.Sprintf("column %s.%s: NOT NULL on postgres %t, on sqlite %t", table, name, p.notNull, l.notNull))
			}
		}
		if pg.primary[table] != lite.primary[table] {
			out = append(out, fmt.Sprintf("primary key of %s: postgres (%s), sqlite (%s)", table, pg.primary[table], lite.primary[table]))
		}
	}
	for _, name := range keysOf(pg.indexes, lite.indexes) {
		p, inPG := pg.indexes[name]
		l, inLite := lite.indexes[name]
		switch {
		case !inPG || !inLite:
			out = append(out, "index "+name+" "+onlyIn(inPG))
		case p.String() != l.String():
			out = append(out, fmt.Sprintf("index %s: postgres %s, sqlite %s", name, p, l))
		}
	}
	return out
}

func onlyIn(inPG bool) string {
	if inPG {
		return "only on postgres"
	}
	return "only on sqlite"
}

// keysOf is the sorted union of both maps' keys.
func keysOf[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
