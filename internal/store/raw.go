package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// Query runs a hand-written query through db's connection (the
// transaction db is in, if any) without gorm: for the hot paths, which
// name their columns and scan them themselves. gorm's Raw(...).Scan
// reflects over the destination and formats the whole statement with its
// values for its logger on every call, even a silent one; this does
// neither. Placeholders are ? in both dialects (written $1, $2, … for
// PostgreSQL; no ? may appear in a string literal) and each argument is
// one value: no slices to expand.
func Query(db *gorm.DB, q string, args ...any) (*sql.Rows, error) {
	ctx := db.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	pool := db.Statement.ConnPool
	if pool == nil {
		return nil, errors.New("store: no connection")
	}
	return pool.QueryContext(ctx, Bind(db.Dialector.Name(), q), args...)
}

// bound remembers the PostgreSQL form of each query Bind has seen (the
// hot paths' statements are constants, a handful of them).
var bound sync.Map // string -> string

// Bind writes q's ? placeholders as the dialect wants them.
func Bind(dialect, q string) string {
	if dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	if b, ok := bound.Load(q); ok {
		return b.(string)
	}
	var sb strings.Builder
	sb.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(q[i])
	}
	b := sb.String()
	bound.Store(q, b)
	return b
}
