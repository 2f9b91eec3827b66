package ledger

import (
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/routeloop/routeloop/internal/store"
)

// idSet is a table of the given ids, s(id), to join a statement with: one
// parameter carries them all, whatever their number (a PostgreSQL array, a
// JSON array on SQLite), so a day's hundred thousand customers are read in
// one statement instead of an IN list per few hundred, and no statement
// runs into either database's limit on parameters. The ids must be unique.
func idSet(tx *gorm.DB, ids []int64) (table string, arg string) {
	var b strings.Builder
	b.Grow(8 * len(ids))
	open, shut := byte('['), byte(']')
	if tx.Dialector.Name() == store.Postgres {
		open, shut = '{', '}'
		table = "unnest(CAST(? AS BIGINT[])) AS s(id)"
	} else {
		table = "(SELECT value AS id FROM json_each(?)) AS s"
	}
	b.WriteByte(open)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(shut)
	return table, b.String()
}
