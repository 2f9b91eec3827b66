package store

import "gorm.io/gorm"

// quiet is the database's gorm dialector with an Explain that returns the
// statement as it is. gorm's Raw(...).Scan spells every statement out with
// its values for the logger, whatever the log level (regular expressions
// over the text: about 5% of a busy server's CPU); this store's logger is
// logger.Discard, so that text is never read. The other methods, and the
// optional ones gorm looks for (savepoints, error translation, config),
// are the dialector's own.
type quiet struct{ gorm.Dialector }

func (quiet) Explain(sql string, _ ...any) string { return sql }

func (q quiet) Apply(c *gorm.Config) error {
	if a, ok := q.Dialector.(interface{ Apply(*gorm.Config) error }); ok {
		return a.Apply(c)
	}
	return nil
}

func (q quiet) SavePoint(tx *gorm.DB, name string) error {
	return q.Dialector.(gorm.SavePointerDialectorInterface).SavePoint(tx, name)
}

func (q quiet) RollbackTo(tx *gorm.DB, name string) error {
	return q.Dialector.(gorm.SavePointerDialectorInterface).RollbackTo(tx, name)
}

func (q quiet) Translate(err error) error {
	if t, ok := q.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}
