package store

import (
	"encoding/json"
	"fmt"
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
