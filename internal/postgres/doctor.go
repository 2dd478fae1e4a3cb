package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Diagnosis is what the doctor finds about the warehouse's tables: what syncwatch needs
// and what would make it faster, with the exact statement to run. Nothing is changed:
// syncwatch only reads, and creating an index on a production table is the
// administrators' decision.
type Diagnosis struct {
	// Rows is the planner's estimate of sync_history's rows.
	Rows int64
	// Shape is "A" (django-schema.sql), "B" (Django-generated) or "" when unknown.
	Shape string
	// LastAnalyzed is when the table's statistics were last gathered (zero: never).
	LastAnalyzed time.Time
	// ReadOnly is true when the session is read-only, as syncwatch's always are.
	ReadOnly bool
	// CanWrite is true when the connecting role has the right to change sync_history:
	// harmless for syncwatch (its sessions are read-only) but a dedicated read-only role
	// is better practice.
	CanWrite bool
	// HasSchedules and BeatTable tell whether the schedule tables can be read.
	HasSchedules bool
	BeatTable    string
	// Indexes are the access paths syncwatch's queries use, each with what it found.
	Indexes []IndexCheck
}

// IndexCheck is one access path: an index whose leading columns are Columns.
type IndexCheck struct {
	// Column names the path: its columns, joined by ", ".
	Column  string
	Columns []string
	// Why says which figures need it and what happens without it.
	Why string
	// Found names the index that serves it; empty when missing.
	Found string
	// Invalid names an index left invalid by a failed CREATE INDEX CONCURRENTLY.
	Invalid string
	// Create is the statement that adds the index, set when it is missing.
	Create string
}

// need is an access path: the index's name, its columns (DESC where the readers go
// newest first) and why it matters.
func need(name string, why string, columns ...string) IndexCheck {
	var plain, ordered []string
	for _, c := range columns {
		col, desc := strings.CutSuffix(c, " DESC")
		plain = append(plain, col)
		if desc {
			col += " DESC"
		}
		ordered = append(ordered, col)
	}
	return IndexCheck{Column: strings.Join(plain, ", "), Columns: plain, Why: why,
		Create: fmt.Sprintf("CREATE INDEX CONCURRENTLY %s ON orchestration.sync_history (%s);", name, strings.Join(ordered, ", "))}
}

// indexNeeds are the access paths, by leading columns, in the order the report lists them.
var indexNeeds = []IndexCheck{
	need("sync_history_start_time_idx", "recent syncs, runs per CRM and each CRM's latest run read rows by start time; "+
		"without it every refresh scans the whole table", "start_time DESC"),
	need("sync_history_end_time_idx", "the 24-hour counts, the charts and the errors read rows by when they finished "+
		"(end_time); without it each refresh scans the whole table (seconds on millions of rows), in the background", "end_time DESC"),
	need("sync_history_status_idx", "running and failed syncs are found by status; without it the active count scans the table", "status"),
	need("sync_history_crm_source_idx", "the CRM list is found by skipping through the distinct sources; without it "+
		"listing them scans the table", "crm_source"),
	need("sync_history_crm_entity_start_idx", "a CRM's page, the history filtered by CRM or entity and a run's neighbours "+
		"read each entity's rows newest first; without it they read the start_time index and filter, so a rare CRM "+
		"or entity costs up to the page's time budget and the history may answer in parts", "crm_source", "sync_type", "start_time DESC"),
	need("sync_history_status_start_idx", "the history filtered by status reads each status's rows newest first; without "+
		"it a rare status is found by filtering the start_time index, up to the page's time budget", "status", "start_time DESC"),
}

// Diagnose inspects the tables. It reads only the catalogs and statistics views.
func (db *DB) Diagnose(ctx context.Context) (Diagnosis, error) {
	var d Diagnosis
	var exists bool
	err := db.pool.QueryRow(ctx, `SELECT to_regclass('orchestration.sync_history') IS NOT NULL,
			current_setting('default_transaction_read_only') = 'on'`).Scan(&exists, &d.ReadOnly)
	if err != nil {
		return d, fmt.Errorf("doctor: %w", classify(err))
	}
	if !exists {
		return d, fmt.Errorf("doctor: there is no table orchestration.sync_history in this database")
	}
	var idType string
	var jsonNullable bool
	var analyzed *time.Time
	err = db.pool.QueryRow(ctx, `SELECT c.reltuples::bigint,
			(SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = c.oid AND attname = 'id'),
			(SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = c.oid AND attname = 'configuration'),
			(SELECT greatest(last_analyze, last_autoanalyze) FROM pg_stat_all_tables WHERE relid = c.oid),
			has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'),
			to_regclass('orchestration.sync_schedule') IS NOT NULL
		FROM pg_class c WHERE c.oid = 'orchestration.sync_history'::regclass`).
		Scan(&d.Rows, &idType, &jsonNullable, &analyzed, &d.CanWrite, &d.HasSchedules)
	if err != nil {
		return d, fmt.Errorf("doctor: table: %w", classify(err))
	}
	switch {
	case idType == "integer" && jsonNullable:
		d.Shape = "A"
	case idType == "bigint" && !jsonNullable:
		d.Shape = "B"
	}
	if analyzed != nil {
		d.LastAnalyzed = *analyzed
	}
	if d.Rows < 0 { // never vacuumed or analyzed: PostgreSQL 14+ says -1
		d.Rows = 0
	}

	type index struct {
		name    string
		columns []string
		valid   bool
	}
	var indexes []index
	// Each index's columns in order ('?' for an expression).
	err = db.query(ctx, "doctor: indexes", `SELECT i.indexrelid::regclass::text,
			(SELECT array_agg(COALESCE(a.attname::text, '?') ORDER BY k.n)
				FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
				LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
				WHERE k.n <= i.indnkeyatts),
			i.indisvalid
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
			WHERE i.indrelid = 'orchestration.sync_history'::regclass AND i.indpred IS NULL
				AND am.amname = 'btree'
			ORDER BY 1`, func(rows pgx.Rows) error {
		var ix index
		err := rows.Scan(&ix.name, &ix.columns, &ix.valid)
		indexes = append(indexes, ix)
		return err
	})
	if err != nil {
		return d, err
	}
	for _, need := range indexNeeds {
		check := need
		for _, ix := range indexes {
			if len(ix.columns) < len(need.Columns) || !slices.Equal(ix.columns[:len(need.Columns)], need.Columns) {
				continue
			}
			if ix.valid && check.Found == "" {
				check.Found = ix.name
			} else if !ix.valid {
				check.Invalid = ix.name
			}
		}
		if check.Found != "" {
			check.Create = ""
		}
		d.Indexes = append(d.Indexes, check)
	}

	beat, err := db.beatTable(ctx)
	if err != nil {
		return d, err
	}
	d.BeatTable = beat
	return d, nil
}
