package ledger

import (
	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/store"
)

// idSet leads a FROM clause with a table of the given ids, s(id), and the
// join to the table written after it: FROM <idSet> visits v ON v.id = s.id.
// One parameter carries them all, whatever their number (a PostgreSQL
// array, a JSON array on SQLite), so a day's hundred thousand customers are
// read in one statement instead of an IN list per few hundred, and no
// statement runs into either database's limit on parameters. On SQLite the
// join is a CROSS JOIN, which keeps the ids the outer loop: SQLite cannot
// tell how many a JSON array holds and would otherwise scan the whole
// tenant's table once, probing the ids, for a write that names one
// customer. PostgreSQL orders the join itself. The ids must be unique.
func idSet(tx *gorm.DB, ids []int64) (lead string, arg string) {
	if tx.Dialector.Name() == store.Postgres {
		return "unnest(CAST(? AS BIGINT[])) AS s(id) JOIN", store.IDList(ids, false)
	}
	return "(SELECT value AS id FROM json_each(?)) AS s CROSS JOIN", store.IDList(ids, true)
}
