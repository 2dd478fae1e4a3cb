// Package postgres is the Store over the warehouse's PostgreSQL database: the tables
// orchestration.sync_history and orchestration.sync_schedule (and django-celery-beat's
// periodic tasks where they exist), read through a small pool of read-only connections.
//
// Every query is written so that one of the indexes of either table shape can bound it
// (see docs/performance.md); on shape B, which has no end_time index, the query over
// finished_at falls back to one sequential scan per refresh, which the dashboard runs in
// the background once figures exist (only the first request for figures nobody has
// asked for yet waits for one).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Options tune the connection pool. Zero values take the defaults.
type Options struct {
	// MaxConns bounds the pool (default 4): the dashboard computes its figures once per
	// refresh interval, whatever the number of viewers, so a few connections suffice.
	MaxConns int32
	// StatementTimeout bounds every statement on the server (default 10 s).
	StatementTimeout time.Duration
	// ConnectTimeout bounds establishing a connection (default 5 s).
	ConnectTimeout time.Duration
	// Explain, when set, receives the plan of every statement as it ran (EXPLAIN
	// ANALYZE, BUFFERS), through PostgreSQL's auto_explain module; for "syncwatch doctor
	// --explain" and the performance report. Loading the module at connection needs a
	// superuser, or auto_explain in the server's session_preload_libraries.
	Explain func(plan string)
}

// DB is the warehouse's database, read-only.
type DB struct {
	pool *pgxpool.Pool
	// tableInfo is what the drill-down knows of the table's columns and indexes.
	tableInfo tableInfoCache
	// role is the user syncwatch connects as, named in the grants it asks for.
	role string
}

var _ syncs.Store = (*DB)(nil)

// Open prepares a pool for the database at url. It does not connect: a database that is
// down at start-up is reported by the first query, and the pool keeps trying.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, errors.New("postgres: DATABASE_URL is not a valid PostgreSQL URL or DSN")
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	cfg.MaxConns = opts.MaxConns
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	params := cfg.ConnConfig.RuntimeParams
	// Session-level read-only mode: a bug in syncwatch cannot write to the warehouse, and
	// neither can a statement smuggled in any other way; the server refuses it.
	params["default_transaction_read_only"] = "on"
	params["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	// A read waits behind a migration's exclusive lock; give up instead of queueing.
	params["lock_timeout"] = "2000"
	params["idle_in_transaction_session_timeout"] = "30000"
	params["application_name"] = "syncwatch"
	params["TimeZone"] = "UTC"
	if opts.Explain != nil {
		params["session_preload_libraries"] = "auto_explain"
		params["auto_explain.log_min_duration"] = "0"
		params["auto_explain.log_analyze"] = "on"
		params["auto_explain.log_buffers"] = "on"
		params["auto_explain.log_level"] = "notice"
		explain := opts.Explain
		cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
			if strings.HasPrefix(n.Message, "duration:") {
				explain(n.Message)
			}
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &DB{pool: pool, role: cfg.ConnConfig.User, tableInfo: tableInfoCache{turn: make(chan struct{}, 1)}}, nil
}

// Close releases the pool's connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// query runs a statement and scans each row with scan.
func (db *DB) query(ctx context.Context, what, sql string, scan func(pgx.Rows) error, args ...any) error {
	rows, err := db.pool.Query(ctx, sql, inUTC(args)...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: scan: %w", what, unexpectedType(err))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, classify(err))
	}
	return nil
}

// inUTC returns args with every time in UTC. Against a column of type timestamp without
// time zone, pgx sends a time's wall clock and drops its zone, and syncwatch reads such
// columns as UTC: a bound in the display zone (the charts' days) would be shifted by
// the zone's offset.
func inUTC(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch t := a.(type) {
		case time.Time:
			out[i] = t.UTC()
		case *time.Time:
			if t != nil {
				out[i] = t.UTC()
			}
		case []time.Time:
			utc := make([]time.Time, len(t))
			for j := range t {
				utc[j] = t[j].UTC()
			}
			out[i] = utc
		default:
			out[i] = a
		}
	}
	return out
}
