package dashboard

import "time"

// The JSON the API answers, field for field as docs/api.md defines it.
// A figure that cannot be computed is a nil pointer, encoded as null, never 0.

// Meta is carried by every response: when its figures were computed and whether they are
// the last good ones kept through an outage.
type Meta struct {
	Timestamp time.Time `json:"timestamp"`
	Stale     bool      `json:"stale"`
	// StaleSince is the time of the first failed refresh, while Stale.
	StaleSince *time.Time `json:"stale_since,omitempty"`
}

// StatsResponse answers GET api/stats/.
type StatsResponse struct {
	Overview Overview `json:"overview"`
	Meta
}

// Overview is the cards at the top of the page.
type Overview struct {
	ActiveSyncs    int64    `json:"active_syncs"`
	CompletedToday int64    `json:"completed_today"`
	FailedToday    int64    `json:"failed_today"`
	PartialToday   int64    `json:"partial_today"`
	StuckSyncs     int64    `json:"stuck_syncs"`
	SuccessRate    *float64 `json:"success_rate"`
	// OverdueCRMs counts the CRMs with at least one overdue schedule.
	OverdueCRMs int `json:"overdue_crms"`
}

// CRMStatusResponse answers GET api/crm-status/.
type CRMStatusResponse struct {
	CRMs []CRMStatus `json:"crms"`
	Meta
}

// CRMStatus is one row of the CRM table.
type CRMStatus struct {
	Source string `json:"source"`
	Name   string `json:"name"`
	// Status is the latest row's status, or "never".
	Status string `json:"status"`
	// SyncType is the entity of the latest row.
	SyncType *string `json:"sync_type"`
	// LastStart is the latest row's start_time.
	LastStart   *time.Time `json:"last_start"`
	LastSync    *time.Time `json:"last_sync"`
	LastSuccess *time.Time `json:"last_success"`
	Running     int64      `json:"running"`
	Stuck       int64      `json:"stuck"`

	RecordsProcessed *int64   `json:"records_processed"`
	RecordsCreated   *int64   `json:"records_created"`
	RecordsUpdated   *int64   `json:"records_updated"`
	DurationSeconds  *float64 `json:"duration_seconds"`
	RecordsPerSecond *float64 `json:"records_per_second"`

	NextSync  *time.Time     `json:"next_sync"`
	Overdue   bool           `json:"overdue"`
	Schedules []ScheduleInfo `json:"schedules"`
}

// ScheduleInfo is one of a CRM's schedules.
type ScheduleInfo struct {
	Name string `json:"name"`
	// ModelName is the schedule's model_name: the entity it syncs, as the warehouse
	// names it (a sync_type in practice, sometimes a model class name or NA).
	ModelName  string `json:"model_name"`
	Mode       string `json:"mode"`
	Recurrence string `json:"recurrence"`
	State      string `json:"state"`
	// Invalid is why beat cannot run the schedule, when State is "invalid".
	Invalid string `json:"invalid,omitempty"`
	// Note explains an answer that might surprise (why the next run is unknown).
	Note    string     `json:"note,omitempty"`
	NextRun *time.Time `json:"next_run"`
	// Due is true when the next run is already past: beat sends it at its next tick.
	Due     bool `json:"due"`
	Overdue bool `json:"overdue"`
	// LastExpected is when beat should last have sent the schedule's task.
	LastExpected *time.Time `json:"last_expected"`
}

// RecentSyncsResponse answers GET api/recent-syncs/.
type RecentSyncsResponse struct {
	Syncs []SyncRun `json:"syncs"`
	Total int       `json:"total"`
	Meta
}

// SyncRun is one row of the recent activity list.
type SyncRun struct {
	ID               int64      `json:"id"`
	CRMSource        string     `json:"crm_source"`
	Name             string     `json:"name"`
	SyncType         string     `json:"sync_type"`
	Status           string     `json:"status"`
	StartTime        time.Time  `json:"start_time"`
	EndTime          *time.Time `json:"end_time"`
	DurationSeconds  *float64   `json:"duration_seconds"`
	RecordsPerSecond *float64   `json:"records_per_second"`
	RecordsProcessed *int64     `json:"records_processed"`
	RecordsCreated   *int64     `json:"records_created"`
	RecordsUpdated   *int64     `json:"records_updated"`
	RecordsFailed    *int64     `json:"records_failed"`
	ErrorMessage     *string    `json:"error_message"`
	// ErrorType classifies the message of a failed row; nil for other rows.
	ErrorType *string `json:"error_type"`
	// Stuck marks a running row older than the stuck threshold.
	Stuck bool `json:"stuck"`
}

// ChartsResponse answers GET api/performance-charts/.
type ChartsResponse struct {
	SyncDurationTrend Trend  `json:"sync_duration_trend"`
	RecordsByCRM      Counts `json:"records_by_crm"`
	SuccessRateTrend  Trend  `json:"success_rate_trend"`
	SyncFrequency     Counts `json:"sync_frequency"`
	Days              int    `json:"days"`
	// TimeZone is the display time zone the days are cut in.
	TimeZone string `json:"time_zone"`
	Meta
}

// Trend is a value per day; nil for a day without data.
type Trend struct {
	Labels []string   `json:"labels"`
	Data   []*float64 `json:"data"`
}

// Counts is a count per label.
type Counts struct {
	Labels []string `json:"labels"`
	Data   []int64  `json:"data"`
}

// ErrorsResponse answers GET api/errors/.
type ErrorsResponse struct {
	RecentErrors      []ErrorEntry     `json:"recent_errors"`
	ErrorDistribution Counts           `json:"error_distribution"`
	ProblematicCRMs   []ProblematicCRM `json:"problematic_crms"`
	Days              int              `json:"days"`
	// Since is the start of the shown days (midnight in the display time zone), so that
	// the page's links to the history can ask for the same days.
	Since time.Time `json:"since"`
	Meta
}

// ErrorEntry is one recent failure.
type ErrorEntry struct {
	ID           int64     `json:"id"`
	CRMSource    string    `json:"crm_source"`
	Name         string    `json:"name"`
	SyncType     string    `json:"sync_type"`
	FailedAt     time.Time `json:"failed_at"`
	ErrorType    string    `json:"error_type"`
	ErrorMessage *string   `json:"error_message"`
}

// ProblematicCRM is a CRM with failures in the shown days.
type ProblematicCRM struct {
	Source      string  `json:"source"`
	Name        string  `json:"name"`
	Failed      int64   `json:"failed"`
	Total       int64   `json:"total"`
	FailureRate float64 `json:"failure_rate"`
}
