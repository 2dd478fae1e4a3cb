// Package pgtest gives tests a throw-away PostgreSQL database holding the warehouse's
// tables, in either of the two shapes that orchestration.sync_history takes in the wild.
//
// The server is named by TEST_DATABASE_URL (default: the local server on 127.0.0.1:5432 as
// user postgres). A server that cannot be reached fails the test: a green run must mean
// that every database test ran.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/seed"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// DefaultURL is the server the tests use when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Shape names one of the two shapes of orchestration.sync_history.
type Shape string

// The two shapes (see real-world-facts.md).
const (
	// ShapeA is the hand-written migration: django-schema.sql, with an end_time index.
	ShapeA Shape = "A"
	// ShapeB is Django's generated table: bigint id, no defaults, no end_time index.
	ShapeB Shape = "B"
)

// Shapes lists both shapes, for tests that must pass on each.
var Shapes = []Shape{ShapeA, ShapeB}

// Schema returns the SQL that creates the warehouse's tables in the given shape.
func Schema(shape Shape) string {
	sql, err := seed.WarehouseSchema(string(shape))
	if err != nil {
		panic(err) // only the two constants above are Shapes
	}
	return sql
}

// ServerURL is the URL of the server the tests use.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DB is a throw-away database.
type DB struct {
	// URL connects to the database as the server's user (a writer: tests insert rows
	// through it; syncwatch's own store makes its connections read-only).
	URL  string
	Name string
	conn *pgx.Conn
}

// New creates a database with the warehouse's tables in the given shape and drops it
// when the test ends.
func New(t testing.TB, shape Shape) *DB {
	t.Helper()
	db := NewEmpty(t)
	db.Exec(t, Schema(shape))
	return db
}

// NewEmpty creates an empty database and drops it when the test ends.
func NewEmpty(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server := ServerURL()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: cannot reach the test PostgreSQL server (set TEST_DATABASE_URL, or run scripts/test.sh, which starts one): %v", err)
	}
	defer admin.Close(ctx)

	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "syncwatch_test_" + hex.EncodeToString(suffix[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("pgtest: parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	db := &DB{URL: u.String(), Name: name}
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", name, err)
	}
	db.conn = conn
	t.Cleanup(func() { conn.Close(context.Background()) })
	return db
}

// Exec runs SQL (several statements allowed when there are no arguments) as a writer.
func (db *DB) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := db.conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: exec %.80q: %v", sql, err)
	}
}

// Conn is the writer connection, for tests that need more than Exec.
func (db *DB) Conn() *pgx.Conn { return db.conn }

// Insert adds rows to orchestration.sync_history and returns their ids. It writes every
// column, so it works on both shapes.
func (db *DB) Insert(t testing.TB, rows ...storetest.Row) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		r = r.WithDefaults()
		var id int64
		const cols = `crm_source, sync_type, status, start_time, end_time, records_processed,
			records_created, records_updated, records_failed, error_message, endpoint,
			performance_metrics, configuration, created_at`
		args := []any{r.CRMSource, r.SyncType, r.Status, r.Start, r.End, r.RecordsProcessed,
			r.RecordsCreated, r.RecordsUpdated, r.RecordsFailed, r.ErrorMessage, r.Endpoint,
			r.PerformanceMetrics, r.Configuration}
		const values = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			COALESCE($12::jsonb, '{}'), COALESCE($13::jsonb, '{}'), now()`
		var err error
		if r.ID != 0 {
			err = db.conn.QueryRow(ctx, `INSERT INTO orchestration.sync_history (id, `+cols+`)
				VALUES ($14, `+values+`) RETURNING id`, append(args, r.ID)...).Scan(&id)
		} else {
			err = db.conn.QueryRow(ctx, `INSERT INTO orchestration.sync_history (`+cols+`)
				VALUES (`+values+`) RETURNING id`, args...).Scan(&id)
		}
		if err != nil {
			t.Fatalf("pgtest: insert %+v: %v", r, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// InsertSchedule adds a row to orchestration.sync_schedule, and a django-celery-beat
// periodic task carrying s.LastRunAt that the schedule points to.
func (db *DB) InsertSchedule(t testing.TB, s syncs.Schedule) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var taskID int64
	err := db.conn.QueryRow(ctx, `INSERT INTO public.django_celery_beat_periodictask
			(name, task, enabled, last_run_at, total_run_count, one_off, date_changed)
		VALUES ($1, 'ingestion.tasks.run_sync', $2, $3, 0, false, now()) RETURNING id`,
		s.SourceKey+":"+s.Mode+":"+s.Name, s.Enabled, s.LastRunAt).Scan(&taskID)
	if err != nil {
		t.Fatalf("pgtest: insert periodic task: %v", err)
	}
	_, err = db.conn.Exec(ctx, `INSERT INTO orchestration.sync_schedule
			(name, crm_source, model_name, mode, source_key, recurrence_type, every, period,
			 minute, hour, day_of_week, day_of_month, month_of_year, start_at, end_at, enabled,
			 options, periodic_task_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '{}', $17, $18, $18)`,
		s.Name, s.CRMSource, s.ModelName, s.Mode, s.SourceKey, s.RecurrenceType, s.Every, s.Period,
		s.Minute, s.Hour, s.DayOfWeek, s.DayOfMonth, s.MonthOfYear, s.StartAt, s.EndAt, s.Enabled, taskID,
		s.UpdatedAt)
	if err != nil {
		t.Fatalf("pgtest: insert schedule: %v", err)
	}
}

// NewRole creates a login role for this test, runs each grant (with %s standing for the
// role's name) in this database, and returns a URL that connects as that role. The role
// is dropped when the test ends.
func (db *DB) NewRole(t testing.TB, grants ...string) string {
	t.Helper()
	role := "sw_role_" + strings.TrimPrefix(db.Name, "syncwatch_test_")
	db.Exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Privileges in this database keep the role alive; drop them first.
		if _, err := db.conn.Exec(ctx, "DROP OWNED BY "+role); err != nil {
			t.Errorf("pgtest: drop owned by %s: %v", role, err)
		}
		if _, err := db.conn.Exec(ctx, "DROP ROLE "+role); err != nil {
			t.Errorf("pgtest: drop role %s: %v", role, err)
		}
	})
	for _, g := range grants {
		db.Exec(t, strings.ReplaceAll(g, "%s", role))
	}
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.User = url.User(role)
	return u.String()
}
