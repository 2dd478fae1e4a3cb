package alerts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/notify"
)

// The rules' names: each alert's alertname.
const (
	SyncFailing          = "sync_failing"
	SyncStale            = "sync_stale"
	SyncStuck            = "sync_stuck"
	ScheduleOverdue      = "schedule_overdue"
	EmptyRuns            = "empty_runs"
	WorkersDown          = "workers_down"
	QueueBacklog         = "queue_backlog"
	WarehouseUnreachable = "warehouse_unreachable"
)

// RuleNames lists every rule, in the order the page and docs/alerts.md show them.
var RuleNames = []string{SyncFailing, SyncStale, SyncStuck, ScheduleOverdue, EmptyRuns,
	WorkersDown, QueueBacklog, WarehouseUnreachable}

// The severities: critical alerts say something is broken, warnings that something
// needs a look.
const (
	Critical = "critical"
	Warning  = "warning"
)

// figureRules are the rules over the figures: they are not judged while the figures
// are stale or absent (warehouse_unreachable says so instead), so an outage of the
// warehouse neither fires nor resolves them.
var figureRules = []string{SyncFailing, SyncStale, SyncStuck, ScheduleOverdue, EmptyRuns}

// Rules are the thresholds of the rules. DefaultRules gives the defaults.
type Rules struct {
	// FailingRuns is N of sync_failing: the last N finished runs of an entity failed.
	FailingRuns int
	// StaleAfter is sync_stale's freshness limit; StaleAfterByCRM overrides it per CRM.
	StaleAfter      time.Duration
	StaleAfterByCRM map[string]time.Duration
	// EmptyRuns is K of empty_runs (the dashboard marks the entities; this is for the
	// summary).
	EmptyRuns int
	// WorkersDownFor is how long the Celery workers must be unhealthy for workers_down.
	WorkersDownFor time.Duration
	// QueueBacklog and QueueBacklogFor: more pending tasks than this in one queue, for
	// this long.
	QueueBacklog    int64
	QueueBacklogFor time.Duration
	// UnreachableAfter is how long the figures must have been stale for
	// warehouse_unreachable; 0 means two refresh intervals.
	UnreachableAfter time.Duration
}

// DefaultRules returns the defaults: N = 2, 24 h, K = 3, 5 min, 100 tasks for 20 min,
// two refresh intervals.
func DefaultRules() Rules {
	return Rules{FailingRuns: 2, StaleAfter: 24 * time.Hour, EmptyRuns: 3,
		WorkersDownFor: 5 * time.Minute, QueueBacklog: 100, QueueBacklogFor: 20 * time.Minute}
}

// Check reports a threshold that makes no sense.
func (r Rules) Check() error {
	var errs []error
	if r.FailingRuns < 1 {
		errs = append(errs, fmt.Errorf("failing runs must be at least 1, not %d", r.FailingRuns))
	}
	if r.EmptyRuns < 1 {
		errs = append(errs, fmt.Errorf("empty runs must be at least 1, not %d", r.EmptyRuns))
	}
	if r.StaleAfter <= 0 {
		errs = append(errs, errors.New("the freshness limit must be positive"))
	}
	for crm, d := range r.StaleAfterByCRM {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("the freshness limit of %s must be positive", crm))
		}
	}
	if r.WorkersDownFor < 0 || r.QueueBacklogFor < 0 || r.UnreachableAfter < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if r.QueueBacklog < 0 {
		errs = append(errs, errors.New("the queue backlog threshold must not be negative"))
	}
	return errors.Join(errs...)
}

// ParseStaleAfterByCRM reads per-CRM freshness limits: "hubspot=6h,genius=48h".
func ParseStaleAfterByCRM(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		crm, d, ok := strings.Cut(item, "=")
		crm = strings.TrimSpace(crm)
		if !ok || crm == "" {
			return nil, fmt.Errorf("%q is not crm=duration, such as hubspot=6h", item)
		}
		limit, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || limit <= 0 {
			return nil, fmt.Errorf("%q: %q is not a positive duration such as 6h", crm, d)
		}
		out[crm] = limit
	}
	return out, nil
}

// candidate is an alert whose condition holds in one snapshot.
type candidate struct {
	alert notify.Alert
	// crm is the CRM the alert is about, "" for the machinery's alerts.
	crm string
	// since is when the condition began, when the figures say; zero means "now" (the
	// first evaluation that sees it).
	since time.Time
	// hold is the rule's "for": how long the condition must hold before it fires.
	hold time.Duration
	// threshold is the rule's threshold as a number, for the legacy API fields.
	threshold float64
}

// evaluation is what the rules make of one snapshot: the conditions that hold, and the
// rules that could be judged at all (the others keep their alerts as they are).
type evaluation struct {
	candidates []candidate
	judged     map[string]bool
	// entities and crms are those with a row started in the last 30 days: the scope of
	// the rules over entities (sync_failing, empty_runs) and of sync_stale.
	entities map[[2]string]bool
	crms     map[string]bool
}

// outOfScope reports whether an alert of the rules over the 30 days is about an entity
// (or a CRM) that has no row started in them any more: it resolves because nothing is
// left to judge, not because anything succeeded, and its resolution says so.
func (ev evaluation) outOfScope(a notify.Alert) bool {
	switch a.Name {
	case SyncFailing, EmptyRuns:
		return !ev.entities[[2]string{a.Labels["crm"], a.Labels["sync_type"]}]
	case SyncStale:
		return !ev.crms[a.Labels["crm"]]
	}
	return false
}

// evaluate applies the rules to s at now.
func (r Rules) evaluate(s dashboard.Snapshot, now time.Time) evaluation {
	// Before its first computation ends, syncwatch knows nothing of the warehouse: a
	// restart during an outage must not resolve warehouse_unreachable.
	ev := evaluation{judged: map[string]bool{WarehouseUnreachable: s.HasFigures || s.RefreshError != nil}}
	add := func(c candidate) {
		c.alert.Fingerprint = notify.Fingerprint(c.alert.Name, c.alert.Labels)
		ev.candidates = append(ev.candidates, c)
	}
	r.warehouse(s, now, add)
	if s.HasFigures && !s.Stale {
		for _, name := range figureRules {
			ev.judged[name] = true
		}
		ev.entities, ev.crms = make(map[[2]string]bool, len(s.Entities)), make(map[string]bool)
		for _, e := range s.Entities {
			ev.entities[[2]string{e.CRMSource, e.SyncType}], ev.crms[e.CRMSource] = true, true
		}
		r.failing(s, add)
		r.stale(s, now, add)
		r.stuck(s, add)
		r.overdue(s, add)
		r.empty(s, add)
	}
	// Neither Celery rule is judged before the first check has ended, nor without a
	// broker configured: removing the setting says nothing of the workers or the queues,
	// so it neither resolves nor fires them.
	celery := s.Health.Celery
	if celery.Status != "" && celery.Status != health.StatusNotConfigured && !celery.Pending {
		ev.judged[WorkersDown] = true
		if celery.Status == health.StatusUnhealthy {
			reason := celery.Error
			if reason == "" {
				reason = "no worker answered"
			}
			add(candidate{
				alert: notify.Alert{Name: WorkersDown, Labels: map[string]string{}, Severity: Critical,
					Summary: "No Celery worker answers: " + errclass.Mask(reason) + ". Syncs are not running.",
					Description: fmt.Sprintf("The Celery health check has been unhealthy for %s or more; "+
						"it resolves when a worker answers.", duration(r.WorkersDownFor))},
				hold: r.WorkersDownFor,
			})
		}
		// A queue's depth is known only when the broker answered.
		if celery.PendingTasks != nil {
			ev.judged[QueueBacklog] = true
			for _, q := range celery.Queues {
				if q.Pending <= r.QueueBacklog {
					continue
				}
				add(candidate{
					alert: notify.Alert{Name: QueueBacklog, Labels: map[string]string{"queue": q.Name}, Severity: Warning,
						Summary: fmt.Sprintf("Celery queue %s has %d pending tasks (threshold %d) with %d consumer%s.",
							q.Name, q.Pending, r.QueueBacklog, q.Consumers, plural(q.Consumers)),
						Description: fmt.Sprintf("Above %d pending tasks for %s or more; it resolves at the first check below.",
							r.QueueBacklog, duration(r.QueueBacklogFor))},
					hold: r.QueueBacklogFor, threshold: float64(r.QueueBacklog),
				})
			}
		}
	}
	return ev
}

// warehouse is warehouse_unreachable: the figures have been stale longer than the limit
// (or, before any figures, refreshes have failed that long).
func (r Rules) warehouse(s dashboard.Snapshot, now time.Time, add func(candidate)) {
	after := r.UnreachableAfter
	if after <= 0 {
		after = 2 * s.RefreshInterval
	}
	reason := "the last refresh failed"
	if s.RefreshError != nil {
		reason = errclass.Mask(s.RefreshError.Error())
	}
	alert := notify.Alert{Name: WarehouseUnreachable, Labels: map[string]string{}, Severity: Critical,
		Description: "The figures on the page are the last good ones; every other rule over them is held as it was until fresh figures come."}
	switch {
	case s.HasFigures && s.Stale && s.StaleSince != nil:
		if now.Sub(*s.StaleSince) <= after {
			return
		}
		alert.Summary = fmt.Sprintf("The warehouse has not answered since %s: %s.", timeText(*s.StaleSince), reason)
		add(candidate{alert: alert, since: *s.StaleSince, threshold: after.Seconds()})
	case !s.HasFigures && s.RefreshError != nil:
		alert.Summary = "The warehouse has not answered since syncwatch started: " + reason + "."
		add(candidate{alert: alert, hold: after, threshold: after.Seconds()})
	}
}

// failing is sync_failing: an entity's last N finished runs failed.
func (r Rules) failing(s dashboard.Snapshot, add func(candidate)) {
	for _, e := range s.Entities {
		if e.ConsecutiveFailures < int64(r.FailingRuns) {
			continue
		}
		a := notify.Alert{Name: SyncFailing, Labels: entityLabels(e), Severity: Critical,
			Summary: fmt.Sprintf("%s %s failed %d times in a row.", e.Name, e.SyncType, e.ConsecutiveFailures),
			Description: fmt.Sprintf("Its last %d finished runs failed; it resolves when a run ends success or partial.",
				r.FailingRuns)}
		c := candidate{alert: a, crm: e.CRMSource, threshold: float64(r.FailingRuns)}
		if f := e.LastFailure; f != nil {
			c.alert.ErrorType = f.ErrorType
			if f.ErrorMessage != nil {
				c.alert.ErrorMessage = errclass.Mask(*f.ErrorMessage)
			}
			c.alert.Summary = fmt.Sprintf("%s %s failed %d times in a row, the last at %s (%s).",
				e.Name, e.SyncType, e.ConsecutiveFailures, timeText(f.FailedAt), f.ErrorType)
			c.since = f.FailedAt
		}
		add(c)
	}
}

// stale is sync_stale: a CRM that ran in the last 30 days has had no success or partial
// run for longer than its limit. A CRM without any success is measured from its first
// row in the 30 days: a new CRM whose first run is running, or failed, has not yet been
// without a success for longer than the limit.
func (r Rules) stale(s dashboard.Snapshot, now time.Time, add func(candidate)) {
	type crmFacts struct {
		name  string
		ran   bool
		last  *time.Time
		first *time.Time // the earliest start of its entities' rows in the 30 days
	}
	facts := map[string]*crmFacts{}
	var order []string
	get := func(source, name string) *crmFacts {
		f := facts[source]
		if f == nil {
			f = &crmFacts{name: name}
			facts[source] = f
			order = append(order, source)
		}
		return f
	}
	later := func(a *time.Time, b *time.Time) *time.Time {
		if b != nil && (a == nil || b.After(*a)) {
			return b
		}
		return a
	}
	window := now.Add(-30 * 24 * time.Hour)
	for _, c := range s.CRMs {
		f := get(c.Source, c.Name)
		f.ran = f.ran || (c.LastStart != nil && !c.LastStart.Before(window))
		f.last = later(f.last, c.LastSuccess) // success rows only, all time
	}
	for _, e := range s.Entities {
		f := get(e.CRMSource, e.Name)
		f.ran = true                          // an entity is listed for a row started in 30 days
		f.last = later(f.last, e.LastSuccess) // success and partial rows
		if !e.FirstStart.IsZero() && (f.first == nil || e.FirstStart.Before(*f.first)) {
			f.first = &e.FirstStart
		}
	}
	for _, source := range order {
		f := facts[source]
		if !f.ran {
			continue
		}
		limit := r.StaleAfter
		if l, ok := r.StaleAfterByCRM[source]; ok {
			limit = l
		}
		a := notify.Alert{Name: SyncStale, Labels: map[string]string{"crm": source}, Severity: Warning,
			Description: fmt.Sprintf("Its freshness limit is %s; it resolves when a run of it ends success or partial.", duration(limit))}
		c := candidate{alert: a, crm: source, threshold: limit.Hours()}
		switch {
		case f.last == nil:
			// Without its first start (no entity listed: the CRM's figures and the
			// entities' disagree for a moment) it cannot be said to be late.
			if f.first == nil || now.Sub(*f.first) <= limit {
				continue
			}
			c.alert.Summary = fmt.Sprintf("%s has run since %s and has not succeeded (limit %s).",
				f.name, timeText(*f.first), duration(limit))
			c.since = f.first.Add(limit)
		case now.Sub(*f.last) > limit:
			c.alert.Summary = fmt.Sprintf("%s has not succeeded since %s (limit %s).", f.name, timeText(*f.last), duration(limit))
			c.since = f.last.Add(limit)
		default:
			continue
		}
		add(c)
	}
}

// stuck is sync_stuck: a run has been running longer than the stuck threshold.
func (r Rules) stuck(s dashboard.Snapshot, add func(candidate)) {
	for _, run := range s.StuckRuns {
		add(candidate{
			alert: notify.Alert{Name: SyncStuck, Severity: Critical,
				Labels: map[string]string{"crm": run.CRMSource, "sync_type": run.SyncType, "run_id": strconv.FormatInt(run.ID, 10)},
				Summary: fmt.Sprintf("%s %s run %d has been running since %s (stuck after %s).",
					run.Name, run.SyncType, run.ID, timeText(run.StartTime), duration(s.StuckAfter)),
				Description: "It resolves when the run ends, or is marked failed (the nightly cleanup does that)."},
			crm: run.CRMSource, since: run.StartTime.Add(s.StuckAfter), threshold: s.StuckAfter.Minutes(),
		})
	}
}

// overdue is schedule_overdue: a schedule's expected run did not start within the grace.
// Several overdue schedules of one entity are one alert.
func (r Rules) overdue(s dashboard.Snapshot, add func(candidate)) {
	for _, c := range s.CRMs {
		byEntity := map[string][]dashboard.ScheduleInfo{}
		var order []string
		for _, sch := range c.Schedules {
			if !sch.Overdue || sch.State == "disabled" {
				continue
			}
			if _, ok := byEntity[sch.ModelName]; !ok {
				order = append(order, sch.ModelName)
			}
			byEntity[sch.ModelName] = append(byEntity[sch.ModelName], sch)
		}
		for _, entity := range order {
			list := byEntity[entity]
			first := list[0]
			summary := fmt.Sprintf("%s schedule %q (%s) did not start its run", c.Name, first.Name, entity)
			if first.LastExpected != nil {
				summary += " expected at " + timeText(*first.LastExpected)
			}
			summary += "."
			if len(list) > 1 {
				summary += fmt.Sprintf(" %d more schedules of it are overdue too.", len(list)-1)
			}
			add(candidate{
				alert: notify.Alert{Name: ScheduleOverdue, Severity: Warning,
					Labels:      map[string]string{"crm": c.Source, "sync_type": entity},
					Summary:     summary,
					Description: "Beat should have sent it; no run of the CRM started within the grace. It resolves when a run of the CRM starts."},
				crm: c.Source,
			})
		}
	}
}

// empty is empty_runs: the last K successful runs of an entity processed nothing while
// it usually does.
func (r Rules) empty(s dashboard.Snapshot, add func(candidate)) {
	for _, e := range s.Entities {
		if !e.EmptyRuns {
			continue
		}
		summary := fmt.Sprintf("%s %s: the last %d successful runs processed 0 records.", e.Name, e.SyncType, r.EmptyRuns)
		if e.EmptyRunsMedian != nil {
			summary = fmt.Sprintf("%s %s: the last %d successful runs processed 0 records; before them it processed %s a run (median).",
				e.Name, e.SyncType, r.EmptyRuns, strconv.FormatFloat(*e.EmptyRunsMedian, 'f', -1, 64))
		}
		add(candidate{
			alert: notify.Alert{Name: EmptyRuns, Labels: entityLabels(e), Severity: Warning, Summary: summary,
				Description: "It resolves when a run of it processes records."},
			crm: e.CRMSource, threshold: float64(r.EmptyRuns),
		})
	}
}

func entityLabels(e dashboard.EntityStatus) map[string]string {
	return map[string]string{"crm": e.CRMSource, "sync_type": e.SyncType}
}

// timeText writes a time for a summary: UTC, to the minute.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// duration writes a threshold as people write it: 24h, 90m, 5m, 30s.
func duration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
