package metrics_test

import (
	"compress/gzip"
	"context"
	"io"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/metrics"
)

// fixture is a snapshot with a case of everything the metrics must get right: an entity
// that succeeded, one whose latest finished run was partial while another runs, one that
// never succeeded and keeps failing, a configured CRM that never ran, several schedules
// of one entity (one disabled), an ended schedule, an overdue one beside one that is
// not, each health status.
func fixture() dashboard.Snapshot {
	at := func(d time.Duration) time.Time { return T0.Add(d) }
	return dashboard.Snapshot{
		HasFigures: true,
		Meta:       dashboard.Meta{Timestamp: at(-20 * time.Second)},
		CRMs: []dashboard.CRMStatus{
			{Source: "hubspot", Running: 1, Stuck: 0, Schedules: []dashboard.ScheduleInfo{
				{ModelName: "contacts", State: "scheduled", NextRun: ptr(at(30 * time.Minute))},
				{ModelName: "contacts", State: "scheduled", NextRun: ptr(at(10 * time.Minute))},
				{ModelName: "contacts", State: "disabled"},
				{ModelName: "deals", State: "ended"},
			}},
			{Source: "genius", Running: 2, Stuck: 1, Schedules: []dashboard.ScheduleInfo{
				{ModelName: "appointments", State: "scheduled", NextRun: ptr(at(-20 * time.Minute)), Due: true, Overdue: true},
				{ModelName: "appointments", State: "scheduled", NextRun: ptr(at(40 * time.Minute))},
			}},
			{Source: "callrail", Status: "never"},
		},
		Runs24h: []dashboard.CRMOutcomes{
			{CRMSource: "hubspot", Success: 5, Partial: 1},
			{CRMSource: "genius", Failed: 3},
		},
		Entities: []dashboard.EntityStatus{
			{
				CRMSource: "genius", SyncType: "appointments",
				LastRun:             dashboard.EntityRun{ID: 20, Status: "running", StartTime: at(-2 * time.Hour)},
				LastFinished:        &dashboard.EntityRun{ID: 19, Status: "failed", StartTime: at(-3 * time.Hour)},
				ConsecutiveFailures: 3,
			},
			{
				CRMSource: "hubspot", SyncType: "contacts",
				LastRun:              dashboard.EntityRun{ID: 10, Status: "success", StartTime: at(-15 * time.Minute), EndTime: ptr(at(-12 * time.Minute))},
				LastFinished:         &dashboard.EntityRun{ID: 10, Status: "success", StartTime: at(-15 * time.Minute), EndTime: ptr(at(-12 * time.Minute))},
				LastSuccess:          ptr(at(-12 * time.Minute)),
				LastDurationSeconds:  ptr(180.0),
				LastRecordsProcessed: ptr(int64(1523)),
			},
			{
				CRMSource: "hubspot", SyncType: "deals",
				LastRun:              dashboard.EntityRun{ID: 11, Status: "running", StartTime: at(-5 * time.Minute)},
				LastFinished:         &dashboard.EntityRun{ID: 9, Status: "partial", StartTime: at(-65 * time.Minute), EndTime: ptr(at(-60 * time.Minute))},
				LastSuccess:          ptr(at(-60 * time.Minute)),
				LastDurationSeconds:  ptr(300.5),
				LastRecordsProcessed: ptr(int64(0)),
			},
		},
		Health: dashboard.SystemHealthResponse{Report: health.Report{
			Database: health.DatabaseReport{Check: checked(health.StatusHealthy)},
			Redis:    health.RedisReport{Check: checked(health.StatusDegraded)},
			Celery: health.CeleryReport{
				Check:           checked(health.StatusUnhealthy),
				AnsweredWorkers: ptr(0),
				Queues: []health.QueueReport{
					{Name: "dw-production", Pending: 7},
					{Name: "celery", Pending: 0},
				},
			},
		}},
		Refreshes: dashboard.RefreshStats{
			Total: 4, Failed: 1, DurationSum: 1500 * time.Millisecond,
			Buckets: []dashboard.RefreshBucket{{UpTo: 100 * time.Millisecond, Count: 1}, {UpTo: time.Second, Count: 3}, {UpTo: 5 * time.Second, Count: 4}},
		},
		At:              T0,
		RefreshInterval: 30 * time.Second,
		StuckAfter:      time.Hour,
	}
}

func checked(s health.Status) health.Check {
	return health.Check{Status: s, CheckedAt: ptr(T0.Add(-5 * time.Second))}
}

// fixtureWant is what the fixture must give, series by series, with the clock at T0+70s.
func fixtureWant() map[string]float64 {
	at := func(d time.Duration) float64 { return unix(T0.Add(d)) }
	return map[string]float64{
		`syncwatch_sync_last_success_timestamp_seconds{crm="hubspot",sync_type="contacts"}`: at(-12 * time.Minute),
		`syncwatch_sync_last_success_timestamp_seconds{crm="hubspot",sync_type="deals"}`:    at(-60 * time.Minute),
		// genius/appointments never succeeded in 30 days: absent, not 0.

		`syncwatch_sync_last_run_start_timestamp_seconds{crm="genius",sync_type="appointments"}`: at(-2 * time.Hour),
		`syncwatch_sync_last_run_start_timestamp_seconds{crm="hubspot",sync_type="contacts"}`:    at(-15 * time.Minute),
		`syncwatch_sync_last_run_start_timestamp_seconds{crm="hubspot",sync_type="deals"}`:       at(-5 * time.Minute),

		`syncwatch_sync_last_duration_seconds{crm="hubspot",sync_type="contacts"}`:  180,
		`syncwatch_sync_last_duration_seconds{crm="hubspot",sync_type="deals"}`:     300.5,
		`syncwatch_sync_last_records_processed{crm="hubspot",sync_type="contacts"}`: 1523,
		`syncwatch_sync_last_records_processed{crm="hubspot",sync_type="deals"}`:    0,

		`syncwatch_sync_consecutive_failures{crm="genius",sync_type="appointments"}`: 3,
		`syncwatch_sync_consecutive_failures{crm="hubspot",sync_type="contacts"}`:    0,
		`syncwatch_sync_consecutive_failures{crm="hubspot",sync_type="deals"}`:       0,

		`syncwatch_sync_running{crm="callrail"}`: 0,
		`syncwatch_sync_running{crm="genius"}`:   2,
		`syncwatch_sync_running{crm="hubspot"}`:  1,
		`syncwatch_sync_stuck{crm="callrail"}`:   0,
		`syncwatch_sync_stuck{crm="genius"}`:     1,
		`syncwatch_sync_stuck{crm="hubspot"}`:    0,

		`syncwatch_sync_runs_24h{crm="callrail",status="failed"}`:  0,
		`syncwatch_sync_runs_24h{crm="callrail",status="partial"}`: 0,
		`syncwatch_sync_runs_24h{crm="callrail",status="success"}`: 0,
		`syncwatch_sync_runs_24h{crm="genius",status="failed"}`:    3,
		`syncwatch_sync_runs_24h{crm="genius",status="partial"}`:   0,
		`syncwatch_sync_runs_24h{crm="genius",status="success"}`:   0,
		`syncwatch_sync_runs_24h{crm="hubspot",status="failed"}`:   0,
		`syncwatch_sync_runs_24h{crm="hubspot",status="partial"}`:  1,
		`syncwatch_sync_runs_24h{crm="hubspot",status="success"}`:  5,

		// The earliest of the enabled schedules; an ended schedule has no next run.
		`syncwatch_schedule_next_run_timestamp_seconds{crm="genius",sync_type="appointments"}`: at(-20 * time.Minute),
		`syncwatch_schedule_next_run_timestamp_seconds{crm="hubspot",sync_type="contacts"}`:    at(10 * time.Minute),
		`syncwatch_schedule_overdue{crm="genius",sync_type="appointments"}`:                    1,
		`syncwatch_schedule_overdue{crm="hubspot",sync_type="contacts"}`:                       0,
		`syncwatch_schedule_overdue{crm="hubspot",sync_type="deals"}`:                          0,

		`syncwatch_component_up{component="celery"}`:                          0,
		`syncwatch_component_up{component="database"}`:                        1,
		`syncwatch_component_up{component="redis"}`:                           1,
		`syncwatch_component_status{component="celery",status="degraded"}`:    0,
		`syncwatch_component_status{component="celery",status="healthy"}`:     0,
		`syncwatch_component_status{component="celery",status="unhealthy"}`:   1,
		`syncwatch_component_status{component="database",status="degraded"}`:  0,
		`syncwatch_component_status{component="database",status="healthy"}`:   1,
		`syncwatch_component_status{component="database",status="unhealthy"}`: 0,
		`syncwatch_component_status{component="redis",status="degraded"}`:     1,
		`syncwatch_component_status{component="redis",status="healthy"}`:      0,
		`syncwatch_component_status{component="redis",status="unhealthy"}`:    0,
		`syncwatch_celery_workers`:                                            0,
		`syncwatch_celery_queue_length{queue="celery"}`:                       0,
		`syncwatch_celery_queue_length{queue="dw-production"}`:                7,

		// Computed at T0-20s, scraped at T0+70s.
		`syncwatch_figures_age_seconds`:                        90,
		`syncwatch_refresh_duration_seconds_bucket{le="0.1"}`:  1,
		`syncwatch_refresh_duration_seconds_bucket{le="1"}`:    3,
		`syncwatch_refresh_duration_seconds_bucket{le="5"}`:    4,
		`syncwatch_refresh_duration_seconds_bucket{le="+Inf"}`: 4,
		`syncwatch_refresh_duration_seconds_sum`:               1.5,
		`syncwatch_refresh_duration_seconds_count`:             4,
		`syncwatch_refresh_failures_total`:                     1,
		`syncwatch_refresh_interval_seconds`:                   30,
	}
}

func TestEveryMetricMeansWhatTheContractSays(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{})
	r.exporter.Update(fixture())
	r.clock.Advance(70 * time.Second)
	body := scrape(t, r.exporter.Handler())
	if diff := cmp.Diff(fixtureWant(), samples(t, body, false)); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	wantTypes := map[string]string{
		"syncwatch_sync_last_success_timestamp_seconds":   "gauge",
		"syncwatch_sync_last_run_start_timestamp_seconds": "gauge",
		"syncwatch_sync_last_duration_seconds":            "gauge",
		"syncwatch_sync_last_records_processed":           "gauge",
		"syncwatch_sync_consecutive_failures":             "gauge",
		"syncwatch_sync_running":                          "gauge",
		"syncwatch_sync_stuck":                            "gauge",
		"syncwatch_sync_runs_24h":                         "gauge",
		"syncwatch_schedule_next_run_timestamp_seconds":   "gauge",
		"syncwatch_schedule_overdue":                      "gauge",
		"syncwatch_component_up":                          "gauge",
		"syncwatch_component_status":                      "gauge",
		"syncwatch_celery_workers":                        "gauge",
		"syncwatch_celery_queue_length":                   "gauge",
		"syncwatch_figures_age_seconds":                   "gauge",
		"syncwatch_refresh_duration_seconds":              "histogram",
		"syncwatch_refresh_failures_total":                "counter",
		"syncwatch_refresh_interval_seconds":              "gauge",
	}
	if diff := cmp.Diff(wantTypes, types(t, body)); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
	// The library's own collectors are there too.
	all := samples(t, body, true)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := all[name]; !ok {
			t.Errorf("no %s in the scrape", name)
		}
	}
}

func TestNothingIsMadeUpBeforeItIsKnown(t *testing.T) {
	t.Parallel()
	t.Run("before the first snapshot", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, metrics.Config{})
		if got := samples(t, scrape(t, r.exporter.Handler()), false); len(got) != 0 {
			t.Errorf("got %v, want no syncwatch series before any snapshot", got)
		}
	})
	t.Run("before the first figures, and health not configured or not checked yet", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, metrics.Config{})
		s := fixture()
		s.HasFigures, s.Meta, s.CRMs, s.Runs24h, s.Entities = false, dashboard.Meta{}, nil, nil, nil
		s.Health.Database.Check = health.Check{Status: health.StatusHealthy, Pending: true}
		s.Health.Redis.Check = health.Check{Status: health.StatusNotConfigured}
		s.Health.Celery = health.CeleryReport{Check: health.Check{Status: health.StatusNotConfigured}, AnsweredWorkers: ptr(0)}
		r.exporter.Update(s)
		got := slices.Sorted(maps.Keys(samples(t, scrape(t, r.exporter.Handler()), false)))
		want := []string{
			`syncwatch_refresh_duration_seconds_bucket{le="+Inf"}`,
			`syncwatch_refresh_duration_seconds_bucket{le="0.1"}`,
			`syncwatch_refresh_duration_seconds_bucket{le="1"}`,
			`syncwatch_refresh_duration_seconds_bucket{le="5"}`,
			`syncwatch_refresh_duration_seconds_count`,
			`syncwatch_refresh_duration_seconds_sum`,
			`syncwatch_refresh_failures_total`,
			`syncwatch_refresh_interval_seconds`,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("series (-want +got):\n%s", diff)
		}
	})
	t.Run("celery checked but its broker unreachable", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, metrics.Config{})
		s := fixture()
		s.Health.Celery = health.CeleryReport{Check: checked(health.StatusUnhealthy)}
		r.exporter.Update(s)
		got := samples(t, scrape(t, r.exporter.Handler()), false)
		if v, ok := got[`syncwatch_component_up{component="celery"}`]; !ok || v != 0 {
			t.Errorf("celery up: %v %v, want 0", v, ok)
		}
		for k := range got {
			if strings.HasPrefix(k, "syncwatch_celery_") {
				t.Errorf("got %s, want no worker or queue count that nobody measured", k)
			}
		}
	})
}

func TestTheAgeOfTheFiguresGrowsBetweenSnapshots(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{})
	s := fixture()
	r.exporter.Update(s)
	age := func() float64 {
		t.Helper()
		v, ok := samples(t, scrape(t, r.exporter.Handler()), false)["syncwatch_figures_age_seconds"]
		if !ok {
			t.Fatal("no syncwatch_figures_age_seconds")
		}
		return v
	}
	if got := age(); got != 20 {
		t.Errorf("age %v, want 20 (computed at T0-20s, scraped at T0)", got)
	}
	// The warehouse is down: snapshots keep coming (health readings) with the same figures.
	r.clock.Advance(5 * time.Minute)
	s.Meta.Stale, s.At = true, T0.Add(5*time.Minute)
	r.exporter.Update(s)
	if got := age(); got != 320 {
		t.Errorf("age %v, want 320 while the figures are stale", got)
	}
	r.clock.Advance(time.Minute)
	if got := age(); got != 380 {
		t.Errorf("age %v, want 380 a minute later without a new snapshot", got)
	}
	// Fresh figures.
	s.Meta = dashboard.Meta{Timestamp: r.clock.Now().Add(-time.Second)}
	r.exporter.Update(s)
	if got := age(); got != 1 {
		t.Errorf("age %v, want 1 with fresh figures", got)
	}
}

func TestEachScrapeServesTheNewestSnapshot(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{})
	s := fixture()
	r.exporter.Update(s)
	scrape(t, r.exporter.Handler())
	s.CRMs = slices.Clone(s.CRMs)
	s.CRMs[1].Stuck = 0
	r.exporter.Update(s)
	if got := samples(t, scrape(t, r.exporter.Handler()), false)[`syncwatch_sync_stuck{crm="genius"}`]; got != 0 {
		t.Errorf("stuck %v, want 0 from the newer snapshot", got)
	}
}

// Run follows the feed: the snapshot published last is served once Run has seen it, and
// Run returns when the feed ends (the dashboard stopped) or its context does.
func TestRunFollowsTheSnapshotsUntilTheyEnd(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{})
	old := fixture()
	old.CRMs = slices.Clone(old.CRMs)
	old.CRMs[1].Stuck = 5
	r.snapshots.Publish(old) // before Run: the feed hands it over at once
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.exporter.Run(context.Background())
	}()
	r.snapshots.Publish(fixture())
	r.snapshots.Close() // Run reads what the feed holds, then sees it end
	<-done
	if got := samples(t, scrape(t, r.exporter.Handler()), false); got[`syncwatch_sync_stuck{crm="genius"}`] != 1 {
		t.Errorf("stuck %v, want 1 from the last snapshot published", got[`syncwatch_sync_stuck{crm="genius"}`])
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	other := newRig(t, metrics.Config{})
	go func() {
		defer close(stopped)
		other.exporter.Run(ctx)
	}()
	cancel()
	<-stopped
}

type fakeAlerts struct {
	firing map[string]int
	sent   map[string]map[string]uint64
}

func (f fakeAlerts) FiringByName() map[string]int                     { return f.firing }
func (f fakeAlerts) NotificationTotals() map[string]map[string]uint64 { return f.sent }

func TestAlertMetricsOnlyWithTheAlertsEngine(t *testing.T) {
	t.Parallel()
	without := newRig(t, metrics.Config{})
	without.exporter.Update(fixture())
	for k := range samples(t, scrape(t, without.exporter.Handler()), false) {
		if strings.HasPrefix(k, "syncwatch_alerts_") || strings.HasPrefix(k, "syncwatch_notifications_") {
			t.Errorf("got %s without an alerts engine", k)
		}
	}

	alerts := fakeAlerts{
		firing: map[string]int{"sync_failing": 2, "sync_stale": 0},
		sent:   map[string]map[string]uint64{"slack": {"success": 3, "failure": 1}, "email": {"success": 2}},
	}
	with := newRig(t, metrics.Config{Alerts: alerts})
	body := scrape(t, with.exporter.Handler()) // before any snapshot: the engine's counts still
	got := samples(t, body, false)
	want := map[string]float64{
		`syncwatch_alerts_firing{alertname="sync_failing"}`:               2,
		`syncwatch_alerts_firing{alertname="sync_stale"}`:                 0,
		`syncwatch_notifications_total{channel="email",result="success"}`: 2,
		`syncwatch_notifications_total{channel="slack",result="failure"}`: 1,
		`syncwatch_notifications_total{channel="slack",result="success"}`: 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if ty := types(t, body); ty["syncwatch_alerts_firing"] != "gauge" || ty["syncwatch_notifications_total"] != "counter" {
		t.Errorf("types %v", ty)
	}
}

func TestLabelValuesAreCleanText(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{})
	s := fixture()
	s.CRMs = []dashboard.CRMStatus{{Source: "bad\xffsource\x07"}}
	s.Runs24h = []dashboard.CRMOutcomes{{CRMSource: "bad\xffsource\x07", Failed: 2}}
	s.Entities = []dashboard.EntityStatus{{CRMSource: "bad\xffsource\x07", SyncType: strings.Repeat("x", 300),
		LastRun: dashboard.EntityRun{StartTime: T0}}}
	r.exporter.Update(s)
	got := samples(t, scrape(t, r.exporter.Handler()), false)
	if v := got["syncwatch_sync_runs_24h{crm=\"bad\ufffdsource\",status=\"failed\"}"]; v != 2 {
		t.Errorf("the cleaned label does not carry the count: %v", got)
	}
	want := "syncwatch_sync_last_run_start_timestamp_seconds{crm=\"bad\ufffdsource\",sync_type=\"" + strings.Repeat("x", 99) + "…\"}"
	if _, ok := got[want]; !ok {
		t.Errorf("no %s in %v", want, slices.Sorted(maps.Keys(got)))
	}
}

func TestNewRejectsABadConfig(t *testing.T) {
	t.Parallel()
	if _, err := metrics.New(metrics.Config{}); err == nil {
		t.Error("no error without snapshots")
	}
	if _, err := metrics.New(metrics.Config{Snapshots: &feed.Feed[dashboard.Snapshot]{}, MaxEntities: -1}); err == nil {
		t.Error("no error with a negative cap")
	}
}

func TestScrapesAreCompressedWhenTheScraperAcceptsIt(t *testing.T) {
	t.Parallel()
	r := newRig(t, metrics.Config{})
	r.exporter.Update(fixture())
	plain := samples(t, scrape(t, r.exporter.Handler()), false)
	cases := []struct {
		acceptEncoding string
		gzip           bool
	}{
		{"gzip", true},
		{"identity, gzip;q=0.5", true},
		{"GZIP ; q=1", true},
		{"br, deflate", false},
		{"gzip;q=0", false},
		{"", false},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if c.acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", c.acceptEncoding)
		}
		rec := httptest.NewRecorder()
		r.exporter.Handler().ServeHTTP(rec, req)
		got := rec.Header().Get("Content-Encoding") == "gzip"
		if got != c.gzip {
			t.Errorf("Accept-Encoding %q: compressed %v, want %v", c.acceptEncoding, got, c.gzip)
			continue
		}
		body := rec.Body.Bytes()
		if got {
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("Accept-Encoding %q: %v", c.acceptEncoding, err)
			}
		} else if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length %q for %d bytes", cl, len(body))
		}
		if diff := cmp.Diff(plain, samples(t, body, false)); diff != "" {
			t.Errorf("Accept-Encoding %q: series differ (-plain +got):\n%s", c.acceptEncoding, diff)
		}
	}
}
