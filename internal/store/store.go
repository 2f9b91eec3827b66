// Package store opens routeloop's database — an embedded SQLite file by
// default, PostgreSQL when a URL is given — applies the migrations and offers
// the two helpers every feature uses: Tx for multi-row writes and Tenant for
// scoping a query to one tenant.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/gormlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects routeloop speaks.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options say which database to open.
type Options struct {
	// DatabaseURL selects PostgreSQL (postgres:// or postgresql://). Empty
	// means the embedded SQLite file under DataDir.
	DatabaseURL string
	// DataDir holds routeloop.db when SQLite is used.
	DataDir string
	// MaxOpenConns bounds the Postgres pool (default 20).
	MaxOpenConns int
	// Logger receives slow-query warnings; nil means silent.
	Logger *slog.Logger
}

// Store is an open database.
type Store struct {
	DB      *gorm.DB
	Dialect string
	// writer queues SQLite's write transactions in the process (the file
	// has one writer at a time) instead of in its busy-wait loop.
	writer sync.Mutex
}

// Open connects to the database the options name. It does not migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		db      *gorm.DB
		err     error
		dialect string
	)
	switch {
	case opts.DatabaseURL == "":
		if opts.DataDir == "" {
			return nil, errors.New("store: no database URL and no data directory")
		}
		if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create data directory %s: %w", opts.DataDir, err)
		}
		dialect = SQLite
		db, err = gorm.Open(quiet{gormlite.Open(sqliteDSN(filepath.Join(opts.DataDir, "routeloop.db")))}, gcfg)
	case strings.HasPrefix(opts.DatabaseURL, "postgres://"), strings.HasPrefix(opts.DatabaseURL, "postgresql://"):
		dialect = Postgres
		db, err = gorm.Open(quiet{postgres.New(postgres.Config{DSN: opts.DatabaseURL})}, gcfg)
	case strings.HasPrefix(opts.DatabaseURL, "sqlite://"):
		dialect = SQLite
		db, err = gorm.Open(quiet{gormlite.Open(sqliteDSN(strings.TrimPrefix(opts.DatabaseURL, "sqlite://")))}, gcfg)
	default:
		return nil, fmt.Errorf("store: database URL must start with postgres:// or sqlite://")
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's nature; a small pool with immediate
		// transactions and a busy timeout makes writers queue instead of fail.
		sqlDB.SetMaxOpenConns(4)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	return &Store{DB: db, Dialect: dialect}, nil
}

// sqliteDSN sets WAL, a busy timeout and immediate transactions: a write
// transaction takes the write lock at BEGIN and waits for it, instead of
// failing with SQLITE_BUSY when it upgrades from reading. Times are stored as
// text in sqliteTimeLayout, the form the file has always held, so rows
// written before and after an upgrade compare as text in time order.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
		"&_timefmt=" + url.QueryEscape(sqliteTimeLayout)
}

// sqliteTimeLayout is how a time is stored in and read from the SQLite file.
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// Close releases the connections.
func (s *Store) Close() error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Tx runs fn in one transaction: committed when fn returns nil, rolled back
// otherwise (and on panic). A transaction PostgreSQL chose as a deadlock
// victim, or could not serialise, is run again (fn must only assign what
// it returns), a few times with a short random pause.
//
// Called with a context Within gave, Tx joins that transaction instead: fn
// runs in a savepoint, so its error undoes its own writes only, and a retry
// is the outer transaction's to make.
func (s *Store) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.Transaction(fn)
	}
	if s.Dialect == SQLite {
		s.writer.Lock()
		defer s.writer.Unlock()
	}
	for attempt := 1; ; attempt++ {
		err := s.DB.WithContext(ctx).Transaction(fn)
		if err == nil || attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond)
	}
}

// txKey carries a transaction in a context (see Within).
type txKey struct{}

// Within returns ctx carrying tx, an open transaction of this store: Tx and
// Conn called with it work inside tx, so a caller can commit a feature's
// write together with its own (a webhook's delivery and its change).
func Within(ctx context.Context, tx *gorm.DB) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// Conn is the handle a feature's statements go through: the transaction
// ctx carries (see Within), else the pool.
func (s *Store) Conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return s.DB.WithContext(ctx)
}

// maxTxAttempts bounds the runs of one transaction.
const maxTxAttempts = 5

// retryable reports a deadlock or a serialisation failure (SQLSTATE 40P01,
// 40001): the transaction changed nothing and may simply run again.
func retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40P01" || pg.Code == "40001"
	}
	return false
}

// Tenant scopes a query to one tenant's rows. Every feature query starts here
// (or adds tenant_id itself in hand-written SQL): forgetting it is how one
// company would see another's customers.
func Tenant(db *gorm.DB, tenantID string) *gorm.DB {
	return db.Where("tenant_id = ?", tenantID)
}

// IsUniqueViolation reports whether err is a unique-key conflict in either
// dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	if errors.Is(err, sqlite3.CONSTRAINT_UNIQUE) || errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY) {
		return true
	}
	return strings.Contains(err.Error(), "SQLSTATE 23505")
}

// Ready reports whether the database answers and its schema is current.
func (s *Store) Ready(ctx context.Context) error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	pending, err := s.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("%d migration(s) not applied, first %s", len(pending), pending[0])
	}
	return nil
}
