package store

import (
	"errors"

	"gorm.io/gorm"
)

// Upserted says what a PUT did.
type Upserted string

// The outcomes of an upsert. Stale: the write carried an older change time
// (updated_at) than the stored row, which was kept as it was.
const (
	Created Upserted = "created"
	Updated Upserted = "updated"
	Stale   Upserted = "stale"
)

// ErrStale is returned by Upsert when the UPDATE matched no row because the
// stored row is newer than the write.
var ErrStale = errors.New("stored row is newer")

// Upsert runs an INSERT ... ON CONFLICT DO NOTHING RETURNING * and, when the
// row already existed, the UPDATE ... RETURNING *. Exactly one of any number
// of concurrent callers creates the row; the others update it.
func Upsert[T any](db *gorm.DB, insertSQL string, insertArgs []any, updateSQL string, updateArgs []any) (T, Upserted, error) {
	var rows []T
	if err := db.Raw(insertSQL, insertArgs...).Scan(&rows).Error; err != nil {
		var zero T
		return zero, Updated, err
	}
	if len(rows) == 1 {
		return rows[0], Created, nil
	}
	return Update[T](db, updateSQL, updateArgs)
}

// Update runs an UPDATE ... RETURNING * of a row known to exist: Stale
// (ErrStale) when it matched nothing because the stored row is newer.
func Update[T any](db *gorm.DB, updateSQL string, updateArgs []any) (T, Upserted, error) {
	var rows []T
	if err := db.Raw(updateSQL, updateArgs...).Scan(&rows).Error; err != nil {
		var zero T
		return zero, Updated, err
	}
	if len(rows) != 1 {
		var zero T
		return zero, Stale, ErrStale
	}
	return rows[0], Updated, nil
}
