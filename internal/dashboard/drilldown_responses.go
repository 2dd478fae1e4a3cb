package dashboard

import (
	"errors"
	"time"
)

// The JSON of the drill-down pages (docs/api.md defines every field). A figure that
// cannot be computed is nil, encoded as null, never 0.

// ErrNotFound is returned for a CRM the warehouse does not know or a run it does not hold.
var ErrNotFound = errors.New("not found")

// ErrBusy is returned when too many CSV exports run at once; the viewer may try again.
var ErrBusy = errors.New("too many exports at once")

// CRMResponse answers GET api/crms/<source>/.
type CRMResponse struct {
	// CRM is the CRM's line of api/crm-status/: its status, last success, next run,
	// running and stuck counts, schedules.
	CRM CRMStatus `json:"crm"`
	// SeenIn30Days is false when no row of the CRM started in the last 30 days.
	SeenIn30Days bool `json:"seen_in_30_days"`
	// Entities are the CRM's sync_types with a row started in the last 30 days, by
	// sync_type.
	Entities []EntityFigures `json:"entities"`
	// Running are the CRM's running rows started in the last 30 days, oldest first.
	Running []RunningRun `json:"running"`
	// RecentFailures are its latest failed rows started in the last 30 days, newest first.
	RecentFailures []ErrorEntry `json:"recent_failures"`
	Charts         CRMCharts    `json:"charts"`
	Meta
}

// EntityFigures is one line of a CRM's page: one sync_type.
type EntityFigures struct {
	SyncType    string     `json:"sync_type"`
	LastRun     RunRef     `json:"last_run"`
	LastSuccess *time.Time `json:"last_success"`

	Runs7d        int64    `json:"runs_7d"`
	Failed7d      int64    `json:"failed_7d"`
	SuccessRate7d *float64 `json:"success_rate_7d"`

	DurationP50  *float64 `json:"duration_p50"`
	DurationP95  *float64 `json:"duration_p95"`
	DurationRuns int64    `json:"duration_runs"`

	RecordsLast      *int64   `json:"records_last"`
	RecordsMedian30d *float64 `json:"records_median_30d"`

	ConsecutiveFailures int64 `json:"consecutive_failures"`

	NextRun *time.Time `json:"next_run"`
	Overdue bool       `json:"overdue"`

	Marks EntityMarks `json:"marks"`
}

// EntityMarks are the derived marks of an entity.
type EntityMarks struct {
	// Slow is true when one of its running rows is slow (see RunningRun).
	Slow bool `json:"slow"`
	// EmptyRuns is true when its last three success or partial rows processed 0 records
	// while the median of the 30 days before them is above 0; EmptyRunsMedian is that
	// median.
	EmptyRuns       bool     `json:"empty_runs"`
	EmptyRunsMedian *float64 `json:"empty_runs_median"`
	// FailureStreak is true when it failed twice or more in a row.
	FailureStreak bool `json:"failure_streak"`
}

// RunRef names one row.
type RunRef struct {
	ID              int64      `json:"id"`
	Status          string     `json:"status"`
	StartTime       time.Time  `json:"start_time"`
	EndTime         *time.Time `json:"end_time"`
	DurationSeconds *float64   `json:"duration_seconds"`
}

// RunningRun is a row in progress and how it compares with its entity's own durations.
type RunningRun struct {
	ID             int64     `json:"id"`
	SyncType       string    `json:"sync_type"`
	StartTime      time.Time `json:"start_time"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
	// DurationP95 and DurationRuns are its entity's (see EntityFigures).
	DurationP95  *float64 `json:"duration_p95"`
	DurationRuns int64    `json:"duration_runs"`
	Stuck        bool     `json:"stuck"`
	Slow         bool     `json:"slow"`
}

// CRMCharts are a CRM's charts over its shown days, cut by the day the rows started.
type CRMCharts struct {
	Days     int      `json:"days"`
	TimeZone string   `json:"time_zone"`
	Labels   []string `json:"labels"`
	// DurationByEntity is, per entity, the time its success and partial rows took each
	// day; the entities that took the most, then "other" for the rest summed.
	DurationByEntity []Series `json:"duration_by_entity"`
	// Records is the records processed each day by the rows that are not running.
	Records []int64 `json:"records"`
	// SuccessRate is the success rate of each day's rows.
	SuccessRate []*float64 `json:"success_rate"`
}

// Series is a named value per shown day; nil for a day without any.
type Series struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"`
}

// HistoryResponse answers GET api/history/.
type HistoryResponse struct {
	Runs  []SyncRun `json:"runs"`
	Limit int       `json:"limit"`
	// NextCursor continues the history after this page; nil when it holds the last row.
	NextCursor *string `json:"next_cursor"`
	// SearchedBackTo is set when the page stopped searching before finding a full page:
	// only rows that started at or after it (and before the cursor) were searched, and
	// NextCursor searches on. Note says why.
	SearchedBackTo *time.Time `json:"searched_back_to"`
	Note           *string    `json:"note"`
	Meta
}

// RunDetailResponse answers GET api/runs/<id>/.
type RunDetailResponse struct {
	Run RunInfo `json:"run"`
	// Entity is how long its entity's runs take (as on the CRM's page).
	Entity EntityDurations `json:"entity"`
	// Previous and Next are the rows of the same entity just before and after it.
	Previous *RunRef `json:"previous"`
	Next     *RunRef `json:"next"`
	Meta
	// notFound: the answer is that there is no such row.
	notFound bool
}

// RunInfo is every column of one row.
type RunInfo struct {
	SyncRun
	// RawStatus is the status column as written; Status is its canonical word.
	RawStatus string     `json:"raw_status"`
	Endpoint  *string    `json:"endpoint"`
	CreatedAt *time.Time `json:"created_at"`
	// Configuration and PerformanceMetrics are the JSON columns, formatted; nil when NULL
	// or when the table has no such column (Columns says which it has).
	Configuration      *string  `json:"configuration"`
	PerformanceMetrics *string  `json:"performance_metrics"`
	Columns            []string `json:"columns"`
	// ElapsedSeconds and Slow are set while it runs.
	ElapsedSeconds *float64 `json:"elapsed_seconds"`
	Slow           bool     `json:"slow"`
}

// EntityDurations are an entity's duration percentiles over the last 30 days.
type EntityDurations struct {
	DurationP50  *float64 `json:"duration_p50"`
	DurationP95  *float64 `json:"duration_p95"`
	DurationRuns int64    `json:"duration_runs"`
}
