package syncs

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
)

// DrillDown is the questions of the drill-down pages (a CRM's page, the history, one
// run). They are asked on demand, for one CRM, one entity or one page of rows, never for
// the whole table: each is a range of an index on shape A (see docs/performance.md), and
// the dashboard bounds the span of rows each page may search, so that none of them reads
// more than a bounded number of rows on a table without those indexes either.
type DrillDown interface {
	// CRMSummary answers what a CRM's page shows of one crm_source: each entity's
	// figures over its rows started since q.Since, its rows by day, and its latest
	// failures (see CRMQuery). It is one question so that the CRM's rows are read once.
	CRMSummary(ctx context.Context, q CRMQuery) (CRMSummary, error)

	// EntityRuns returns the rows of one entity (crm_source, sync_type) whose start_time
	// is in [from, to), newest first, at most limit. Messages and the counts other than
	// records_processed are not read.
	EntityRuns(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]Run, error)

	// History returns the rows that q selects, newest first (start_time, then id,
	// descending), at most q.Limit, messages cut (see CutMessage).
	History(ctx context.Context, q HistoryQuery) ([]Run, error)

	// RunByID returns the row with this id, with every column the table has; false when
	// there is none.
	RunByID(ctx context.Context, id int64) (RunDetail, bool, error)

	// Neighbours returns the rows of the same entity just before and just after the
	// position (start_time, id) in start order; nil where there is none.
	Neighbours(ctx context.Context, source, syncType string, at Position) (prev, next *Run, err error)

	// OldestStart returns the least start_time of the table, and false when it is empty.
	OldestStart(ctx context.Context) (time.Time, bool, error)
}

// ErrTooSlow wraps, besides ErrUnavailable, every error that means a statement ran out of
// the time allowed to it (the server's statement timeout, or the caller's deadline): the
// drill-down answers what it found before, and says so, instead of failing.
var ErrTooSlow = errors.New("the query took longer than allowed")

// Position is a place in the table's start order: rows sort by start_time, then id. A
// history page continues with the rows strictly before a position, newest first.
type Position struct {
	Start time.Time
	ID    int64
}

// Floor is the position before which only rows that started before t lie: every row that
// started at t or later is after it.
func Floor(t time.Time) Position { return Position{Start: t, ID: math.MinInt64} }

// Before reports whether the row (start, id) lies strictly before p.
func (p Position) Before(start time.Time, id int64) bool {
	return start.Before(p.Start) || (start.Equal(p.Start) && id < p.ID)
}

// EntityDay is one group of a CRM's rows by day: those of one entity with one canonical
// status that started on one day.
type EntityDay struct {
	Day      int
	SyncType string
	Status   string
	Count    int64
	// RecordsProcessed is the sum of records_processed (NULLs count as nothing).
	RecordsProcessed int64
	// DurationMicros and DurationCount sum the known durations (see Run.Duration).
	DurationMicros int64
	DurationCount  int64
}

// HistoryQuery selects rows for History. Empty fields do not filter; every condition
// holds at once.
type HistoryQuery struct {
	// CRMSources: crm_source is one of them.
	CRMSources []string
	// SyncType: sync_type equals it.
	SyncType string
	// RawStatuses: the status column is one of these raw values (see RawStatuses).
	RawStatuses []string
	// From and To bound start_time to [From, To); zero does not bound.
	From, To time.Time
	// Before, when set, keeps the rows strictly before this position.
	Before *Position
	// MinDuration, when set, keeps the rows whose duration is known (see Run.Duration)
	// and longer than it. It is a whole number of microseconds, not negative.
	MinDuration *time.Duration
	// MessageParts, when set, keeps the rows whose stored error_message holds these
	// texts in this order, ignoring the case of ASCII letters (a store may fold more,
	// as PostgreSQL's ILIKE does: the caller checks the shown text again).
	MessageParts []string
	// Limit is the most rows to return (at least 1).
	Limit int
}

// Check reports a query a store must refuse.
func (q HistoryQuery) Check() error {
	if q.Limit < 1 {
		return errors.New("history: limit must be at least 1")
	}
	if q.MinDuration != nil && (*q.MinDuration < 0 || *q.MinDuration%time.Microsecond != 0) {
		return errors.New("history: minimum duration must be a whole number of microseconds, not negative")
	}
	return nil
}

// LikePattern is MessageParts as a LIKE pattern with '\' as its escape character: each
// part literally, anything before, between and after.
func (q HistoryQuery) LikePattern() string {
	var b strings.Builder
	b.WriteByte('%')
	for _, p := range q.MessageParts {
		for _, r := range p {
			if r == '%' || r == '_' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('%')
	}
	return b.String()
}

// RunDetail is one row with every column the table has.
type RunDetail struct {
	// Run is the row, its message cut as CutMessage cuts it.
	Run Run
	// RawStatus is the status column as written (an alias stays an alias).
	RawStatus string
	// Columns names the columns the table has, in the table's order.
	Columns []string
	// Endpoint, CreatedAt, Configuration and PerformanceMetrics are nil when NULL or when
	// the table has no such column. The JSON columns are JSON text.
	Endpoint           *string
	CreatedAt          *time.Time
	Configuration      *string
	PerformanceMetrics *string
}
