package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down's questions (syncs.DrillDown). They read one CRM, one entity or one page
// of rows, and each is written for the access paths the table has, which are looked up
// once (tableInfo):
//
//   - with an index led by (crm_source, sync_type, start_time), as shape A has, a question
//     about a CRM or an entity enumerates the CRM's entities by a loose index scan (one
//     probe each) and reads each entity's rows as one range of that index, newest first:
//     the cost is the rows asked for, however deep in the history and however rare the
//     CRM;
//   - with an index led by (status, start_time), a status filter reads one range per raw
//     status spelling;
//   - without them (shape B), the plain statement is left to the planner, and the
//     dashboard bounds the span of start_time each statement may cover (see
//     dashboard/history.go), so that none reads more than that span's rows through the
//     start_time index both shapes have. "syncwatch doctor" names the two indexes.

// tableInfo is what the drill-down needs to know about sync_history: its columns and which
// of the access paths above its indexes offer.
type tableInfo struct {
	columns     []string
	entityIndex bool // an index led by crm_source, sync_type, start_time
	statusIndex bool // an index led by status, start_time
}

func (t *tableInfo) has(column string) bool { return slices.Contains(t.columns, column) }

// tableInfoCache looks the table up once; a failed look-up is tried again next time.
type tableInfoCache struct {
	mu   sync.Mutex
	info *tableInfo
}

// table returns what the drill-down needs to know about sync_history, looked up on first
// use: a table's columns and indexes change only with a migration, and syncwatch is
// restarted with the warehouse's application.
func (db *DB) table(ctx context.Context) (*tableInfo, error) {
	db.tableInfo.mu.Lock()
	defer db.tableInfo.mu.Unlock()
	if db.tableInfo.info != nil {
		return db.tableInfo.info, nil
	}
	const sql = `SELECT
		(SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
			WHERE attrelid = 'orchestration.sync_history'::regclass AND attnum > 0 AND NOT attisdropped),
		(SELECT array_agg(cols) FROM (
			SELECT (SELECT string_agg(COALESCE(a.attname::text, '?'), ',' ORDER BY k.n)
				FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
				LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS cols
			FROM pg_index i
			WHERE i.indrelid = 'orchestration.sync_history'::regclass AND i.indisvalid AND i.indpred IS NULL) x)`
	var columns, indexes []string
	if err := db.pool.QueryRow(ctx, sql).Scan(&columns, &indexes); err != nil {
		return nil, fmt.Errorf("sync_history's columns and indexes: %w", classify(err))
	}
	info := &tableInfo{columns: columns}
	for _, ix := range indexes {
		cols := ix + ","
		info.entityIndex = info.entityIndex || strings.HasPrefix(cols, "crm_source,sync_type,start_time,")
		info.statusIndex = info.statusIndex || strings.HasPrefix(cols, "status,start_time,")
	}
	db.tableInfo.info = info
	return info, nil
}

// sqlArgs collects a statement's parameters.
type sqlArgs []any

// add appends v and returns its placeholder.
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// durationMicrosSQL is Run.Duration in whole microseconds, NULL when unknown.
const durationMicrosSQL = `CASE WHEN NOT ` + runningSQL + ` AND end_time >= start_time
	THEN round(date_part('epoch', end_time - start_time) * 1000000)::bigint END`

// crmRows is a FROM item of one CRM's rows (all columns) started in [from, to) (to may be
// nil: no upper bound): with the entity index, each entity's range of it, found by a loose
// index scan over the CRM's entities; without, a plain condition for the planner.
func crmRows(t *tableInfo, args *sqlArgs, source string, from time.Time, to *time.Time) string {
	s := args.add(source)
	cond := `start_time >= ` + args.add(from)
	if to != nil {
		cond += ` AND start_time < ` + args.add(*to)
	}
	if !t.entityIndex {
		return `(SELECT * FROM orchestration.sync_history WHERE crm_source = ` + s + ` AND ` + cond + `) r`
	}
	return `(WITH RECURSIVE types(t) AS (
			SELECT min(sync_type) FROM orchestration.sync_history WHERE crm_source = ` + s + `
			UNION ALL
			SELECT (SELECT min(h.sync_type) FROM orchestration.sync_history h
				WHERE h.crm_source = ` + s + ` AND h.sync_type > types.t)
			FROM types WHERE types.t IS NOT NULL
		)
		SELECT e.* FROM types CROSS JOIN LATERAL (
			SELECT * FROM orchestration.sync_history
			WHERE crm_source = ` + s + ` AND sync_type = types.t AND ` + cond + `
		) e WHERE types.t IS NOT NULL) r`
}

// CRMRuns implements syncs.Store.
func (db *DB) CRMRuns(ctx context.Context, source string, since time.Time) ([]syncs.Run, error) {
	t, err := db.table(ctx)
	if err != nil {
		return nil, err
	}
	var args sqlArgs
	sql := `SELECT id, crm_source, sync_type, ` + canonicalStatusSQL + `, start_time, end_time, records_processed
		FROM ` + crmRows(t, &args, source, since, nil)
	var runs []syncs.Run
	err = db.query(ctx, "crm runs", sql, func(rows pgx.Rows) error {
		var r syncs.Run
		err := rows.Scan(&r.ID, &r.CRMSource, &r.SyncType, &r.Status, &r.Start, &r.End, &r.RecordsProcessed)
		runs = append(runs, r)
		return err
	}, args...)
	// Newest first, sorted here rather than by the server: the server only reads ranges.
	slices.SortFunc(runs, newestFirst)
	return runs, err
}

func newestFirst(a, b syncs.Run) int {
	if c := b.Start.Compare(a.Start); c != 0 {
		return c
	}
	switch {
	case a.ID > b.ID:
		return -1
	case a.ID < b.ID:
		return 1
	}
	return 0
}

// CRMDays implements syncs.Store. Days are found with width_bucket, as FinishedSince finds
// them.
func (db *DB) CRMDays(ctx context.Context, source string, bounds []time.Time) ([]syncs.EntityDay, error) {
	if len(bounds) < 2 {
		return nil, nil
	}
	t, err := db.table(ctx)
	if err != nil {
		return nil, err
	}
	var args sqlArgs
	from := crmRows(t, &args, source, bounds[0], &bounds[len(bounds)-1])
	b := args.add(bounds)
	sql := `SELECT width_bucket(start_time, ` + b + `::timestamptz[]), sync_type, ` + canonicalStatusSQL + `,
			count(*), COALESCE(sum(records_processed), 0)::bigint,
			COALESCE(sum(` + durationMicrosSQL + `), 0)::bigint, count(` + durationMicrosSQL + `)
		FROM ` + from + ` GROUP BY 1, 2, 3`
	var days []syncs.EntityDay
	err = db.query(ctx, "crm days", sql, func(rows pgx.Rows) error {
		var d syncs.EntityDay
		if err := rows.Scan(&d.Day, &d.SyncType, &d.Status, &d.Count, &d.RecordsProcessed,
			&d.DurationMicros, &d.DurationCount); err != nil {
			return err
		}
		d.Day-- // width_bucket counts from 1 for [bounds[0], bounds[1])
		days = append(days, d)
		return nil
	}, args...)
	return days, err
}

// EntityRuns implements syncs.Store: one range of the entity index on shape A.
func (db *DB) EntityRuns(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]syncs.Run, error) {
	if limit < 0 {
		return nil, fmt.Errorf("entity runs: limit is %d, want 0 or more", limit)
	}
	const sql = `SELECT id, crm_source, sync_type, ` + canonicalStatusSQL + `, start_time, end_time, records_processed
		FROM orchestration.sync_history
		WHERE crm_source = $1 AND sync_type = $2 AND start_time >= $3 AND start_time < $4
		ORDER BY start_time DESC, id DESC LIMIT $5`
	var runs []syncs.Run
	err := db.query(ctx, "entity runs", sql, func(rows pgx.Rows) error {
		var r syncs.Run
		err := rows.Scan(&r.ID, &r.CRMSource, &r.SyncType, &r.Status, &r.Start, &r.End, &r.RecordsProcessed)
		runs = append(runs, r)
		return err
	}, source, syncType, from, to, limit)
	return runs, err
}

// History implements syncs.Store; see the top of this file for the three ways it reads.
func (db *DB) History(ctx context.Context, q syncs.HistoryQuery) ([]syncs.Run, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	t, err := db.table(ctx)
	if err != nil {
		return nil, err
	}
	var args sqlArgs
	limit := args.add(q.Limit)
	// The conditions every way shares.
	var conds []string
	if !q.From.IsZero() {
		conds = append(conds, `start_time >= `+args.add(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, `start_time < `+args.add(q.To))
	}
	if q.Before != nil {
		// Written so that start_time <= … bounds an index range and the id only decides
		// among the rows of that one instant. id is int4 on shape A: compare as bigint.
		s, id := args.add(q.Before.Start), args.add(q.Before.ID)
		conds = append(conds, `start_time <= `+s+` AND (start_time < `+s+` OR id < `+id+`::bigint)`)
	}
	if q.MinDuration != nil {
		conds = append(conds, `NOT `+runningSQL+` AND end_time >= start_time AND end_time - start_time > `+
			args.add((*q.MinDuration).Microseconds())+`::bigint * interval '1 microsecond'`)
	}
	if len(q.MessageParts) > 0 {
		conds = append(conds, `error_message ILIKE `+args.add(q.LikePattern())+` ESCAPE '\'`)
	}
	where := func(extra ...string) string {
		all := append(slices.Clone(conds), extra...)
		if len(all) == 0 {
			return ""
		}
		return ` WHERE ` + strings.Join(all, " AND ")
	}
	const order = ` ORDER BY start_time DESC, id DESC LIMIT `
	var sql string
	switch {
	case t.entityIndex && (len(q.CRMSources) > 0 || q.SyncType != ""):
		var statusCond []string
		if len(q.RawStatuses) > 0 {
			statusCond = append(statusCond, `status = ANY(`+args.add(q.RawStatuses)+`::text[])`)
		}
		sql = entitiesCTE(&args, q) + `
			SELECT b.* FROM entities e CROSS JOIN LATERAL (
				SELECT ` + runColumns + ` FROM orchestration.sync_history` +
			where(append(statusCond, `crm_source = e.c`, `sync_type = e.t`)...) + order + limit + `
			) b WHERE e.c IS NOT NULL AND e.t IS NOT NULL
			ORDER BY b.start_time DESC, b.id DESC LIMIT ` + limit
	case t.statusIndex && len(q.RawStatuses) > 0:
		var filters []string
		if len(q.CRMSources) > 0 {
			filters = append(filters, `crm_source = ANY(`+args.add(q.CRMSources)+`::text[])`)
		}
		if q.SyncType != "" {
			filters = append(filters, `sync_type = `+args.add(q.SyncType))
		}
		var branches []string
		for _, st := range q.RawStatuses {
			branches = append(branches, `(SELECT `+runColumns+` FROM orchestration.sync_history`+
				where(append(slices.Clone(filters), `status = `+args.add(st))...)+order+limit+`)`)
		}
		sql = `SELECT * FROM (` + strings.Join(branches, " UNION ALL ") + `) u ORDER BY u.start_time DESC, u.id DESC LIMIT ` + limit
	default:
		var filters []string
		if len(q.CRMSources) > 0 {
			filters = append(filters, `crm_source = ANY(`+args.add(q.CRMSources)+`::text[])`)
		}
		if q.SyncType != "" {
			filters = append(filters, `sync_type = `+args.add(q.SyncType))
		}
		if len(q.RawStatuses) > 0 {
			filters = append(filters, `status = ANY(`+args.add(q.RawStatuses)+`::text[])`)
		}
		sql = `SELECT ` + runColumns + ` FROM orchestration.sync_history` + where(filters...) + order + limit
	}
	return db.runs(ctx, "history", sql, args...)
}

// entitiesCTE is a WITH clause naming the entities (c, t) a history query reads, one range
// of the entity index each: the given CRMs with the given sync_type, or each given CRM's
// entities, or every CRM with the given sync_type; those lists are found by loose index
// scans, one probe per value.
func entitiesCTE(args *sqlArgs, q syncs.HistoryQuery) string {
	switch {
	case len(q.CRMSources) > 0 && q.SyncType != "":
		return `WITH entities(c, t) AS (SELECT c, ` + args.add(q.SyncType) + `::text
			FROM unnest(` + args.add(q.CRMSources) + `::text[]) AS c)`
	case len(q.CRMSources) > 0:
		return `WITH RECURSIVE entities(c, t) AS (
				SELECT c, (SELECT min(h.sync_type) FROM orchestration.sync_history h WHERE h.crm_source = c)
				FROM unnest(` + args.add(q.CRMSources) + `::text[]) AS c
				UNION ALL
				SELECT e.c, (SELECT min(h.sync_type) FROM orchestration.sync_history h
					WHERE h.crm_source = e.c AND h.sync_type > e.t)
				FROM entities e WHERE e.t IS NOT NULL
			)`
	default:
		return `WITH RECURSIVE sources(c) AS (
				SELECT min(crm_source) FROM orchestration.sync_history
				UNION ALL
				SELECT (SELECT min(h.crm_source) FROM orchestration.sync_history h WHERE h.crm_source > s.c)
				FROM sources s WHERE s.c IS NOT NULL
			), entities(c, t) AS (SELECT c, ` + args.add(q.SyncType) + `::text FROM sources)`
	}
}

// RunByID implements syncs.Store, by primary key. The columns a table may lack are read
// only where it has them.
func (db *DB) RunByID(ctx context.Context, id int64) (syncs.RunDetail, bool, error) {
	t, err := db.table(ctx)
	if err != nil {
		return syncs.RunDetail{}, false, err
	}
	optional := func(column, expr string) string {
		if t.has(column) {
			return expr
		}
		return `NULL`
	}
	sql := `SELECT ` + runColumns + `, status,
			` + optional("endpoint", "endpoint::text") + `,
			` + optional("created_at", "created_at") + `::timestamptz,
			` + optional("configuration", "configuration::text") + `,
			` + optional("performance_metrics", "performance_metrics::text") + `
		FROM orchestration.sync_history WHERE id = $1::bigint`
	var d syncs.RunDetail
	found := false
	err = db.query(ctx, "run", sql, func(rows pgx.Rows) error {
		var r syncs.Run
		var head, tail *string
		var length *int
		if err := rows.Scan(&r.ID, &r.CRMSource, &r.SyncType, &r.Status, &r.Start, &r.End,
			&r.RecordsProcessed, &r.RecordsCreated, &r.RecordsUpdated, &r.RecordsFailed,
			&head, &tail, &length, &d.RawStatus, &d.Endpoint, &d.CreatedAt, &d.Configuration,
			&d.PerformanceMetrics); err != nil {
			return err
		}
		r.ErrorMessage = cutMessage(head, tail, length)
		d.Run, found = r, true
		return nil
	}, id)
	if err != nil || !found {
		return syncs.RunDetail{}, false, err
	}
	d.Columns = slices.Clone(t.columns)
	return d, true, nil
}

// Neighbours implements syncs.Store: one range of the entity index each way on shape A.
func (db *DB) Neighbours(ctx context.Context, source, syncType string, at syncs.Position) (*syncs.Run, *syncs.Run, error) {
	const cols = `id, crm_source, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time`
	const sql = `(SELECT true, ` + cols + ` FROM orchestration.sync_history
			WHERE crm_source = $1 AND sync_type = $2 AND start_time <= $3 AND (start_time < $3 OR id < $4::bigint)
			ORDER BY start_time DESC, id DESC LIMIT 1)
		UNION ALL
		(SELECT false, ` + cols + ` FROM orchestration.sync_history
			WHERE crm_source = $1 AND sync_type = $2 AND start_time >= $3 AND (start_time > $3 OR id > $4::bigint)
			ORDER BY start_time, id LIMIT 1)`
	var prev, next *syncs.Run
	err := db.query(ctx, "neighbours", sql, func(rows pgx.Rows) error {
		var before bool
		var r syncs.Run
		if err := rows.Scan(&before, &r.ID, &r.CRMSource, &r.SyncType, &r.Status, &r.Start, &r.End); err != nil {
			return err
		}
		if before {
			prev = &r
		} else {
			next = &r
		}
		return nil
	}, source, syncType, at.Start, at.ID)
	return prev, next, err
}

// OldestStart implements syncs.Store: the first entry of the start_time index.
func (db *DB) OldestStart(ctx context.Context) (time.Time, bool, error) {
	var oldest *time.Time
	err := db.query(ctx, "oldest start", `SELECT min(start_time) FROM orchestration.sync_history`,
		func(rows pgx.Rows) error { return rows.Scan(&oldest) })
	if err != nil || oldest == nil {
		return time.Time{}, false, err
	}
	return *oldest, true, nil
}
