package syncs

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CRMQuery asks CRMSummary about one CRM.
type CRMQuery struct {
	Source string
	// Since: the entities are the sync_types with a row started at or after Since, and
	// every figure of EntitySummary is over those rows.
	Since time.Time
	// CountsSince (at or after Since): the counts of EntitySummary are over the rows
	// started at or after it.
	CountsSince time.Time
	// DayBounds cut the days of CRMSummary.Days: day i is [DayBounds[i], DayBounds[i+1])
	// of start_time. Nil asks for no days.
	DayBounds []time.Time
	// Failures is how many of the latest failed rows started since Since to return.
	Failures int
	// Successes is how many of each entity's latest success or partial rows to return.
	Successes int
}

// Check reports a query a store must refuse.
func (q CRMQuery) Check() error {
	switch {
	case q.Since.IsZero() || q.CountsSince.Before(q.Since):
		return errors.New("crm summary: since must be set, and counts since at or after it")
	case q.Failures < 0 || q.Successes < 0:
		return errors.New("crm summary: failures and successes must not be negative")
	case len(q.DayBounds) == 1:
		return errors.New("crm summary: one day bound cuts no day")
	}
	return nil
}

// From is the earliest start_time a store reads for q: Since, or the first day's start.
func (q CRMQuery) From() time.Time {
	if len(q.DayBounds) > 0 && q.DayBounds[0].Before(q.Since) {
		return q.DayBounds[0]
	}
	return q.Since
}

// CRMSummary is CRMSummary's answer.
type CRMSummary struct {
	// Entities are ordered by sync_type, byte by byte.
	Entities []EntitySummary
	Days     []EntityDay
	// Failures are the latest failed rows, newest first (start_time, then id), messages
	// cut as CutMessage cuts them.
	Failures []Run
}

// EntitySummary is one entity of a CRM over its rows started since CRMQuery.Since. Rows
// are ordered by (start_time, id), the latest being the greatest; statuses are canonical;
// "finished" is not running; "succeeded" is success or partial.
type EntitySummary struct {
	SyncType string
	// Latest is its latest row, LastFinished its latest finished one (nil when none).
	// Messages are not read.
	Latest       Run
	LastFinished *Run
	// LastSuccess is the greatest finished_at of its succeeded rows; nil when none.
	LastSuccess *time.Time
	// Runs counts its rows started since CRMQuery.CountsSince; Success, Failed and
	// Partial those of them with that status.
	Runs, Success, Failed, Partial int64
	// ConsecutiveFailures counts its failed rows after its latest succeeded row (all of
	// them when none succeeded); other statuses neither count nor break the streak.
	ConsecutiveFailures int64
	// Durations counts the known durations of its succeeded rows; DurationP50 and
	// DurationP95 are their nearest-rank percentiles (the value at rank ⌈p·n/100⌉).
	Durations                int64
	DurationP50, DurationP95 time.Duration
	// Records counts the known records_processed of its succeeded rows; RecordsMiddle
	// are their two middle values (the same value twice when Records is odd).
	Records       int64
	RecordsMiddle [2]int64
	// Successes are its latest succeeded rows, newest first, at most
	// CRMQuery.Successes. Running are its running rows, oldest first.
	Successes []Run
	Running   []Run
}

// Kinds of CRMRow.
const (
	// CRMRowEntity carries an entity's counts, last success, and the durations and
	// records of its succeeded rows.
	CRMRowEntity = "e"
	// CRMRowRun is one of its rows that plays a part (see the flags).
	CRMRowRun = "r"
	// CRMRowDay is one group of Days.
	CRMRowDay = "d"
	// CRMRowFailure is one of the latest failures.
	CRMRowFailure = "f"
)

// Flags of a CRMRowRun.
const (
	FlagLatest       = 1
	FlagLastFinished = 2
	FlagRunning      = 4
)

// CRMRow is one row a store reads for CRMSummary. Both stores read the same kinds of
// row, in one statement on PostgreSQL, and hand them to GatherCRMSummary, so that both
// build their answers alike.
type CRMRow struct {
	Kind     string
	SyncType string
	// N is, by kind: e runs since CountsSince; d the day.
	N int64
	// A, B, C, D are, by kind: e success, failed, partial, consecutive failures; d count,
	// records, duration microseconds, durations.
	A, B, C, D int64
	// Time is, by kind: e the last success (nil: none).
	Time *time.Time
	// Durations and Records are, for kind e, the known durations (microseconds) and
	// records_processed of the entity's succeeded rows, in any order: sorting them here
	// costs the database nothing.
	Durations, Records []int64
	// Run is the row of a kind r or f (with its message for f); Flags and SuccessRank
	// (1 the latest, 0 none) say what part an r row plays.
	Run         Run
	Flags       int64
	SuccessRank int64
}

// GatherCRMSummary joins the rows a store read into a summary. It fails on rows that
// contradict each other (an entity without its latest row, a rank out of range): a
// store's bug, better reported than shown.
func GatherCRMSummary(rows []CRMRow, q CRMQuery) (CRMSummary, error) {
	var out CRMSummary
	byType := map[string]*EntitySummary{}
	latest := map[string]bool{}
	entity := func(name string) *EntitySummary {
		e := byType[name]
		if e == nil {
			e = &EntitySummary{SyncType: name}
			byType[name] = e
		}
		return e
	}
	for _, r := range rows {
		switch r.Kind {
		case CRMRowEntity:
			e := entity(r.SyncType)
			e.Runs, e.Success, e.Failed, e.Partial, e.ConsecutiveFailures = r.N, r.A, r.B, r.C, r.D
			e.LastSuccess = r.Time
			if n := len(r.Durations); n > 0 {
				d := slices.Sorted(slices.Values(r.Durations))
				e.Durations = int64(n)
				e.DurationP50 = time.Duration(d[NearestRank(n, 50)]) * time.Microsecond
				e.DurationP95 = time.Duration(d[NearestRank(n, 95)]) * time.Microsecond
			}
			if n := len(r.Records); n > 0 {
				v := slices.Sorted(slices.Values(r.Records))
				e.Records, e.RecordsMiddle = int64(n), [2]int64{v[(n-1)/2], v[n/2]}
			}
		case CRMRowRun:
			e := entity(r.SyncType)
			run := r.Run
			run.ErrorMessage = nil
			if r.Flags&FlagLatest != 0 {
				e.Latest, latest[r.SyncType] = run, true
			}
			if r.Flags&FlagLastFinished != 0 {
				finished := run
				e.LastFinished = &finished
			}
			if r.Flags&FlagRunning != 0 {
				e.Running = append(e.Running, run)
			}
			if r.SuccessRank > 0 {
				if r.SuccessRank > int64(q.Successes) {
					return out, fmt.Errorf("crm summary: %s: success rank %d of %d", r.SyncType, r.SuccessRank, q.Successes)
				}
				e.Successes = append(e.Successes, run)
			}
		case CRMRowDay:
			out.Days = append(out.Days, EntityDay{Day: int(r.N), SyncType: r.SyncType, Status: r.Run.Status,
				Count: r.A, RecordsProcessed: r.B, DurationMicros: r.C, DurationCount: r.D})
		case CRMRowFailure:
			out.Failures = append(out.Failures, r.Run)
		default:
			return out, fmt.Errorf("crm summary: a row of kind %q", r.Kind)
		}
	}
	for name, e := range byType {
		if !latest[name] {
			return out, fmt.Errorf("crm summary: %s: no latest row", name)
		}
		slices.SortFunc(e.Successes, NewestFirst)
		slices.SortFunc(e.Running, func(a, b Run) int { return NewestFirst(b, a) })
		out.Entities = append(out.Entities, *e)
	}
	slices.SortFunc(out.Entities, func(a, b EntitySummary) int { return strings.Compare(a.SyncType, b.SyncType) })
	slices.SortFunc(out.Failures, NewestFirst)
	slices.SortFunc(out.Days, func(a, b EntityDay) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), strings.Compare(a.SyncType, b.SyncType), strings.Compare(a.Status, b.Status))
	})
	return out, nil
}

// NearestRank is the index, in n sorted values, of their p-th percentile by the
// nearest-rank method: the value at rank ⌈p·n/100⌉ (counted from 1), an actual value.
func NearestRank(n, p int) int {
	return max((p*n+99)/100, 1) - 1
}

// NewestFirst orders rows by start_time, then id, the greatest first.
func NewestFirst(a, b Run) int {
	return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(b.ID, a.ID))
}
