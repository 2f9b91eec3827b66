package store

import (
	"errors"

	"gorm.io/gorm"
)

// Upserted says what a PUT did.
type Upserted bool

// Created and Updated are the two outcomes of an upsert.
const (
	Created Upserted = true
	Updated Upserted = false
)

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
	if err := db.Raw(updateSQL, updateArgs...).Scan(&rows).Error; err != nil {
		var zero T
		return zero, Updated, err
	}
	if len(rows) != 1 {
		var zero T
		return zero, Updated, errors.New("row vanished between insert and update")
	}
	return rows[0], Updated, nil
}
