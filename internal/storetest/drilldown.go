package storetest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// The drill-down's cases: a CRM's page, its derived marks and charts, the history's
// filters, keyset pagination and CSV, and one run in full. Each pins down a rule of
// docs/api.md with rows chosen for its edges; oracle_drilldown.go checks them all on
// random rows.

// drillCases are the drill-down's cases, run by Run.
var drillCases = []struct {
	name string
	run  func(t *testing.T, h Harness)
}{
	{"a crm's page computes each entity's figures as defined", crmPageFigures},
	{"a crm's page marks slow runs, empty runs and failure streaks", crmPageMarks},
	{"a crm's page cuts its charts by start day in the display time zone", crmPageCharts},
	{"an unknown crm is not found and a quiet one says so", crmPageUnknown},
	{"the history filters by every parameter", historyFilters},
	{"the history searches 90 days a page for filters no index serves", historySearchSpan},
	{"the history pages by cursor and loses or repeats nothing as rows arrive", historyPaging},
	{"the history exports as csv, bounded and neutralised", historyCSV},
	{"a run shows every column, its neighbours and its entity's durations", runDetail},
	{"hostile text in the drill-down comes out clean, masked and cut", drillHostileText},
}

func crmPage(t *testing.T, d *dashboard.Dashboard, source string, days int) dashboard.CRMResponse {
	t.Helper()
	r, err := d.CRM(ctx(t), source, days)
	if err != nil {
		t.Fatalf("crm %s: %v", source, err)
	}
	return r
}

func entityOf(t *testing.T, r dashboard.CRMResponse, name string) dashboard.EntityFigures {
	t.Helper()
	for _, e := range r.Entities {
		if e.SyncType == name {
			return e
		}
	}
	t.Fatalf("no entity %q in %+v", name, r.Entities)
	return dashboard.EntityFigures{}
}

// after is t moved by d, as a pointer (an end time).
func after(t time.Time, d time.Duration) *time.Time { return ptr(t.Add(d)) }

func crmPageFigures(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	a := func(d time.Duration) time.Time { return at(d) }
	rateLimited := "HTTP 429: Too Many Requests"
	ids := fx.Insert(t,
		// appointments: a run in progress; failures around a skipped row; older successes.
		// A run in progress may report its progress: it is not the last finished run.
		Row{CRMSource: "genius", SyncType: "appointments", Status: "running", Start: a(-10 * minute), RecordsProcessed: 55},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: a(-hour), End: after(a(-hour), minute), ErrorMessage: &rateLimited},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "skipped", Start: a(-2 * hour), End: end(-2 * hour)},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: a(-3 * hour), End: after(a(-3*hour), minute)},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "partial", Start: a(-4 * hour), End: after(a(-4*hour), 10*minute), RecordsProcessed: 40},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "completed", Start: a(-5 * hour), End: after(a(-5*hour), 20*minute), RecordsProcessed: 7},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "success", Start: a(-8 * day), End: after(a(-8*day), 5*minute), RecordsProcessed: 10},
		Row{CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: a(-8*day - hour), End: after(a(-8*day-hour), minute)},
		// Before the 30 days: none of its figures counts it.
		Row{CRMSource: "genius", SyncType: "appointments", Status: "success", Start: a(-31 * day), End: after(a(-31*day), 100*time.Second), RecordsProcessed: 5000},
		// Another CRM's rows of the same sync_type are not genius's.
		Row{CRMSource: "hubspot", SyncType: "appointments", Status: "failed", Start: a(-time.Minute), End: end(0)},
		// An entity seen only 31 days ago is not listed.
		Row{CRMSource: "genius", SyncType: "retired", Status: "success", Start: a(-31 * day), End: after(a(-31*day), minute)},
		// An entity whose only row is a failure from a clock ahead of ours.
		Row{CRMSource: "genius", SyncType: "ahead", Status: "failed", Start: a(3 * minute), End: after(a(3*minute), minute)},
	)
	appointments := genius(ids)
	sched := every("genius", "appointments hourly", 1, "hours")
	sched.ModelName, sched.LastRunAt = "appointments", ptr(at(-20*minute))
	fx.InsertSchedule(t, sched)

	r := crmPage(t, d, "genius", 7)
	if r.CRM.Source != "genius" || r.CRM.Name != "Genius" || !r.SeenIn30Days {
		t.Errorf("header %+v, seen %v: want genius's crm-status line, seen", r.CRM, r.SeenIn30Days)
	}
	status, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range status.CRMs {
		if c.Source == "genius" && !cmp.Equal(c, r.CRM) {
			t.Errorf("header differs from api/crm-status/: %s", cmp.Diff(c, r.CRM))
		}
	}
	var names []string
	for _, e := range r.Entities {
		names = append(names, e.SyncType)
	}
	if want := []string{"ahead", "appointments"}; !cmp.Equal(names, want) {
		t.Errorf("entities %v, want %v (those with a row started in the last 30 days, by name)", names, want)
	}

	e := entityOf(t, r, "appointments")
	want := dashboard.EntityFigures{
		SyncType:    "appointments",
		LastRun:     dashboard.RunRef{ID: appointments[0], Status: "running", StartTime: at(-10 * minute)},
		LastSuccess: ptr(at(-4*hour + 10*minute)), // the partial ended after the success
		Runs7d:      6, Failed7d: 2, SuccessRate7d: ptr(25.0),
		DurationP50: ptr(600.0), DurationP95: ptr(1200.0), DurationRuns: 3,
		RecordsLast: ptr(int64(0)), RecordsMedian30d: ptr(10.0),
		ConsecutiveFailures: 2,
		Overdue:             false,
		Marks:               dashboard.EntityMarks{FailureStreak: true},
	}
	next := e.NextRun
	e.NextRun = nil
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("appointments (-want +got):\n%s", diff)
	}
	var scheduled *time.Time
	for _, s := range r.CRM.Schedules {
		if s.ModelName == "appointments" {
			scheduled = s.NextRun
		}
	}
	if next == nil || scheduled == nil || !next.Equal(*scheduled) {
		t.Errorf("next run %v, want its schedule's %v", next, scheduled)
	}
	if ahead := entityOf(t, r, "ahead"); ahead.ConsecutiveFailures != 1 || ahead.NextRun != nil || ahead.Marks.FailureStreak {
		t.Errorf("ahead: %+v, want one failure, no schedule, no streak", ahead)
	}
	if len(r.Running) != 1 || r.Running[0].ID != appointments[0] || r.Running[0].ElapsedSeconds != 600 ||
		r.Running[0].Slow || r.Running[0].Stuck || r.Running[0].DurationRuns != 3 {
		t.Errorf("running %+v, want the appointments run, 600 s in, neither slow (3 durations) nor stuck", r.Running)
	}
	var failures []int64
	for _, f := range r.RecentFailures {
		failures = append(failures, f.ID)
	}
	if want := []int64{ids[11], appointments[1], appointments[3], appointments[7]}; !cmp.Equal(failures, want) {
		t.Errorf("recent failures %v, want %v (started in the last 30 days, newest first)", failures, want)
	}
	if f := r.RecentFailures[1]; f.ErrorType != "rate_limit" || f.ErrorMessage == nil || *f.ErrorMessage != rateLimited {
		t.Errorf("failure %+v, want its type and message", f)
	}
}

// genius returns the ids of the first rows, which crmPageFigures writes for genius's
// appointments.
func genius(ids []int64) []int64 { return ids[:9] }

func crmPageMarks(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	var rows []Row
	// deals: ten durations of 100 s to 1000 s, so its p95 is 1000 s; one run 1200 s in
	// (slow), one two hours in (stuck, not slow).
	rows = append(rows,
		Row{CRMSource: "genius", SyncType: "deals", Status: "running", Start: at(-20 * minute)},
		Row{CRMSource: "genius", SyncType: "deals", Status: "in_progress", Start: at(-2 * hour)})
	for i := range 10 {
		s := at(-3*hour - time.Duration(i)*hour)
		rows = append(rows, Row{CRMSource: "genius", SyncType: "deals", Start: s,
			End: after(s, time.Duration(100*(i+1))*time.Second), RecordsProcessed: 1})
	}
	// leads: nine durations of a minute: too few to judge a run 30 minutes in.
	leadsAt := len(rows)
	rows = append(rows, Row{CRMSource: "genius", SyncType: "leads", Status: "running", Start: at(-30 * minute)})
	for i := range 9 {
		s := at(-hour - time.Duration(i)*hour)
		rows = append(rows, Row{CRMSource: "genius", SyncType: "leads", Start: s, End: after(s, minute), RecordsProcessed: 5})
	}
	// contacts: its last three successes processed nothing; in the 30 days before the
	// first of them it processed 100, 200 and 300 (the last of these before the page's
	// own 30 days): empty runs, against a median of 200.
	for _, r := range []struct {
		start   time.Duration
		status  string
		records int64
	}{
		{-30 * minute, "success", 0}, {-90 * minute, "completed", 0}, {-150 * minute, "partial", 0},
		{-day, "success", 100}, {-2 * day, "success", 200}, {-30*day - hour, "success", 300},
	} {
		s := at(r.start)
		rows = append(rows, Row{CRMSource: "genius", SyncType: "contacts", Status: r.status, Start: s,
			End: after(s, minute), RecordsProcessed: r.records})
	}
	// notes: three empty successes, but it processed nothing before either: not marked.
	for i := range 5 {
		s := at(-time.Duration(i+1) * hour)
		rows = append(rows, Row{CRMSource: "genius", SyncType: "notes", Start: s, End: after(s, minute)})
	}
	// jobs: two empty successes only, after a busy past: fewer than three, not marked;
	// and one failure after them: no streak.
	for i, records := range []int64{0, 0, 50, 60, 70} {
		s := at(-time.Duration(i+2) * hour)
		rows = append(rows, Row{CRMSource: "genius", SyncType: "jobs", Start: s, End: after(s, minute), RecordsProcessed: records})
	}
	rows = append(rows, Row{CRMSource: "genius", SyncType: "jobs", Status: "failed", Start: at(-hour), End: end(-50 * minute)})
	ids := fx.Insert(t, rows...)
	slowDeal, stuckDeal, lead := ids[0], ids[1], ids[leadsAt]

	r := crmPage(t, d, "genius", 7)
	marks := map[string]dashboard.EntityMarks{}
	for _, e := range r.Entities {
		marks[e.SyncType] = e.Marks
	}
	want := map[string]dashboard.EntityMarks{
		"deals":    {Slow: true},
		"leads":    {},
		"contacts": {EmptyRuns: true, EmptyRunsMedian: ptr(200.0)},
		"notes":    {},
		"jobs":     {},
	}
	if diff := cmp.Diff(want, marks); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
	running := map[int64]dashboard.RunningRun{}
	for _, rr := range r.Running {
		running[rr.ID] = rr
	}
	if rr := running[slowDeal]; !rr.Slow || rr.Stuck || rr.DurationP95 == nil || *rr.DurationP95 != 1000 || rr.DurationRuns != 10 {
		t.Errorf("deals 20 min in: %+v, want slow against a p95 of 1000 s over 10 runs", rr)
	}
	if rr := running[stuckDeal]; rr.Slow || !rr.Stuck || rr.ElapsedSeconds != 7200 {
		t.Errorf("deals 2 h in: %+v, want stuck (not slow)", rr)
	}
	if rr := running[lead]; rr.Slow || rr.DurationRuns != 9 {
		t.Errorf("leads 30 min in: %+v, want not slow (9 durations)", rr)
	}
	if got := entityOf(t, r, "jobs"); got.ConsecutiveFailures != 1 {
		t.Errorf("jobs: %d consecutive failures, want 1", got.ConsecutiveFailures)
	}
}

func crmPageCharts(t *testing.T, h Harness) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	d, fx := open(t, h, ny, Now) // 06:30 EDT on Oct 9: the days are Oct 7, 8 and 9 in New York
	utcAt := func(day, hour, min, sec int) time.Time {
		return time.Date(2025, time.October, day, hour, min, sec, 0, time.UTC)
	}
	fx.Insert(t,
		Row{CRMSource: "five9", SyncType: "calls", Start: utcAt(9, 5, 0, 0), End: after(utcAt(9, 5, 0, 0), 100*time.Second), RecordsProcessed: 10},
		// 23:59:59 on Oct 8 in New York, though Oct 9 in UTC.
		Row{CRMSource: "five9", SyncType: "calls", Status: "failed", Start: utcAt(9, 3, 59, 59), End: after(utcAt(9, 3, 59, 59), 50*time.Second), RecordsProcessed: 5},
		// Midnight of Oct 8 in New York, to the microsecond.
		Row{CRMSource: "five9", SyncType: "agents", Status: "partial", Start: utcAt(8, 4, 0, 0), End: after(utcAt(8, 4, 0, 0), 200*time.Second), RecordsProcessed: 20},
		// Oct 6 in New York: before the days shown.
		Row{CRMSource: "five9", SyncType: "agents", Start: utcAt(7, 3, 0, 0), End: after(utcAt(7, 3, 0, 0), time.Hour), RecordsProcessed: 1000},
		Row{CRMSource: "five9", SyncType: "calls", Status: "running", Start: utcAt(9, 10, 0, 0), RecordsProcessed: 3},
		Row{CRMSource: "five9", SyncType: "lists", Status: "skipped", Start: utcAt(7, 12, 0, 0), End: after(utcAt(7, 12, 0, 0), time.Second)},
	)
	got := crmPage(t, d, "five9", 3).Charts
	want := dashboard.CRMCharts{
		Days: 3, TimeZone: "America/New_York", Labels: []string{"Oct 7", "Oct 8", "Oct 9"},
		DurationByEntity: []dashboard.Series{
			{Name: "agents", Data: []*float64{nil, ptr(200.0), nil}},
			{Name: "calls", Data: []*float64{nil, nil, ptr(100.0)}},
		},
		Records:     []int64{0, 25, 10},
		SuccessRate: []*float64{nil, ptr(0.0), ptr(100.0)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charts (-want +got):\n%s", diff)
	}

	// Seven entities: the five that took the most, then the two others summed.
	var rows []Row
	for i, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		s := utcAt(9, 6, 0, 0)
		rows = append(rows, Row{CRMSource: "arrivy", SyncType: name, Start: s, End: after(s, time.Duration(70-10*i)*time.Second)})
	}
	fx.Insert(t, rows...)
	var names []string
	var today []float64
	for _, s := range crmPage(t, d, "arrivy", 1).Charts.DurationByEntity {
		names = append(names, s.Name)
		today = append(today, *s.Data[0])
	}
	if !cmp.Equal(names, []string{"a", "b", "c", "d", "e", "(other)"}) || !cmp.Equal(today, []float64{70, 60, 50, 40, 30, 30}) {
		t.Errorf("seven entities: %v %v, want the top five and (other) summing 20 s and 10 s", names, today)
	}
}

func crmPageUnknown(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		Row{CRMSource: "hubspot", Start: at(-hour), End: end(-50 * minute)},
		Row{CRMSource: "oldcrm", Status: "failed", Start: at(-200 * day), End: after(at(-200*day), minute)},
	)
	if _, err := d.CRM(ctx(t), "nosuchcrm", 7); !errors.Is(err, dashboard.ErrNotFound) {
		t.Errorf("unknown crm: got %v, want ErrNotFound", err)
	}
	// Configured, never ran.
	quiet := crmPage(t, d, "marketsharp", 7)
	if quiet.SeenIn30Days || len(quiet.Entities) != 0 || quiet.CRM.Status != "never" || len(quiet.Charts.Labels) != 7 {
		t.Errorf("marketsharp: %+v, want not seen, no entities, status never, seven days of charts", quiet)
	}
	// Not configured, last seen 200 days ago: its page exists, with its latest row.
	old := crmPage(t, d, "oldcrm", 7)
	if old.SeenIn30Days || old.CRM.Status != "failed" || old.CRM.LastStart == nil || !old.CRM.LastStart.Equal(at(-200*day)) || old.CRM.LastSuccess != nil {
		t.Errorf("oldcrm: %+v, want not seen in 30 days, its latest row failed 200 days ago, no success", old.CRM)
	}
}

// historyIDs returns the ids of one history page, and the page.
func historyIDs(t *testing.T, d *dashboard.Dashboard, q dashboard.HistoryQuery) ([]int64, dashboard.HistoryResponse) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = dashboard.DefaultHistoryLimit
	}
	r, err := d.History(ctx(t), q)
	if err != nil {
		t.Fatalf("history %+v: %v", q, err)
	}
	ids := []int64{}
	for _, s := range r.Runs {
		ids = append(ids, s.ID)
	}
	return ids, r
}

// historyRows are the rows of the filter cases, with their ids.
func historyRows() []Row {
	m := func(s string) *string { return &s }
	return []Row{
		{ID: 1, CRMSource: "hubspot", SyncType: "contacts", Start: at(-hour), End: end(-50 * minute)},
		{ID: 2, CRMSource: "hubspot", SyncType: "deals", Status: "failed", Start: at(-2 * hour), End: end(-119 * minute),
			ErrorMessage: m("429 Client Error: Too Many Requests for url: https://api.hubapi.com/x?hapikey=SECRETKEY123456")},
		{ID: 3, CRMSource: "genius", SyncType: "appointments", Status: "completed", Start: at(-2 * hour), End: end(-90 * minute)},
		{ID: 4, CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: at(-3 * hour), End: end(-170 * minute),
			ErrorMessage: m("Sync stopped by user")},
		{ID: 5, CRMSource: "genius", SyncType: "jobs", Status: "in_progress", Start: at(-10 * minute)},
		{ID: 6, CRMSource: "callrail", SyncType: "calls", Status: "partial", Start: at(-5 * hour), End: end(-4 * hour)},
		{ID: 7, CRMSource: "callrail", SyncType: "calls", Status: "failed", Start: at(-40 * day), End: after(at(-40*day), minute),
			ErrorMessage: m("HTTP 429: Too Many Requests")},
		{ID: 8, CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: at(-100 * day), End: after(at(-100*day), minute),
			ErrorMessage: m("HTTP 429 rate limit")},
		{ID: 9, CRMSource: "arrivy", SyncType: "tasks", Start: at(-3 * hour), End: end(-179 * minute)},
		{ID: 10, CRMSource: "hubspot", SyncType: "contacts", Status: "skipped", Start: at(-6 * hour), End: end(-6 * hour)},
		{ID: 11, CRMSource: "genius", SyncType: "jobs", Status: "failed", Start: at(-2 * hour), End: end(-hour),
			ErrorMessage: m("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345 rejected")},
	}
}

func historyFilters(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t, historyRows()...)
	secs := func(n int64) *int64 { return &n }
	cases := []struct {
		name string
		q    dashboard.HistoryQuery
		want []int64
	}{
		{"newest first, ties by greater id", dashboard.HistoryQuery{}, []int64{5, 1, 11, 3, 2, 9, 4, 6, 10, 7, 8}},
		{"one crm", dashboard.HistoryQuery{CRMSources: []string{"genius"}}, []int64{5, 11, 3, 4, 8}},
		{"several crms", dashboard.HistoryQuery{CRMSources: []string{"hubspot", "genius"}}, []int64{5, 1, 11, 3, 2, 4, 10, 8}},
		{"a crm without rows", dashboard.HistoryQuery{CRMSources: []string{"nosuchcrm"}}, []int64{}},
		{"a sync_type of any crm", dashboard.HistoryQuery{SyncType: "appointments"}, []int64{3, 4, 8}},
		{"crm and sync_type", dashboard.HistoryQuery{CRMSources: []string{"callrail"}, SyncType: "calls"}, []int64{6, 7}},
		{"success includes completed", dashboard.HistoryQuery{Statuses: []string{"success"}}, []int64{1, 3, 9}},
		{"running includes in_progress", dashboard.HistoryQuery{Statuses: []string{"running"}}, []int64{5}},
		{"several statuses", dashboard.HistoryQuery{Statuses: []string{"partial", "failed"}}, []int64{11, 2, 4, 6, 7, 8}},
		{"an unknown status", dashboard.HistoryQuery{Statuses: []string{"skipped"}}, []int64{10}},
		{"crm and status", dashboard.HistoryQuery{CRMSources: []string{"genius"}, Statuses: []string{"failed"}}, []int64{11, 4, 8}},
		{"a time range, from included, to not", dashboard.HistoryQuery{From: at(-3 * hour), To: at(-hour)}, []int64{11, 3, 2, 9, 4}},
		{"an error type", dashboard.HistoryQuery{ErrorType: "terminated", From: at(-200 * day)}, []int64{4}},
		{"an error type of another status", dashboard.HistoryQuery{ErrorType: "terminated", Statuses: []string{"success"}}, []int64{}},
		{"an error type in a range", dashboard.HistoryQuery{ErrorType: "rate_limit", From: at(-200 * day)}, []int64{2, 7, 8}},
		{"a duration above 1800 s", dashboard.HistoryQuery{MinDurationSeconds: secs(1800), From: at(-200 * day)}, []int64{11, 6}},
		{"a duration above 0 s", dashboard.HistoryQuery{MinDurationSeconds: secs(0), CRMSources: []string{"hubspot"}, From: at(-200 * day)}, []int64{1, 2}},
		{"text, case aside", dashboard.HistoryQuery{Text: "too many", From: at(-200 * day)}, []int64{2, 7}},
		{"text as masked", dashboard.HistoryQuery{Text: "HAPIKEY=***", From: at(-200 * day)}, []int64{2}},
		{"a masked secret is not found", dashboard.HistoryQuery{Text: "SECRETKEY", From: at(-200 * day)}, []int64{}},
		{"a masked token is not found", dashboard.HistoryQuery{Text: "abcdefghij", From: at(-200 * day)}, []int64{}},
		{"text with a LIKE wildcard is literal", dashboard.HistoryQuery{Text: "429%", From: at(-200 * day)}, []int64{}},
		{"text and crm", dashboard.HistoryQuery{Text: "429", CRMSources: []string{"callrail"}, From: at(-200 * day)}, []int64{7}},
		{"text, crms and rare statuses", dashboard.HistoryQuery{Text: "stopped", CRMSources: []string{"genius", "hubspot"}, From: at(-200 * day),
			Statuses: []string{"failed", "partial"}}, []int64{4}},
		{"crms and rare statuses", dashboard.HistoryQuery{CRMSources: []string{"genius", "callrail"},
			Statuses: []string{"failed", "partial"}, From: at(-200 * day)}, []int64{11, 4, 6, 7, 8}},
	}
	for _, c := range cases {
		ids, r := historyIDs(t, d, c.q)
		if !cmp.Equal(c.want, ids) {
			t.Errorf("%s: got ids %v, want %v", c.name, ids, c.want)
		}
		if r.NextCursor != nil || r.SearchedBackTo != nil || r.Note != nil {
			t.Errorf("%s: got a cursor %v, searched back to %v, note %v: want the whole answer", c.name, r.NextCursor, r.SearchedBackTo, r.Note)
		}
	}
	// Every row is shown as recent-syncs shows it.
	_, r := historyIDs(t, d, dashboard.HistoryQuery{CRMSources: []string{"hubspot"}, Statuses: []string{"failed"}})
	if got := r.Runs[0]; got.ErrorType == nil || *got.ErrorType != "rate_limit" || got.ErrorMessage == nil ||
		strings.Contains(*got.ErrorMessage, "SECRETKEY") || got.DurationSeconds == nil || *got.DurationSeconds != 60 || got.Name != "HubSpot" {
		t.Errorf("row %+v: want its type, masked message, duration and name", got)
	}
}

func historySearchSpan(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t, historyRows()...)
	// Row 8 started 100 days ago: a filter no index serves searches 90 days a page, says
	// so, and its cursor searches on.
	for _, q := range []dashboard.HistoryQuery{
		{ErrorType: "rate_limit"},
		{Text: "429"},
	} {
		ids, r := historyIDs(t, d, q)
		if !cmp.Equal(ids, []int64{2, 7}) || r.SearchedBackTo == nil || !r.SearchedBackTo.Equal(at(-90*day)) ||
			r.Note == nil || !strings.Contains(*r.Note, "90 days") || r.NextCursor == nil {
			t.Fatalf("%+v: got %v, searched back to %v, note %v, cursor %v: want 2 and 7, 90 days searched, a cursor",
				q, ids, r.SearchedBackTo, r.Note, r.NextCursor)
		}
		cursor, err := dashboard.ParseCursor(*r.NextCursor)
		if err != nil {
			t.Fatal(err)
		}
		q.Cursor = &cursor
		ids, r = historyIDs(t, d, q)
		if !cmp.Equal(ids, []int64{8}) || r.NextCursor != nil || r.SearchedBackTo != nil {
			t.Errorf("%+v, next page: got %v, cursor %v, searched back to %v: want 8, and the end", q, ids, r.NextCursor, r.SearchedBackTo)
		}
	}
	// Filters an index serves search the whole history at once.
	if ids, r := historyIDs(t, d, dashboard.HistoryQuery{Statuses: []string{"failed"}, CRMSources: []string{"genius"}}); !cmp.Equal(ids, []int64{11, 4, 8}) || r.NextCursor != nil {
		t.Errorf("genius's failures: %v, cursor %v: want all three at once", ids, r.NextCursor)
	}
}

func historyPaging(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	// Thirty rows, three to a start time, some of them years old.
	var rows []Row
	for i := range 30 {
		start := at(-time.Duration(i/3) * 7 * hour)
		if i >= 24 {
			start = at(-time.Duration(i) * 100 * day)
		}
		status := []string{"success", "failed", "completed"}[i%3]
		rows = append(rows, Row{CRMSource: []string{"hubspot", "genius"}[i%2], SyncType: "contacts", Status: status, Start: start, End: after(start, minute)})
	}
	ids := fx.Insert(t, rows...)
	type key struct {
		start time.Time
		id    int64
	}
	all := map[int64]key{}
	for i, r := range rows {
		all[ids[i]] = key{r.Start, ids[i]}
	}
	for _, filter := range []dashboard.HistoryQuery{
		{},
		{CRMSources: []string{"hubspot"}},
		{Statuses: []string{"success"}},
		{CRMSources: []string{"genius"}, Statuses: []string{"failed", "success"}},
	} {
		q := filter
		q.Limit = 4
		seen := map[int64]bool{}
		var order []key
		inserted := map[int64]bool{} // rows written between pages before the cursor
		for page := 0; ; page++ {
			if page > 40 {
				t.Fatalf("%+v: more than 40 pages of 4 for about 40 rows", filter)
			}
			got, r := historyIDs(t, d, q)
			for _, s := range r.Runs {
				if seen[s.ID] {
					t.Errorf("%+v: row %d repeated on page %d", filter, s.ID, page)
				}
				seen[s.ID] = true
				order = append(order, key{s.StartTime, s.ID})
			}
			if r.NextCursor == nil {
				break
			}
			if len(got) != q.Limit {
				t.Errorf("%+v: page %d has %d rows and a cursor", filter, page, len(got))
			}
			cursor, err := dashboard.ParseCursor(*r.NextCursor)
			if err != nil {
				t.Fatal(err)
			}
			q.Cursor = &cursor
			// Rows arrive meanwhile: a new run (newer than every page, never shown by
			// the pages that follow), a late write of an old run (after the cursor: shown
			// once), and a run starting at the cursor's own instant (a greater id: it sorts
			// before the cursor, not after).
			added := fx.Insert(t,
				Row{CRMSource: "hubspot", SyncType: "contacts", Start: at(time.Minute), End: end(2 * time.Minute)},
				Row{CRMSource: "hubspot", SyncType: "contacts", Status: "completed", Start: cursor.Start.Add(-time.Second), End: after(cursor.Start, 0)},
				Row{CRMSource: "genius", SyncType: "contacts", Status: "failed", Start: cursor.Start, End: after(cursor.Start, time.Second)},
			)
			all[added[0]] = key{at(time.Minute), added[0]}
			all[added[1]] = key{cursor.Start.Add(-time.Second), added[1]}
			all[added[2]] = key{cursor.Start, added[2]}
			inserted[added[1]] = true
		}
		for i := 1; i < len(order); i++ {
			a, b := order[i-1], order[i]
			if !(b.start.Before(a.start) || (b.start.Equal(a.start) && b.id < a.id)) {
				t.Errorf("%+v: rows out of order: %v then %v", filter, a, b)
			}
		}
		// Every row that was there from the start, and every late row written after the
		// cursor, matching the filter, was shown.
		for i, r := range rows {
			if matchesFilter(filter, r) && !seen[ids[i]] {
				t.Errorf("%+v: row %d (%v) never shown", filter, ids[i], r.Start)
			}
		}
		for id := range inserted {
			if matchesFilter(filter, Row{CRMSource: "hubspot", Status: "completed"}) && !seen[id] {
				t.Errorf("%+v: the late row %d, written after the cursor, never shown", filter, id)
			}
		}
	}
}

// matchesFilter is the CRM and status filters of a history query, read literally.
func matchesFilter(q dashboard.HistoryQuery, r Row) bool {
	r = r.WithDefaults()
	if len(q.CRMSources) > 0 && !slices.Contains(q.CRMSources, r.CRMSource) {
		return false
	}
	return len(q.Statuses) == 0 || slices.Contains(q.Statuses, canonicalStatus(r.Status))
}

func readCSV(t *testing.T, d *dashboard.Dashboard, q dashboard.HistoryQuery) [][]string {
	t.Helper()
	var b bytes.Buffer
	flushes := 0
	if err := d.ExportHistoryCSV(ctx(t), &b, func() { flushes++ }, q); err != nil {
		t.Fatal(err)
	}
	if flushes == 0 {
		t.Error("the export never flushed")
	}
	r := csv.NewReader(&b)
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	return records
}

func historyCSV(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	m := func(s string) *string { return &s }
	fx.Insert(t,
		Row{ID: 1, CRMSource: "hubspot", SyncType: "=HYPERLINK(\"http://evil\",\"x\")", Status: "failed", Start: at(-hour), End: end(-59 * minute),
			ErrorMessage: m("@SUM(A1:A9) api_key=SECRETVALUE99")},
		Row{ID: 2, CRMSource: "+cmd", SyncType: "-2+3", Start: at(-2 * hour), End: end(-119 * minute), RecordsProcessed: 12},
		Row{ID: 3, CRMSource: "hubspot", SyncType: "contacts", Start: at(-3 * hour), End: end(-179 * minute), ErrorMessage: m("line one,\n\"two\"")},
		Row{ID: 4, CRMSource: "hubspot", SyncType: "contacts", Status: "running", Start: at(-4 * hour)},
	)
	records := readCSV(t, d, dashboard.HistoryQuery{Limit: dashboard.DefaultExportRows})
	header := []string{"id", "crm_source", "name", "sync_type", "status", "start_time", "end_time", "duration_seconds",
		"records_processed", "records_created", "records_updated", "records_failed", "error_type", "error_message"}
	if len(records) != 5 || !cmp.Equal(records[0], header) {
		t.Fatalf("got %d records, header %v: want the header and four rows", len(records), records[0])
	}
	first := records[1]
	if first[0] != "1" || first[3] != `'=HYPERLINK("http://evil","x")` || first[4] != "failed" ||
		!strings.HasPrefix(first[13], "'@SUM(A1:A9)") || strings.Contains(first[13], "SECRETVALUE99") || first[12] == "" ||
		first[5] != at(-hour).Format(time.RFC3339Nano) || first[7] != "60" {
		t.Errorf("row 1: %q: want the formula neutralised, the secret masked, the times and duration", first)
	}
	if second := records[2]; second[1] != "'+cmd" || second[2] != "'+cmd" || second[3] != "'-2+3" || second[8] != "12" || second[13] != "" {
		t.Errorf("row 2: %q: want every formula-like cell neutralised", second)
	}
	if third := records[3]; third[13] != "line one,\n\"two\"" {
		t.Errorf("row 3 message %q: want it whole, quoted as CSV quotes", third[13])
	}
	if fourth := records[4]; fourth[6] != "" || fourth[7] != "" || fourth[4] != "running" {
		t.Errorf("row 4: %q: want no end and no duration while running", fourth)
	}

	// Bounded: the last line says where it was cut and how to go on.
	records = readCSV(t, d, dashboard.HistoryQuery{Limit: 2})
	if len(records) != 4 || len(records[3]) != 1 || !strings.HasPrefix(records[3][0], "# cut at 2 rows") ||
		!strings.Contains(records[3][0], "cursor") || records[1][0] != "1" || records[2][0] != "2" {
		t.Errorf("cut at 2: %q: want the header, two rows and a line saying it was cut", records)
	}
	// Exactly as many rows as the bound: not cut.
	records = readCSV(t, d, dashboard.HistoryQuery{Limit: 4})
	if len(records) != 5 || len(records[4]) != len(header) {
		t.Errorf("four rows, bound 4: %q: want all four and no note", records)
	}
	// The same filters as the history.
	records = readCSV(t, d, dashboard.HistoryQuery{Limit: 100, CRMSources: []string{"hubspot"}, Statuses: []string{"success"}})
	if len(records) != 2 || records[1][0] != "3" {
		t.Errorf("hubspot's successes: %q, want row 3", records)
	}
}

func runDetail(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	m := func(s string) *string { return &s }
	var rows []Row
	// Eleven successes of genius's jobs, an hour apart, of 100 s to 1100 s.
	for i := range 11 {
		s := at(-time.Duration(i+2) * hour)
		rows = append(rows, Row{CRMSource: "genius", SyncType: "jobs", Start: s, End: after(s, time.Duration(100*(i+1))*time.Second)})
	}
	rows = append(rows,
		Row{CRMSource: "genius", SyncType: "jobs", Status: "completed", Start: at(-90 * minute), End: end(-80 * minute),
			RecordsProcessed: 5, RecordsCreated: 2, RecordsUpdated: 3, RecordsFailed: 1,
			Endpoint:           m("https://api.genius.example/v1/jobs?api_key=SECRETENDPOINT"),
			Configuration:      m(`{"batch_size": 100, "api_key": "SECRETCONFIG", "since_date": "2025-10-01"}`),
			PerformanceMetrics: m(`{"duration_seconds": 600.5, "api_calls": 12}`),
			ErrorMessage:       m("warning: 1 record skipped")},
		Row{CRMSource: "genius", SyncType: "jobs", Status: "in_progress", Start: at(-30 * minute)},
		// Other entities in between are not its neighbours.
		Row{CRMSource: "genius", SyncType: "deals", Start: at(-85 * minute), End: end(-84 * minute)},
		Row{CRMSource: "hubspot", SyncType: "jobs", Start: at(-70 * minute), End: end(-69 * minute)},
	)
	ids := fx.Insert(t, rows...)
	r, err := d.RunDetail(ctx(t), ids[11])
	if err != nil {
		t.Fatal(err)
	}
	run := r.Run
	if run.ID != ids[11] || run.Status != "success" || run.RawStatus != "completed" || run.CRMSource != "genius" ||
		run.SyncType != "jobs" || *run.RecordsCreated != 2 || *run.RecordsFailed != 1 || *run.DurationSeconds != 600 ||
		run.ErrorMessage == nil || *run.ErrorMessage != "warning: 1 record skipped" || run.CreatedAt == nil {
		t.Errorf("run %+v: want every column as stored, the status read through its alias", run)
	}
	if run.Endpoint == nil || strings.Contains(*run.Endpoint, "SECRETENDPOINT") || !strings.Contains(*run.Endpoint, "api.genius.example") {
		t.Errorf("endpoint %v: want it shown with its key masked", run.Endpoint)
	}
	if c := run.Configuration; c == nil || !strings.Contains(*c, "\n  \"batch_size\": 100") || strings.Contains(*c, "SECRETCONFIG") ||
		!strings.Contains(*c, `"since_date": "2025-10-01"`) {
		t.Errorf("configuration %v: want it indented, its key masked", c)
	}
	if p := run.PerformanceMetrics; p == nil || !strings.Contains(*p, "\n  \"api_calls\": 12") {
		t.Errorf("performance_metrics %v: want it indented", p)
	}
	for _, col := range []string{"id", "crm_source", "sync_type", "endpoint", "start_time", "end_time", "status",
		"records_processed", "error_message", "performance_metrics", "configuration", "created_at"} {
		if !slices.Contains(run.Columns, col) {
			t.Errorf("columns %v: want %s", run.Columns, col)
		}
	}
	// Its entity: eleven durations of 100 s to 1100 s, and its own 600 s.
	if r.Entity.DurationRuns != 12 || *r.Entity.DurationP50 != 600 || *r.Entity.DurationP95 != 1100 {
		t.Errorf("entity %+v: want p50 600 s and p95 1100 s over 12 runs", r.Entity)
	}
	if r.Previous == nil || r.Previous.ID != ids[0] || r.Next == nil || r.Next.ID != ids[12] || r.Next.Status != "running" {
		t.Errorf("previous %+v, next %+v: want the jobs run before it and the one running after", r.Previous, r.Next)
	}
	// The run in progress: its elapsed time against its entity.
	running, err := d.RunDetail(ctx(t), ids[12])
	if err != nil {
		t.Fatal(err)
	}
	if running.Run.ElapsedSeconds == nil || *running.Run.ElapsedSeconds != 1800 || !running.Run.Slow || running.Next != nil {
		t.Errorf("running run %+v: want 1800 s elapsed, slow (p95 1100 s), no next", running.Run)
	}
	if first, err := d.RunDetail(ctx(t), ids[10]); err != nil || first.Previous != nil || first.Next == nil || first.Next.ID != ids[9] {
		t.Errorf("oldest run: %+v, %v: want no previous, the next one after", first, err)
	}
	if _, err := d.RunDetail(ctx(t), 987654321); !errors.Is(err, dashboard.ErrNotFound) {
		t.Errorf("missing id: got %v, want ErrNotFound", err)
	}
}

func drillHostileText(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	odd := Hostile()
	odd.CRMSource = "hubspot"
	odd.Endpoint = ptr("https://x/<script>alert(1)</script>?token=sk_live_0123456789abcdef")
	odd.Configuration = ptr(`{"note": "<img src=x onerror=alert(1)>", "password": "sk_live_0123456789abcdef"}`)
	ids := fx.Insert(t, Hostile(), odd)

	var all []any
	crm, err := d.CRM(ctx(t), "hubspot", 7)
	all = append(all, crm, err)
	history, err := d.History(ctx(t), dashboard.HistoryQuery{Limit: 10})
	all = append(all, history, err)
	run, err := d.RunDetail(ctx(t), ids[1])
	all = append(all, run, err)
	for i := 1; i < len(all); i += 2 {
		if all[i] != nil {
			t.Fatal(all[i])
		}
	}
	// A run's page shows its whole message (a CSV cell too): up to 21,000 characters.
	checkClean(t, all, 21000)
	var b bytes.Buffer
	if err := d.ExportHistoryCSV(ctx(t), &b, func() {}, dashboard.HistoryQuery{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	checkClean(t, b.String(), 21000)
}

// checkClean fails when any text in v (encoded as JSON when it is not a string; a string
// is read line by line, as a CSV file) holds a control or bidirectional character, a
// secret of Hostile, or more than maxRunes characters.
func checkClean(t *testing.T, v any, maxRunes int) {
	t.Helper()
	var texts []string
	if s, ok := v.(string); ok {
		for _, line := range strings.Split(s, "\n") {
			texts = append(texts, strings.TrimSuffix(line, "\r")) // CSV ends its records with CRLF
		}
	} else {
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var decoded any
		if err := json.Unmarshal(body, &decoded); err != nil {
			t.Fatal(err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				texts = append(texts, v)
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(decoded)
	}
	for _, s := range texts {
		if strings.ContainsFunc(s, func(r rune) bool {
			return r != '\n' && r != '\t' && unicode.IsControl(r) || r == '\u202E'
		}) {
			t.Errorf("got %.80q: a control or bidi character reached the answer", s)
		}
		if n := utf8.RuneCountInString(s); n > maxRunes {
			t.Errorf("got a text of %d characters, want at most %d", n, maxRunes)
		}
		if strings.Contains(s, "sk_live_0123456789abcdef") {
			t.Errorf("got %.80q…: a secret reached the answer", s)
		}
	}
}
