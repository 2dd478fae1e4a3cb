// Package storetest is the behaviour every syncs.Store must show: the same rows go in, and
// every figure of the contract (docs/api.md) must come out as written there,
// on PostgreSQL in both table shapes and on SQLite alike. Each store's own tests call Run.
//
// The cases put their rows around a fixed "now" and check the figures the dashboard
// computes from the store's answers, with the edges that break naive code: the boundaries
// of every window, NULL end times, end before start, the status aliases, unknown statuses,
// ties, absent CRMs, time zones and rounding.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Row is a row of orchestration.sync_history to insert. Status is the raw column value,
// so aliases can be written; "" inserts success. SyncType "" inserts "contacts".
type Row struct {
	ID               int64 // 0: the database chooses
	CRMSource        string
	SyncType         string
	Status           string
	Start            time.Time
	End              *time.Time
	RecordsProcessed int64
	RecordsCreated   int64
	RecordsUpdated   int64
	RecordsFailed    int64
	ErrorMessage     *string
	// Endpoint is NULL when nil. Configuration and PerformanceMetrics are JSON text,
	// written as '{}' when nil.
	Endpoint           *string
	Configuration      *string
	PerformanceMetrics *string
}

// WithDefaults fills the fields a fixture must not leave empty.
func (r Row) WithDefaults() Row {
	if r.Status == "" {
		r.Status = syncs.StatusSuccess
	}
	if r.SyncType == "" {
		r.SyncType = "contacts"
	}
	return r
}

// Fixture writes rows into the database a store reads.
type Fixture interface {
	// Insert adds rows to sync_history and returns their ids.
	Insert(t testing.TB, rows ...Row) []int64
	// InsertSchedule adds a row to sync_schedule (its ID is ignored) with s.UpdatedAt as
	// its created_at and updated_at, and records s.LastRunAt as the beat scheduler's last
	// run of it (nil: never ran).
	InsertSchedule(t testing.TB, s syncs.Schedule)
}

// Harness opens an empty store and the fixture that fills it.
type Harness func(t *testing.T) (syncs.Store, Fixture)

// Now is the instant every case is computed at: a Thursday, 10:30 UTC.
var Now = time.Date(2025, time.October, 9, 10, 30, 0, 0, time.UTC)

// Run runs every case against stores from h.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"stats count the 24-hour window with both ends included", statsWindow},
		{"stats success rate is null without finished rows", statsEmpty},
		{"crm status follows the contract for every kind of latest row", crmStatus},
		{"crm status lists only recently seen unconfigured sources", crmStatusOthers},
		{"recent syncs are ordered by start time then id and filtered", recentSyncs},
		{"recent syncs show messages as stored, masked and cut", recentSyncMessages},
		{"charts cut days at midnight and leave empty days null", chartsDays},
		{"charts round means and rates exactly", chartsRounding},
		{"charts cut days in the display time zone across daylight saving time", chartsTimeZone},
		{"errors list the newest failures and their types", errorsRecent},
		{"errors reach further back when the shown days have few failures", errorsFallback},
		{"problematic crms are ranked by failure rate and capped at five", errorsProblematic},
		{"schedules give each crm its next run and mark missed runs overdue", schedulesNextAndOverdue},
		{"hostile text in every column comes out clean, masked and cut", hostileText},
		{"every figure agrees with a literal reading of the contract on random rows", randomAgreement},
		{"alerts: sync_failing counts failures after the last success, through aliases and skipped rows", alertsFailing},
		{"alerts: sync_stale judges the CRMs that ran in 30 days by their last success or partial", alertsStale},
		{"alerts: sync_stuck names every run running past the threshold", alertsStuck},
		{"alerts: schedule_overdue fires for an enabled schedule whose run did not start", alertsOverdue},
		{"alerts: empty_runs fires when the last three successes processed nothing", alertsEmpty},
		{"every number is the shortest decimal of its exact value", shortNumbers},
		{"snapshots give each entity its figures, failure, streak and empty runs", snapshotEntities},
		{"entities give each entity's latest, finished, timed and successful rows and its failure streak", entitiesAtEveryEdge},
		{"stuck runs are the running rows started before the threshold, oldest first", stuckRuns},
		{"success records are one entity's successful rows' records in a start range", successRecords},
		{"entities, stuck runs and success records agree with a literal reading on random rows", randomEntities},
	}
	cases = append(cases, drillCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}

// open returns an empty store, its fixture, and a dashboard over it at Now.
func open(t *testing.T, h Harness, loc *time.Location, now time.Time) (*dashboard.Dashboard, Fixture) {
	t.Helper()
	store, fx := h(t)
	t.Cleanup(func() { _ = store.Close() })
	d, err := dashboard.New(dashboard.Config{Store: store, Location: loc, Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	return d, fx
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// at is Now moved by d; ptr returns a pointer to it.
func at(d time.Duration) time.Time { return Now.Add(d) }

func ptr[T any](v T) *T { return &v }

func end(d time.Duration) *time.Time { return ptr(at(d)) }
