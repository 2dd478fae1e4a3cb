package metrics_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/metrics"
)

// capped is a snapshot with seven (crm, sync_type) pairs: six entities, one of them a
// real sync_type named "other", and a schedule whose model_name is a class name.
func capped() dashboard.Snapshot {
	at := func(d time.Duration) time.Time { return T0.Add(d) }
	finished := func(id int64, end time.Duration) *dashboard.EntityRun {
		return &dashboard.EntityRun{ID: id, Status: "success", StartTime: at(end - time.Minute), EndTime: ptr(at(end))}
	}
	s := dashboard.Snapshot{HasFigures: true, Meta: dashboard.Meta{Timestamp: T0}}
	s.CRMs = []dashboard.CRMStatus{
		{Source: "a"},
		{Source: "b", Schedules: []dashboard.ScheduleInfo{
			{ModelName: "Z_model", NextRun: ptr(at(3 * time.Hour))},
			{ModelName: "y1", NextRun: ptr(at(time.Hour))},
			{ModelName: "y3", NextRun: ptr(at(2 * time.Hour)), Overdue: true},
		}},
	}
	s.Entities = []dashboard.EntityStatus{
		{CRMSource: "a", SyncType: "x1", LastRun: dashboard.EntityRun{StartTime: at(-time.Hour)}},
		{CRMSource: "a", SyncType: "x2", LastRun: dashboard.EntityRun{StartTime: at(-time.Hour)}},
		{CRMSource: "b", SyncType: "other", LastRun: dashboard.EntityRun{StartTime: at(-10 * time.Hour)},
			LastFinished: finished(7, -10*time.Hour), LastSuccess: ptr(at(-10 * time.Hour)),
			LastDurationSeconds: ptr(5.0), LastRecordsProcessed: ptr(int64(1))},
		{CRMSource: "b", SyncType: "y1", LastRun: dashboard.EntityRun{StartTime: at(-3 * time.Hour)},
			LastFinished: finished(1, -179*time.Minute), LastSuccess: ptr(at(-179 * time.Minute)),
			LastDurationSeconds: ptr(60.0), LastRecordsProcessed: ptr(int64(10))},
		// Its latest finished run is the newest of all, but its duration is unknown.
		{CRMSource: "b", SyncType: "y2", LastRun: dashboard.EntityRun{StartTime: at(-time.Hour), Status: "running"},
			LastFinished: finished(5, -80*time.Minute), LastRecordsProcessed: ptr(int64(20)), ConsecutiveFailures: 4},
		{CRMSource: "b", SyncType: "y3", LastRun: dashboard.EntityRun{StartTime: at(-2 * time.Hour)},
			LastFinished: finished(3, -90*time.Minute), LastSuccess: ptr(at(-90 * time.Minute)),
			LastDurationSeconds: ptr(45.0), LastRecordsProcessed: ptr(int64(30)), ConsecutiveFailures: 1},
	}
	return s
}

func TestPastTheCapEntitiesCountUnderOther(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{MaxEntities: 4})
	r.exporter.Update(capped())
	got := samples(t, scrape(t, r.exporter.Handler()), false)
	entitySeries := map[string]float64{}
	for k, v := range got {
		if strings.Contains(k, "sync_type=") {
			entitySeries[k] = v
		}
	}
	at := func(d time.Duration) float64 { return unix(T0.Add(d)) }
	// Kept, in byte order: a/x1, a/x2, b/Z_model, b/other. Folded: b/y1, b/y2, b/y3,
	// into the real b/other.
	want := map[string]float64{
		`syncwatch_sync_last_run_start_timestamp_seconds{crm="a",sync_type="x1"}`:    at(-time.Hour),
		`syncwatch_sync_last_run_start_timestamp_seconds{crm="a",sync_type="x2"}`:    at(-time.Hour),
		`syncwatch_sync_consecutive_failures{crm="a",sync_type="x1"}`:                0,
		`syncwatch_sync_consecutive_failures{crm="a",sync_type="x2"}`:                0,
		`syncwatch_schedule_next_run_timestamp_seconds{crm="b",sync_type="Z_model"}`: at(3 * time.Hour),
		`syncwatch_schedule_overdue{crm="b",sync_type="Z_model"}`:                    0,

		// The latest of each timestamp; the highest failure count, so that a rule on
		// it fires if it would for any of them.
		`syncwatch_sync_last_run_start_timestamp_seconds{crm="b",sync_type="other"}`: at(-time.Hour),
		`syncwatch_sync_last_success_timestamp_seconds{crm="b",sync_type="other"}`:   at(-90 * time.Minute),
		`syncwatch_sync_consecutive_failures{crm="b",sync_type="other"}`:             4,
		// Those of the entity whose latest finished run is the newest among those that
		// know the figure: y3 for the duration (y2's is unknown), y2 for the records.
		`syncwatch_sync_last_duration_seconds{crm="b",sync_type="other"}`:  45,
		`syncwatch_sync_last_records_processed{crm="b",sync_type="other"}`: 20,
		// The earliest next run, overdue if any is.
		`syncwatch_schedule_next_run_timestamp_seconds{crm="b",sync_type="other"}`: at(time.Hour),
		`syncwatch_schedule_overdue{crm="b",sync_type="other"}`:                    1,
	}
	if diff := cmp.Diff(want, entitySeries); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if n := strings.Count(r.logs.String(), "counted under sync_type"); n != 1 {
		t.Errorf("logged the cap %d times, want once:\n%s", n, r.logs)
	}
	if !strings.Contains(r.logs.String(), "cap=4 folded=3") {
		t.Errorf("the log line does not say the cap and how many: %s", r.logs)
	}

	// The next snapshot is still over the cap: not logged again.
	r.exporter.Update(capped())
	scrape(t, r.exporter.Handler())
	if n := strings.Count(r.logs.String(), "counted under sync_type"); n != 1 {
		t.Errorf("logged the cap %d times after two snapshots, want once", n)
	}
}

func TestAtTheCapNothingIsFolded(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{MaxEntities: 7})
	r.exporter.Update(capped())
	got := samples(t, scrape(t, r.exporter.Handler()), false)
	pairs := map[string]bool{}
	for k := range got {
		if _, labels, ok := strings.Cut(k, "{"); ok && strings.Contains(labels, "sync_type=") {
			pairs[labels] = true
		}
	}
	want := []string{
		`crm="a",sync_type="x1"}`, `crm="a",sync_type="x2"}`, `crm="b",sync_type="Z_model"}`,
		`crm="b",sync_type="other"}`, `crm="b",sync_type="y1"}`, `crm="b",sync_type="y2"}`, `crm="b",sync_type="y3"}`,
	}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(pairs))); diff != "" {
		t.Errorf("pairs (-want +got):\n%s", diff)
	}
	if got[`syncwatch_sync_consecutive_failures{crm="b",sync_type="other"}`] != 0 {
		t.Error("the real sync_type \"other\" took another entity's failures")
	}
	if r.logs.String() != "" {
		t.Errorf("logged %q at the cap, want nothing", r.logs)
	}
}
