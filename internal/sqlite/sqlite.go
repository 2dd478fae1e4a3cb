// Package sqlite is the Store over an embedded SQLite database: syncwatch's own copy of
// orchestration.sync_history and orchestration.sync_schedule in one file, through a
// pure-Go driver (modernc.org/sqlite), so that the dashboard runs with nothing installed.
// The demo history and the live simulator (package demo) write it; the dashboard reads
// it, row for row as it reads the warehouse (internal/storetest proves the figures equal).
//
// Timestamps are stored as integer microseconds since the Unix epoch (see schema.sql):
// durations and sums are exact, and no query needs time zones. The file is in WAL mode and
// opened twice: a pool of read-only connections that serves the Store's questions, and one
// writer connection for the methods of write.go, so the dashboard reads while the
// simulator writes.
package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

//go:embed schema.sql
var schema string

// schemaVersion is recorded in the file's user_version, so that a later syncwatch can
// tell which tables an older one made, and an older one refuses a file it cannot read.
const schemaVersion = 1

// readConns bounds the read pool: the dashboard asks the five questions of one refresh
// concurrently, and SQLite reads in-process, bound by CPU; more would not be faster.
const readConns = 4

// busyTimeout is how long a statement waits for a lock held by another connection (the
// simulator's write, a checkpoint, a seed in another process) before it fails as busy.
const busyTimeout = 5 * time.Second

// DB is the embedded database: the Store's read pool and a single writer.
type DB struct {
	path  string
	read  *sql.DB
	write *sql.DB
}

var _ syncs.Store = (*DB)(nil)

// Open opens the SQLite file at path, creating it and its tables when absent. The
// directory must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// One writer: SQLite allows one at a time anyway, and queueing in database/sql is
	// cheaper and fairer than spinning on the busy handler.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	db := &DB{path: abs, write: write}
	if err := db.migrate(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, unavailable(err))
	}
	read, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	read.SetConnMaxIdleTime(0)
	db.read = read
	if err := read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, unavailable(err))
	}
	return db, nil
}

// dsn is the driver's name for the file: a URI, so that any character in the path is
// escaped, with the pragmas every connection of that kind needs.
func dsn(abs string, readOnly bool) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:/C:/...
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	// NORMAL is durable in WAL mode except for the last transactions before a power
	// loss, which costs nothing here: the data is a demo or a copy.
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		// The Store only reads; make that a property of its connections, as the
		// PostgreSQL store does with default_transaction_read_only.
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// Take the write lock when a transaction begins, not at its first write: a
		// deferred transaction that must upgrade can fail at once with SQLITE_BUSY.
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// migrate creates the tables when absent, in one transaction, and records the version.
func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > schemaVersion {
		return fmt.Errorf("the file was made by a newer syncwatch (schema version %d; this one knows %d)", version, schemaVersion)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if version < schemaVersion {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Path is the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close closes both pools. Statements in flight on other goroutines fail.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// unavailable marks errors that mean the file could not be read now (locked by another
// process beyond the busy timeout, an I/O error, gone, or out of time), so the dashboard
// serves its last good figures and says the source is down; a bug stays a bug.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code, without the extended part
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %w", syncs.ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", syncs.ErrUnavailable, err)
	}
	return err
}

// query runs a read on the read pool and scans each row with scan.
func (db *DB) query(ctx context.Context, what, q string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, unavailable(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: scan: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, unavailable(err))
	}
	return nil
}

// micros is how a time is stored: microseconds since the Unix epoch, UTC. Go's times
// have nanoseconds; PostgreSQL keeps microseconds too.
func micros(t time.Time) int64 { return t.UnixMicro() }

// timeOf reads a stored time.
func timeOf(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores an optional time: nil is NULL.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// nullTime reads an optional stored time.
func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := timeOf(v.Int64)
	return &t
}

// Health implements syncs.Store: the round trip of SELECT 1 on a connection already
// open, and the number of connections the store holds open to the file.
func (db *DB) Health(ctx context.Context) (syncs.DatabaseHealth, error) {
	var h syncs.DatabaseHealth
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return h, fmt.Errorf("database health: %w", unavailable(err))
	}
	defer conn.Close()
	start := time.Now()
	var one int
	if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return h, fmt.Errorf("database health: %w", unavailable(err))
	}
	h.ResponseTime = time.Since(start)
	h.ConnectionCount = int64(db.read.Stats().OpenConnections + db.write.Stats().OpenConnections)
	h.Label = "SQLite"
	return h, nil
}
