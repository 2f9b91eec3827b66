package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// BulkInsert is a PostgreSQL INSERT of many rows that travel as one JSON
// parameter: rows is a slice of structs whose json names are the table's
// columns cols; tail follows the SELECT (ON CONFLICT …, RETURNING …). One
// parameter and one plan whatever the number of rows, where a multi-row
// VALUES list costs PostgreSQL a parse of every parameter and the driver
// an encoding of each: a day's reconciliation writes tens of thousands of
// rows. The rows go in the order given (ids from a sequence ascend in that
// order). Columns a row's struct leaves out take NULL; columns cols leaves
// out take their DEFAULT.
func BulkInsert(table string, cols []string, rows any, tail string) (query string, arg string, err error) {
	body, err := json.Marshal(rows)
	if err != nil {
		return "", "", fmt.Errorf("encode %s rows: %w", table, err)
	}
	list := strings.Join(cols, ", ")
	query = "INSERT INTO " + table + " (" + list + ") SELECT " + list +
		" FROM json_populate_recordset(NULL::" + table + ", CAST(? AS JSON)) WITH ORDINALITY AS r ORDER BY r.ordinality " + tail
	return query, string(body), nil
}

// IDList is ids as the text of one parameter: a PostgreSQL array literal
// ({1,2,3}) for CAST(? AS BIGINT[]), or with asJSON a JSON array ([1,2,3])
// for SQLite's json_each.
func IDList(ids []int64, asJSON bool) string {
	open, shut := byte('{'), byte('}')
	if asJSON {
		open, shut = '[', ']'
	}
	var b strings.Builder
	b.Grow(2 + 8*len(ids))
	b.WriteByte(open)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(shut)
	return b.String()
}
