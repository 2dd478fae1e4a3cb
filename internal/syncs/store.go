package syncs

import (
	"context"
	"time"
)

// Store answers questions about the rows of orchestration.sync_history and
// orchestration.sync_schedule. Every method only reads. Implementations: postgres (the
// warehouse) and sqlite (the embedded demo); internal/storetest holds the behaviour both
// must show, row for row.
//
// The questions are shaped so that an index can bound each of them on a table of millions
// of rows; the arithmetic that turns their answers into the dashboard's figures (rates,
// means, rounding) lives in one place, the dashboard package, so both stores agree.
type Store interface {
	// RunningByCRM counts the running rows of each CRM, and how many of them started
	// before stuckBefore. CRMs without running rows are absent.
	RunningByCRM(ctx context.Context, stuckBefore time.Time) ([]RunningCount, error)

	// LatestByCRM returns, for every crm_source that has any row, its latest row: the one
	// with the greatest start_time, ties broken by the greatest id. Messages are not read.
	LatestByCRM(ctx context.Context) ([]Run, error)

	// LastSuccess returns the greatest finished_at among the source's success rows, and
	// false when it has none.
	LastSuccess(ctx context.Context, source string) (time.Time, bool, error)

	// FinishedSince reads the rows that are not running and whose finished_at is at or
	// after w.From: it aggregates them by day, 24-hour window, CRM and status, and returns
	// the failed ones themselves, messages cut (see CutMessage). It is one question so that
	// a table without an index on end_time is scanned once per refresh, not twice.
	FinishedSince(ctx context.Context, w Window) (Finished, error)

	// StartedByCRM counts, per CRM, the rows whose start_time is in [from, to).
	StartedByCRM(ctx context.Context, from, to time.Time) ([]CRMCount, error)

	// RecentFailures returns the limit failed rows with the greatest finished_at (ties: the
	// greatest id), newest first, messages cut.
	RecentFailures(ctx context.Context, limit int) ([]Run, error)

	// RecentRuns returns the rows with the greatest start_time (ties: the greatest id),
	// newest first, messages cut, filtered as the query says.
	RecentRuns(ctx context.Context, q RecentQuery) ([]Run, error)

	// Schedules returns every row of orchestration.sync_schedule, with the beat
	// scheduler's last run time where its table exists.
	Schedules(ctx context.Context) ([]Schedule, error)

	// StartedNear reports which of the probes have a row of their CRM whose start_time is
	// in [From, To]. The answer has one entry per probe, in order.
	StartedNear(ctx context.Context, probes []StartProbe) ([]bool, error)

	// Entities answers, for every entity (crm_source, sync_type) with a row started at or
	// after q.Since, what alerts and metrics need to know of it (see Entity), ordered by
	// crm_source, then sync_type, byte by byte. It is asked once per refresh, never per
	// viewer or scrape. A query that EntityQuery.Check refuses is an error.
	Entities(ctx context.Context, q EntityQuery) ([]Entity, error)

	// StuckRuns returns the running rows (status running or in_progress) whose start_time
	// is before stuckBefore, oldest first (start_time, then id), at most limit (a negative
	// limit is an error); messages are not read.
	StuckRuns(ctx context.Context, stuckBefore time.Time, limit int) ([]Run, error)

	// SuccessRecords returns records_processed of one entity's success and partial rows
	// whose start_time is in [from, to), at most limit values (a negative limit is an
	// error), in no particular order (the caller takes a median). NULLs, which mean "not
	// known", are left out.
	SuccessRecords(ctx context.Context, crmSource, syncType string, from, to time.Time, limit int) ([]int64, error)

	// Health measures a round trip of a trivial query, counts the server's connections
	// to the monitored database, and checks that the tables are as syncwatch needs them:
	// an error wrapping ErrNotReady says what is wrong and how to fix it.
	Health(ctx context.Context) (DatabaseHealth, error)

	// DrillDown is the questions of the drill-down pages (drilldown.go).
	DrillDown

	// Close releases the store's connections.
	Close() error
}

// RunningCount is how many of one CRM's rows are running, and how many of those are stuck.
type RunningCount struct {
	CRMSource string
	Running   int64
	Stuck     int64
}

// CRMCount is a count of rows of one CRM.
type CRMCount struct {
	CRMSource string
	Count     int64
}

// Window is the span FinishedSince reads.
//
// Rows with finished_at ≥ From are read. A row falls on day i when
// DayBounds[i] ≤ finished_at < DayBounds[i+1]; on no day (-1) otherwise. It is in the
// 24-hour window when Since ≤ finished_at ≤ Until. From is at most DayBounds[0] and at
// most Since.
type Window struct {
	From      time.Time
	DayBounds []time.Time
	Since     time.Time
	Until     time.Time
}

// Finished is FinishedSince's answer.
type Finished struct {
	Groups []FinishedGroup
	// Failures are the failed rows, in no particular order.
	Failures []Run
}

// FinishedGroup is one group of FinishedSince: the rows of one CRM with one canonical
// status that fall on one day (or none, -1) and are (or are not) in the 24-hour window.
type FinishedGroup struct {
	Day       int
	In24Hours bool
	CRMSource string
	Status    string
	Count     int64
	// RecordsProcessed is the sum of records_processed (NULLs count as nothing).
	RecordsProcessed int64
	// DurationMicros and DurationCount sum the known durations in whole microseconds, the
	// resolution of both databases, so that means are computed exactly, not in floats.
	DurationMicros int64
	DurationCount  int64
	// LastFinished is the greatest finished_at in the group.
	LastFinished time.Time
}

// RecentQuery filters RecentRuns. Empty fields do not filter.
type RecentQuery struct {
	Limit     int
	CRMSource string
	// Status is canonical: "success" also matches rows written as "completed".
	Status string
	// StartedAfter and StartedAtOrBefore, when not zero, narrow the rows read to those
	// with start_time > StartedAfter or start_time <= StartedAtOrBefore (only the first
	// when the second is zero): two index ranges. The caller knows where a rare CRM's rows
	// are (its latest start, as of its last figures), so the scan starts there instead of
	// walking back from today through every other CRM's rows.
	StartedAfter      time.Time
	StartedAtOrBefore time.Time
}

// RecentRange is one range of rows a store reads for RecentRuns, in start_time order
// (newest first, ties by id) and limited: the store merges the ranges' rows and keeps the
// first Limit. Each range is what one index range serves.
type RecentRange struct {
	// CRMSource is the crm_source to match; "" matches any.
	CRMSource string
	// StartedAfter and StartedAtOrBefore bound start_time; zero does not bound.
	StartedAfter, StartedAtOrBefore time.Time
	// RawStatus is the status column's value to match; "" matches any.
	RawStatus string
}

// Comparison is one condition of a range, for a store to write in its SQL as
// "Column Op parameter", with Value bound to the parameter.
type Comparison struct {
	Column string // a column of sync_history: crm_source, start_time or status
	Op     string // =, > or <=
	Value  any    // a string, or a time.Time for start_time
}

// Comparisons are the conditions, all to hold, that select the range's rows; none for a
// range of every row.
func (r RecentRange) Comparisons() []Comparison {
	var cs []Comparison
	if r.CRMSource != "" {
		cs = append(cs, Comparison{"crm_source", "=", r.CRMSource})
	}
	if !r.StartedAfter.IsZero() {
		cs = append(cs, Comparison{"start_time", ">", r.StartedAfter})
	}
	if !r.StartedAtOrBefore.IsZero() {
		cs = append(cs, Comparison{"start_time", "<=", r.StartedAtOrBefore})
	}
	if r.RawStatus != "" {
		cs = append(cs, Comparison{"status", "=", r.RawStatus})
	}
	return cs
}

// Ranges splits q into the ranges a store reads: one per start_time range of the hints
// and per raw spelling of the status (a single IN list cannot be read in start_time order
// by PostgreSQL 15).
func (q RecentQuery) Ranges() []RecentRange {
	var spans []RecentRange
	switch {
	case !q.StartedAfter.IsZero() && !q.StartedAtOrBefore.IsZero():
		spans = []RecentRange{{StartedAfter: q.StartedAfter}, {StartedAtOrBefore: q.StartedAtOrBefore}}
	default:
		spans = []RecentRange{{StartedAfter: q.StartedAfter, StartedAtOrBefore: q.StartedAtOrBefore}}
	}
	statuses := []string{""}
	if q.Status != "" {
		statuses = RawStatuses(q.Status)
	}
	var ranges []RecentRange
	for _, span := range spans {
		span.CRMSource = q.CRMSource
		for _, st := range statuses {
			span.RawStatus = st
			ranges = append(ranges, span)
		}
	}
	return ranges
}

// StartProbe asks whether a CRM has a row that started in [From, To].
type StartProbe struct {
	CRMSource string
	From, To  time.Time
}

// Schedule is one row of orchestration.sync_schedule.
type Schedule struct {
	ID             int64
	Name           string
	CRMSource      string
	ModelName      string
	Mode           string
	SourceKey      string
	RecurrenceType string
	Every          *int64
	Period         *string
	Minute         *string
	Hour           *string
	DayOfWeek      *string
	DayOfMonth     *string
	MonthOfYear    *string
	StartAt        *time.Time
	EndAt          *time.Time
	Enabled        bool
	// UpdatedAt is when an administrator last changed the schedule (zero: unknown).
	// Beat reloads a changed schedule, so runs it should have sent before then were
	// never owed.
	UpdatedAt time.Time
	// LastRunAt is django-celery-beat's last_run_at for the schedule's periodic task;
	// nil when the task never ran or the beat table is absent.
	LastRunAt *time.Time
}

// DatabaseHealth is what a store measures about its own database.
type DatabaseHealth struct {
	ResponseTime    time.Duration
	ConnectionCount int64
	// Label names the database as the page shows it ("PostgreSQL 15.19", "SQLite").
	Label string
	// Warnings are problems that leave the figures right but incomplete (the schedules
	// table missing or unreadable), each with its fix.
	Warnings []string
}
