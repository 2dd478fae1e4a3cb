package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
//     status spelling (also with a CRM filter, when the statuses are rare ones);
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
	// typeIndex: an index led by crm_source, sync_type (shape B's): it cannot give an
	// entity's rows in start order, but it tells at once whether the entity has any.
	typeIndex bool
}

func (t *tableInfo) has(column string) bool { return slices.Contains(t.columns, column) }

// tableInfoCache looks the table up once; a failed look-up is tried again next time.
type tableInfoCache struct {
	// turn is a lock a caller can stop waiting for: one lookup at a time, and a request
	// whose context ends while the database does not answer gives up its place.
	turn chan struct{}
	info *tableInfo
}

// table returns what the drill-down needs to know about sync_history, looked up on first
// use: a table's columns and indexes change only with a migration. Only the key columns
// of btree indexes count: an INCLUDE column or a BRIN or hash index cannot serve an
// ordered read. An index created on the doctor's advice is used after a restart.
func (db *DB) table(ctx context.Context) (*tableInfo, error) {
	select {
	case db.tableInfo.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("sync_history's columns and indexes: %w", classify(ctx.Err()))
	}
	defer func() { <-db.tableInfo.turn }()
	if db.tableInfo.info != nil {
		return db.tableInfo.info, nil
	}
	const sql = `SELECT
		(SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
			WHERE attrelid = 'orchestration.sync_history'::regclass AND attnum > 0 AND NOT attisdropped),
		(SELECT array_agg(cols) FROM (
			SELECT (SELECT string_agg(COALESCE(a.attname::text, '?'), ',' ORDER BY k.n)
				FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
				LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
				WHERE k.n <= i.indnkeyatts) AS cols
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
			WHERE i.indrelid = 'orchestration.sync_history'::regclass AND i.indisvalid AND i.indpred IS NULL
				AND am.amname = 'btree') x)`
	var columns, indexes []string
	if err := db.pool.QueryRow(ctx, sql).Scan(&columns, &indexes); err != nil {
		return nil, fmt.Errorf("sync_history's columns and indexes: %w", classify(err))
	}
	info := &tableInfo{columns: columns}
	for _, ix := range indexes {
		cols := ix + ","
		info.entityIndex = info.entityIndex || strings.HasPrefix(cols, "crm_source,sync_type,start_time,")
		info.statusIndex = info.statusIndex || strings.HasPrefix(cols, "status,start_time,")
		info.typeIndex = info.typeIndex || strings.HasPrefix(cols, "crm_source,sync_type,")
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

// crmSummarySQL answers CRMSummary in one statement, which reads the CRM's rows since
// the query's From once (r) and answers every part from them; only small answers leave
// the server, tagged by kind (syncs.CRMRow):
//
//   - w: the rows since Since, each with its place among its entity's rows, newest first:
//     among all (nth), the finished ones and the succeeded ones (running counts over one
//     sort per entity, as Entities places its rows);
//   - e: per entity, the counts since CountsSince, the failures after the latest success
//     (a failed row no success follows: nth_ok = 0), the last success, and the durations
//     and records of the succeeded rows, unsorted (the percentiles and median are taken
//     in Go, which saves the server two sorts);
//   - r: the rows that play a part: latest, latest finished, running, latest successes;
//   - d: r by day of start_time, entity and status;
//   - f: the latest failures, their messages read by primary key.
//
// Parameters: $1 source, $2 From, $3 Since, $4 CountsSince, $5 the day bounds, $6
// Failures, $7 Successes.
func crmSummarySQL(t *tableInfo) string {
	// crmRows numbers its two parameters $1 (the source) and $2 (the start).
	from := crmRows(t, new(sqlArgs), "", time.Time{}, nil)
	return `WITH r AS MATERIALIZED (
			SELECT id, sync_type, ` + canonicalStatusSQL + ` AS status, start_time, end_time, records_processed,
				` + durationMicrosSQL + ` AS dur,
				status IN ('success', 'completed', 'partial') AS ok,
				NOT ` + runningSQL + ` AS finished
			FROM ` + from + `
		), w AS (
			SELECT *,
				row_number() OVER e AS nth,
				count(*) FILTER (WHERE finished) OVER e AS nth_finished,
				count(*) FILTER (WHERE ok) OVER e AS nth_ok
			FROM r WHERE start_time >= $3
			WINDOW e AS (PARTITION BY sync_type ORDER BY start_time DESC, id DESC ROWS UNBOUNDED PRECEDING)
		)
		SELECT 'e', sync_type, NULL::text, count(*) FILTER (WHERE start_time >= $4),
			count(*) FILTER (WHERE start_time >= $4 AND status = 'success'),
			count(*) FILTER (WHERE start_time >= $4 AND status = 'failed'),
			count(*) FILTER (WHERE start_time >= $4 AND status = 'partial'),
			count(*) FILTER (WHERE status = 'failed' AND nth_ok = 0),
			max(COALESCE(end_time, start_time)) FILTER (WHERE ok), NULL::bigint, NULL::bigint, NULL::bigint,
			NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::text, NULL::text, NULL::int,
			array_agg(dur) FILTER (WHERE ok AND dur IS NOT NULL),
			array_agg(records_processed::bigint) FILTER (WHERE ok AND records_processed IS NOT NULL)
		FROM w GROUP BY sync_type
		UNION ALL
		SELECT 'r', sync_type, status, NULL, NULL, NULL, NULL, NULL, NULL,
			(CASE WHEN nth = 1 THEN ` + itoa(syncs.FlagLatest) + ` ELSE 0 END) +
				(CASE WHEN finished AND nth_finished = 1 THEN ` + itoa(syncs.FlagLastFinished) + ` ELSE 0 END) +
				(CASE WHEN NOT finished THEN ` + itoa(syncs.FlagRunning) + ` ELSE 0 END),
			CASE WHEN ok AND nth_ok <= $7 THEN nth_ok ELSE 0 END,
			id, start_time, end_time, records_processed, NULL, NULL, NULL, NULL, NULL
		FROM w WHERE nth = 1 OR (finished AND nth_finished = 1) OR NOT finished OR (ok AND nth_ok <= $7)
		UNION ALL
		SELECT 'd', sync_type, status, width_bucket(start_time, $5::timestamptz[]) - 1, count(*),
			COALESCE(sum(records_processed), 0)::bigint, COALESCE(sum(dur), 0)::bigint, count(dur),
			NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
		FROM r WHERE cardinality($5::timestamptz[]) > 1 AND start_time >= ($5::timestamptz[])[1]
			AND start_time < ($5::timestamptz[])[cardinality($5::timestamptz[])]
		GROUP BY 2, 3, 4
		UNION ALL
		SELECT 'f', f.sync_type, f.status, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			f.id, f.start_time, f.end_time, f.records_processed, m.message_head, m.message_tail, m.message_length, NULL, NULL
		FROM (SELECT * FROM w WHERE status = 'failed' ORDER BY start_time DESC, id DESC LIMIT $6) f
		CROSS JOIN LATERAL (
			SELECT ` + messageHeadSQL + ` AS message_head, ` + messageTailSQL + ` AS message_tail,
				length(error_message) AS message_length
			FROM orchestration.sync_history WHERE id = f.id
		) m`
}

func itoa(n int) string { return strconv.Itoa(n) }

// CRMSummary implements syncs.Store in one statement (crmSummarySQL).
func (db *DB) CRMSummary(ctx context.Context, q syncs.CRMQuery) (syncs.CRMSummary, error) {
	if err := q.Check(); err != nil {
		return syncs.CRMSummary{}, err
	}
	t, err := db.table(ctx)
	if err != nil {
		return syncs.CRMSummary{}, err
	}
	sql := crmSummarySQL(t)
	bounds := q.DayBounds
	if bounds == nil {
		bounds = []time.Time{}
	}
	var read []syncs.CRMRow
	err = db.query(ctx, "crm summary", sql, func(rows pgx.Rows) error {
		var c syncs.CRMRow
		var status, head, tail *string
		var n, a, b, cc, d, flags, rank, id, records *int64
		var length *int
		var start *time.Time
		if err := rows.Scan(&c.Kind, &c.SyncType, &status, &n, &a, &b, &cc, &d, &c.Time, &flags, &rank,
			&id, &start, &c.Run.End, &records, &head, &tail, &length, &c.Durations, &c.Records); err != nil {
			return err
		}
		val := func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		}
		c.N, c.A, c.B, c.C, c.D, c.Flags, c.SuccessRank = val(n), val(a), val(b), val(cc), val(d), val(flags), val(rank)
		c.Run.ID, c.Run.SyncType, c.Run.CRMSource, c.Run.RecordsProcessed = val(id), c.SyncType, q.Source, records
		if status != nil {
			c.Run.Status = *status
		}
		if start != nil {
			c.Run.Start = *start
		}
		c.Run.ErrorMessage = cutMessage(head, tail, length)
		read = append(read, c)
		return nil
	}, q.Source, q.From(), q.Since, q.CountsSince, bounds, q.Failures, q.Successes)
	if err != nil {
		return syncs.CRMSummary{}, err
	}
	return syncs.GatherCRMSummary(read, q)
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
	if !t.entityIndex && t.typeIndex && (len(q.CRMSources) > 0 || q.SyncType != "") {
		// Without the entity index a span of start_time is read and filtered: for a CRM
		// or entity that has no row at all, the whole span. Ask first.
		any, err := db.entitiesExist(ctx, q)
		if err != nil || !any {
			return nil, err
		}
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
	// With both a CRM (or entity) and a status, the rarer decides which index to walk:
	// every status but success is a few percent of the rows (failures 2 %), while one
	// CRM can be half of them; so a status without success walks its status's rows.
	rareStatuses := len(q.RawStatuses) > 0 && !slices.ContainsFunc(q.RawStatuses, func(s string) bool {
		return syncs.CanonicalStatus(s) == syncs.StatusSuccess
	})
	switch {
	case t.entityIndex && (len(q.CRMSources) > 0 || q.SyncType != "") && !(t.statusIndex && rareStatuses):
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

// entitiesExist reports whether any entity the history query names has a row: one
// probe of the (crm_source, sync_type) index per entity.
func (db *DB) entitiesExist(ctx context.Context, q syncs.HistoryQuery) (bool, error) {
	var args sqlArgs
	sql := entitiesCTE(&args, q) + `
		SELECT EXISTS (SELECT 1 FROM entities e WHERE e.c IS NOT NULL AND e.t IS NOT NULL
			AND EXISTS (SELECT 1 FROM orchestration.sync_history h WHERE h.crm_source = e.c AND h.sync_type = e.t))`
	var exists bool
	err := db.query(ctx, "history: entities", sql, func(rows pgx.Rows) error { return rows.Scan(&exists) }, args...)
	return exists, err
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
		r, err := scanRun(rows, &d.RawStatus, &d.Endpoint, &d.CreatedAt, &d.Configuration, &d.PerformanceMetrics)
		if err != nil {
			return err
		}
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
