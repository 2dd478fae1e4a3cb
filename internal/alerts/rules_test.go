package alerts_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
)

// evaluateOnce runs the rules over one snapshot at now and returns the view.
func evaluateOnce(t *testing.T, rules alerts.Rules, s dashboard.Snapshot) alerts.View {
	t.Helper()
	e, err := alerts.New(context.Background(), alerts.Config{Rules: rules, Clock: clock.NewFake(now),
		ExternalURL: "https://syncwatch.example/base/"})
	if err != nil {
		t.Fatal(err)
	}
	e.Evaluate(s)
	return e.View()
}

func TestEachRuleFiresExactlyWhenItsConditionHolds(t *testing.T) {
	t.Parallel()
	hour := time.Hour
	cases := []struct {
		name string
		snap func() dashboard.Snapshot
		want []string
	}{
		{"nothing wrong", func() dashboard.Snapshot { return fresh(now) }, nil},
		{"sync_failing: one failure of N=2 is not enough", func() dashboard.Snapshot {
			s := fresh(now)
			s.Entities = []dashboard.EntityStatus{failing("hubspot", "contacts", 1, now.Add(-hour))}
			return s
		}, nil},
		{"sync_failing: two failures in a row fire, per entity", func() dashboard.Snapshot {
			s := fresh(now)
			s.Entities = []dashboard.EntityStatus{failing("hubspot", "contacts", 2, now.Add(-hour)),
				failing("hubspot", "deals", 5, now.Add(-hour)), failing("genius", "appointments", 1, now)}
			return s
		}, []string{"sync_failing{crm=hubspot,sync_type=contacts}", "sync_failing{crm=hubspot,sync_type=deals}"}},
		{"sync_stale: a success 24 h ago exactly is not stale", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "callrail", Name: "CallRail", LastStart: ptr(now.Add(-hour)), LastSuccess: ptr(now.Add(-24 * hour))}}
			return s
		}, nil},
		{"sync_stale: a success longer than 24 h ago is stale", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "callrail", Name: "CallRail", LastStart: ptr(now.Add(-hour)), LastSuccess: ptr(now.Add(-24*hour - time.Second))}}
			return s
		}, []string{"sync_stale{crm=callrail}"}},
		{"sync_stale: a partial run counts as a success", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "callrail", Name: "CallRail", LastStart: ptr(now.Add(-hour)), LastSuccess: ptr(now.Add(-48 * hour))}}
			s.Entities = []dashboard.EntityStatus{{CRMSource: "callrail", Name: "CallRail", SyncType: "calls", LastSuccess: ptr(now.Add(-2 * hour))}}
			return s
		}, nil},
		{"sync_stale: a CRM that has run without a success for longer than its limit", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "arrivy", Name: "Arrivy", LastStart: ptr(now.Add(-hour))}}
			s.Entities = []dashboard.EntityStatus{
				{CRMSource: "arrivy", Name: "Arrivy", SyncType: "tasks", FirstStart: now.Add(-hour)},
				{CRMSource: "arrivy", Name: "Arrivy", SyncType: "users", FirstStart: now.Add(-24*hour - time.Second), ConsecutiveFailures: 1},
			}
			return s
		}, []string{"sync_stale{crm=arrivy}"}},
		{"sync_stale: a new CRM whose first run failed is not stale yet", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "arrivy", Name: "Arrivy", LastStart: ptr(now.Add(-hour))}}
			s.Entities = []dashboard.EntityStatus{{CRMSource: "arrivy", Name: "Arrivy", SyncType: "tasks",
				FirstStart: now.Add(-hour), ConsecutiveFailures: 1}}
			return s
		}, nil},
		{"sync_stale: a new CRM running for its limit exactly is not stale", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "arrivy", Name: "Arrivy", LastStart: ptr(now.Add(-24 * hour))}}
			s.Entities = []dashboard.EntityStatus{{CRMSource: "arrivy", Name: "Arrivy", SyncType: "tasks", FirstStart: now.Add(-24 * hour)}}
			return s
		}, nil},
		{"sync_stale: a CRM listed in --sources that never ran is not stale", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "marketsharp", Name: "MarketSharp", Status: "never"}}
			return s
		}, nil},
		{"sync_stale: a CRM whose last run started 31 days ago is not judged", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "five9", Name: "Five9", LastStart: ptr(now.Add(-31 * 24 * hour)), LastSuccess: ptr(now.Add(-31 * 24 * hour))}}
			return s
		}, nil},
		{"sync_stale: per-CRM limits", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{
				{Source: "hubspot", Name: "HubSpot", LastStart: ptr(now.Add(-hour)), LastSuccess: ptr(now.Add(-7 * hour))},
				{Source: "genius", Name: "Genius", LastStart: ptr(now.Add(-hour)), LastSuccess: ptr(now.Add(-47 * hour))},
			}
			return s
		}, []string{"sync_stale{crm=hubspot}"}},
		{"sync_stuck: one alert per stuck run", func() dashboard.Snapshot {
			s := fresh(now)
			s.StuckRuns = []dashboard.SyncRun{
				{ID: 7, CRMSource: "genius", Name: "Genius", SyncType: "appointments", Status: "running", StartTime: now.Add(-3 * hour)},
				{ID: 9, CRMSource: "genius", Name: "Genius", SyncType: "appointments", Status: "running", StartTime: now.Add(-2 * hour)},
			}
			return s
		}, []string{"sync_stuck{crm=genius,run_id=7,sync_type=appointments}", "sync_stuck{crm=genius,run_id=9,sync_type=appointments}"}},
		{"schedule_overdue: by the entity the schedule syncs; disabled schedules never", func() dashboard.Snapshot {
			s := fresh(now)
			s.CRMs = []dashboard.CRMStatus{{Source: "genius", Name: "Genius", LastStart: ptr(now), LastSuccess: ptr(now),
				Schedules: []dashboard.ScheduleInfo{
					{Name: "hourly", ModelName: "Genius_Appointment", State: "scheduled", Overdue: true, LastExpected: ptr(now.Add(-22 * time.Minute))},
					{Name: "again", ModelName: "Genius_Appointment", State: "scheduled", Overdue: true},
					{Name: "nightly", ModelName: "Genius_Lead", State: "disabled", Overdue: true},
					{Name: "fine", ModelName: "Genius_User", State: "scheduled"},
				}}}
			return s
		}, []string{"schedule_overdue{crm=genius,sync_type=Genius_Appointment}"}},
		{"empty_runs: the dashboard's mark", func() dashboard.Snapshot {
			s := fresh(now)
			s.Entities = []dashboard.EntityStatus{
				{CRMSource: "callrail", Name: "CallRail", SyncType: "calls", EmptyRuns: true, EmptyRunsMedian: ptr(1523.5), LastSuccess: ptr(now)},
				{CRMSource: "callrail", Name: "CallRail", SyncType: "users", LastSuccess: ptr(now)},
			}
			return s
		}, []string{"empty_runs{crm=callrail,sync_type=calls}"}},
		{"workers_down and queue_backlog wait for their for durations", func() dashboard.Snapshot {
			s := fresh(now)
			s.Health.Celery.Status = health.StatusUnhealthy
			s.Health.Celery.Queues = []health.QueueReport{{Name: "dw-production", Pending: 500}}
			return s
		}, nil},
		{"warehouse_unreachable: stale for two intervals exactly is not yet", func() dashboard.Snapshot {
			s := fresh(now)
			s.Stale, s.StaleSince = true, ptr(now.Add(-time.Minute))
			return s
		}, nil},
		{"warehouse_unreachable: stale for longer than two intervals", func() dashboard.Snapshot {
			s := fresh(now)
			s.Stale, s.StaleSince = true, ptr(now.Add(-time.Minute-time.Second))
			s.RefreshError = errors.New("dial tcp 10.0.0.5:5432: connect: connection refused; password=hunter2")
			return s
		}, []string{"warehouse_unreachable{}"}},
	}
	rules := alerts.DefaultRules()
	rules.StaleAfterByCRM = map[string]time.Duration{"hubspot": 6 * hour, "genius": 48 * hour}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := firing(evaluateOnce(t, rules, c.snap()))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("firing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummariesSayWhatBrokeWithoutSecrets(t *testing.T) {
	t.Parallel()
	s := fresh(now)
	s.Entities = []dashboard.EntityStatus{failing("hubspot", "contacts", 3, now.Add(-time.Hour))}
	s.Stale, s.StaleSince = true, ptr(now.Add(-time.Hour))
	s.RefreshError = errors.New("connect to postgres://reader:hunter2@db.example/dw failed")
	s.HasFigures = true
	// Stale figures: sync_failing is not judged, warehouse_unreachable fires.
	v := evaluateOnce(t, alerts.DefaultRules(), s)
	if got := firing(v); !slices.Equal(got, []string{"warehouse_unreachable{}"}) {
		t.Fatalf("firing = %v", got)
	}
	if sum := v.Firing[0].Summary; strings.Contains(sum, "hunter2") || !strings.Contains(sum, "2025-10-09 09:30 UTC") {
		t.Errorf("summary %q: a secret, or not the time the warehouse stopped answering", sum)
	}

	s.Stale, s.StaleSince, s.RefreshError = false, nil, nil
	v = evaluateOnce(t, alerts.DefaultRules(), s)
	a := v.Firing[0]
	if a.Summary != "Hubspot contacts failed 3 times in a row, the last at 2025-10-09 09:30 UTC (rate_limit)." {
		t.Errorf("summary = %q", a.Summary)
	}
	if a.ErrorType == nil || *a.ErrorType != "rate_limit" || a.ErrorMessage == nil || !strings.Contains(*a.ErrorMessage, "api_key=***") {
		t.Errorf("error = %v %v", a.ErrorType, a.ErrorMessage)
	}
	if a.CRM == nil || *a.CRM != "hubspot" || !a.Since.Equal(now.Add(-time.Hour)) {
		t.Errorf("crm %v since %v: want hubspot since the last failure", a.CRM, a.Since)
	}
}

func TestRulesNotJudgedKeepTheirAlerts(t *testing.T) {
	t.Parallel()
	h := start(t, alerts.Config{})
	s := fresh(now)
	s.Entities = []dashboard.EntityStatus{failing("hubspot", "contacts", 2, now)}
	h.e.Evaluate(s)
	if got := firing(h.e.View()); len(got) != 1 {
		t.Fatalf("firing = %v", got)
	}
	// The warehouse goes away: the figures are stale, and still show the failures.
	// Nothing resolves, and nothing new fires from stale figures.
	h.clock.Advance(time.Minute)
	stale := fresh(now)
	stale.Stale, stale.StaleSince = true, ptr(now.Add(time.Second))
	stale.Entities = []dashboard.EntityStatus{failing("genius", "appointments", 9, now)}
	h.e.Evaluate(stale)
	if got := firing(h.e.View()); !slices.Equal(got, []string{"sync_failing{crm=hubspot,sync_type=contacts}"}) {
		t.Fatalf("while stale, firing = %v", got)
	}
	// Before the first figures (a restart while the warehouse is down), likewise.
	none := dashboard.Snapshot{At: h.clock.Now(), RefreshInterval: 30 * time.Second}
	h.e.Evaluate(none)
	if got := firing(h.e.View()); len(got) != 1 {
		t.Fatalf("without figures, firing = %v", got)
	}
	// Nor warehouse_unreachable, while the first computation has not ended.
	h.e.Evaluate(stale)
	h.clock.Advance(time.Hour)
	stale.At = h.clock.Now()
	h.e.Evaluate(stale)
	if got := firing(h.e.View()); !slices.Contains(got, "warehouse_unreachable{}") {
		t.Fatalf("stale for an hour: firing = %v", got)
	}
	h.e.Evaluate(none)
	if got := firing(h.e.View()); !slices.Contains(got, "warehouse_unreachable{}") {
		t.Fatalf("before the first computation ended: firing = %v", got)
	}
	// A health check not done yet judges no worker.
	s.Health.Celery = health.CeleryReport{}
	s.Health.Celery.Status, s.Health.Celery.Pending = health.StatusDegraded, true
	h.e.Evaluate(s)
	if got := pending(h.e.View()); len(got) != 0 {
		t.Fatalf("pending = %v", got)
	}
}

func TestForDurationsHoldBackFlapping(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(now)
	h := start(t, alerts.Config{Clock: fake})
	down := func() dashboard.Snapshot {
		s := fresh(fake.Now())
		s.Health.Celery.Status, s.Health.Celery.Error = health.StatusUnhealthy, "no worker answered the broadcast"
		return s
	}
	up := func() dashboard.Snapshot { return fresh(fake.Now()) }

	// Down and up every two minutes: never five minutes in a row, never fires.
	for range 5 {
		h.e.Evaluate(down())
		fake.Advance(2 * time.Minute)
		h.e.Evaluate(down())
		if got := pending(h.e.View()); !slices.Equal(got, []string{"workers_down{}"}) {
			t.Fatalf("pending = %v", got)
		}
		fake.Advance(time.Minute)
		h.e.Evaluate(up())
		if v := h.e.View(); len(v.Firing)+len(v.Pending) != 0 {
			t.Fatalf("after a worker answered: firing %v pending %v", firing(v), pending(v))
		}
	}
	// Down for five minutes: fires, since the first unhealthy check.
	start := fake.Now()
	h.e.Evaluate(down())
	fake.Advance(5*time.Minute - time.Second)
	h.e.Evaluate(down())
	if len(h.e.View().Firing) != 0 {
		t.Fatal("fired before 5 minutes")
	}
	fake.Advance(time.Second)
	h.e.Evaluate(down())
	v := h.e.View()
	if got := firing(v); !slices.Equal(got, []string{"workers_down{}"}) || !v.Firing[0].Since.Equal(start) {
		t.Fatalf("firing = %v since %v, want workers_down since %v", got, v.Firing, start)
	}
	// One check with a worker resolves it.
	h.e.Evaluate(up())
	if v := h.e.View(); len(v.Firing) != 0 || len(v.Resolved) != 1 {
		t.Fatalf("firing %v, resolved %d", firing(v), len(v.Resolved))
	}
}

func TestQueueBacklogResolvesAtTheFirstCheckBelow(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(now)
	h := start(t, alerts.Config{Clock: fake})
	depth := func(n int64) dashboard.Snapshot {
		s := fresh(fake.Now())
		s.Health.Celery.PendingTasks = ptr(n)
		s.Health.Celery.Queues = []health.QueueReport{{Name: "dw-production", Pending: n}, {Name: "celery", Pending: 1}}
		return s
	}
	h.e.Evaluate(depth(101))
	fake.Advance(20 * time.Minute)
	// The broker does not answer: depths unknown, the backlog is not judged.
	unknown := fresh(fake.Now())
	unknown.Health.Celery.PendingTasks = nil
	h.e.Evaluate(unknown)
	h.e.Evaluate(depth(150))
	if got := firing(h.e.View()); !slices.Equal(got, []string{"queue_backlog{queue=dw-production}"}) {
		t.Fatalf("firing = %v", got)
	}
	h.e.Evaluate(depth(100)) // not above 100
	if v := h.e.View(); len(v.Firing) != 0 || len(v.Resolved) != 1 {
		t.Fatalf("at 100: firing %v", firing(v))
	}
}

func TestFlagValuesAreChecked(t *testing.T) {
	t.Parallel()
	got, err := alerts.ParseStaleAfterByCRM(" hubspot=6h, genius=48h ,")
	if err != nil || got["hubspot"] != 6*time.Hour || got["genius"] != 48*time.Hour || len(got) != 2 {
		t.Fatalf("parse = %v, %v", got, err)
	}
	for _, bad := range []string{"hubspot", "=6h", "hubspot=6", "hubspot=-1h", "hubspot=0s"} {
		if _, err := alerts.ParseStaleAfterByCRM(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	r := alerts.DefaultRules()
	r.FailingRuns = 0
	if err := r.Check(); err == nil {
		t.Error("N = 0 accepted")
	}
}

func TestSyncStaleWithoutASuccessCountsFromTheFirstRun(t *testing.T) {
	t.Parallel()
	s := fresh(now)
	first := now.Add(-30 * time.Hour)
	s.CRMs = []dashboard.CRMStatus{{Source: "arrivy", Name: "Arrivy", LastStart: ptr(now.Add(-time.Hour))}}
	s.Entities = []dashboard.EntityStatus{
		{CRMSource: "arrivy", Name: "Arrivy", SyncType: "tasks", FirstStart: now.Add(-2 * time.Hour)},
		{CRMSource: "arrivy", Name: "Arrivy", SyncType: "users", FirstStart: first},
	}
	v := evaluateOnce(t, alerts.DefaultRules(), s)
	if len(v.Firing) != 1 {
		t.Fatalf("firing %v, want sync_stale", firing(v))
	}
	// The earliest start of its entities, plus the limit.
	if a := v.Firing[0]; !a.Since.Equal(first.Add(24*time.Hour)) || !strings.Contains(a.Summary, "2025-10-08 04:30 UTC") {
		t.Errorf("since %v, summary %q; want since %v", a.Since, a.Summary, first.Add(24*time.Hour))
	}
}

// Without a broker configured the Celery rules are not judged: a firing workers_down
// and a firing queue_backlog are both kept, neither resolved nor fired anew.
func TestCeleryRulesAreNotJudgedWithoutABroker(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(now)
	h := start(t, alerts.Config{Clock: fake, Rules: alerts.Rules{FailingRuns: 2, StaleAfter: time.Hour, EmptyRuns: 3, QueueBacklog: 100}})
	s := fresh(fake.Now())
	s.Health.Celery.Status = health.StatusUnhealthy
	s.Health.Celery.PendingTasks = ptr(int64(500))
	s.Health.Celery.Queues = []health.QueueReport{{Name: "celery", Pending: 500}}
	h.e.Evaluate(s)
	want := []string{"queue_backlog{queue=celery}", "workers_down{}"}
	if got := firing(h.e.View()); !slices.Equal(got, want) {
		t.Fatalf("firing = %v, want %v", got, want)
	}
	fake.Advance(time.Minute)
	off := fresh(fake.Now())
	off.Health.Celery = health.CeleryReport{}
	off.Health.Celery.Status = health.StatusNotConfigured
	h.e.Evaluate(off)
	if v := h.e.View(); !slices.Equal(firing(v), want) || len(v.Resolved) != 0 {
		t.Fatalf("broker not configured: firing %v, resolved %d; want both kept", firing(v), len(v.Resolved))
	}
}
