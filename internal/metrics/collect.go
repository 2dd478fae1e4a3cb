package metrics

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// descs are the metrics syncwatch serves besides the library's; docs/metrics.md says what
// each means.
type descs struct {
	lastSuccess, lastRunStart, lastDuration, lastRecords, consecutiveFailures *prometheus.Desc
	running, stuck, runs24h                                                   *prometheus.Desc
	nextRun, overdue                                                          *prometheus.Desc
	componentUp, componentStatus, celeryWorkers, queueLength                  *prometheus.Desc
	figuresAge, refreshDuration, refreshFailures, refreshInterval             *prometheus.Desc
	alertsFiring, notifications                                               *prometheus.Desc
}

func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("syncwatch_"+name, help, labels, nil)
	}
	entity := []string{"crm", "sync_type"}
	return descs{
		lastSuccess: d("sync_last_success_timestamp_seconds",
			"finished_at of the entity's latest success or partial run started in the last 30 days (Unix seconds).", entity...),
		lastRunStart: d("sync_last_run_start_timestamp_seconds",
			"start_time of the entity's latest run (Unix seconds).", entity...),
		lastDuration: d("sync_last_duration_seconds",
			"Duration of the entity's latest finished run whose duration is known.", entity...),
		lastRecords: d("sync_last_records_processed",
			"records_processed of the entity's latest finished run.", entity...),
		consecutiveFailures: d("sync_consecutive_failures",
			"Failed runs of the entity since its latest success or partial run.", entity...),
		running: d("sync_running", "Runs of the CRM running now.", "crm"),
		stuck:   d("sync_stuck", "Runs of the CRM running for longer than the stuck threshold.", "crm"),
		runs24h: d("sync_runs_24h", "Runs of the CRM finished in the last 24 hours, by status.", "crm", "status"),
		nextRun: d("schedule_next_run_timestamp_seconds",
			"The next expected start of the entity's enabled schedules, the earliest (Unix seconds).", entity...),
		overdue: d("schedule_overdue",
			"1 when a schedule of the entity is overdue: its expected run did not start within the grace.", entity...),
		componentUp: d("component_up",
			"1 while the component answers (healthy or degraded), 0 when unhealthy.", "component"),
		componentStatus: d("component_status",
			"1 for the component's current status, 0 for the others.", "component", "status"),
		celeryWorkers: d("celery_workers", "Celery workers that answered the last ping."),
		queueLength:   d("celery_queue_length", "Messages waiting in the Celery queue, all priorities.", "queue"),
		figuresAge: d("figures_age_seconds",
			"Age of the figures served: now minus the moment they were computed."),
		refreshDuration: d("refresh_duration_seconds", "Duration of one computation of the figures."),
		refreshFailures: d("refresh_failures_total", "Computations of the figures that failed."),
		refreshInterval: d("refresh_interval_seconds", "How often the figures are recomputed (--refresh)."),
		alertsFiring:    d("alerts_firing", "Alerts firing now, by alert name.", "alertname"),
		notifications: d("notifications_total",
			"Notifications sent since syncwatch started, by channel and result.", "channel", "result"),
	}
}

// snapshot lists the metrics made from a snapshot; the others are measured at the scrape
// (see liveCollector).
func (d descs) snapshot() []*prometheus.Desc {
	return []*prometheus.Desc{
		d.lastSuccess, d.lastRunStart, d.lastDuration, d.lastRecords, d.consecutiveFailures,
		d.running, d.stuck, d.runs24h, d.nextRun, d.overdue,
		d.componentUp, d.componentStatus, d.celeryWorkers, d.queueLength,
		d.refreshDuration, d.refreshFailures, d.refreshInterval,
	}
}

// exposition is one snapshot's metrics, encoded once for every scrape until the next.
type exposition struct {
	families []encodedFamily
	// figuresAt is when the figures were computed; zero when there are none.
	figuresAt time.Time
}

// expose builds and encodes the metrics of a snapshot. Calls are serialized by the
// caller (Exporter.Update).
func (e *Exporter) expose(s dashboard.Snapshot) *exposition {
	x := &exposition{}
	if s.HasFigures {
		x.figuresAt = s.Meta.Timestamp
	}
	// A registry of its own checks the metrics against their descriptions, sorts them
	// and turns them into families, as for any scrape.
	reg := prometheus.NewRegistry()
	reg.MustRegister(constCollector{descs: e.descs.snapshot(), metrics: e.build(s)})
	mfs, err := reg.Gather()
	if err != nil {
		// A bug: a label value the cleaning let through, a duplicate series. The rest is
		// still served.
		e.cfg.Logger.Error("metrics: a snapshot's metrics are inconsistent", "error", err)
	}
	x.families = encodeFamilies(mfs, e.cfg.Logger)
	return x
}

// constCollector collects metrics made in advance.
type constCollector struct {
	descs   []*prometheus.Desc
	metrics []prometheus.Metric
}

func (c constCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics {
		ch <- m
	}
}

// liveCollector collects what is measured at the scrape: the age of the figures served,
// and the alerts engine's counts.
type liveCollector struct {
	descs     descs
	figuresAt time.Time
	now       time.Time
	alerts    AlertSource
}

func (c liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.descs.figuresAge
	ch <- c.descs.alertsFiring
	ch <- c.descs.notifications
}

func (c liveCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.figuresAt.IsZero() {
		age := max(c.now.Sub(c.figuresAt), 0)
		ch <- gauge(c.descs.figuresAge, age.Seconds())
	}
	if c.alerts == nil {
		return
	}
	for name, n := range c.alerts.FiringByName() {
		ch <- gauge(c.descs.alertsFiring, float64(n), name)
	}
	for channel, results := range c.alerts.NotificationTotals() {
		for result, n := range results {
			ch <- metric(c.descs.notifications, prometheus.CounterValue, float64(n), channel, result)
		}
	}
}

// build makes the metrics of one snapshot.
func (e *Exporter) build(s dashboard.Snapshot) []prometheus.Metric {
	b := builder{e: e}
	if s.HasFigures {
		b.figures(s)
	}
	b.health(s.Health.Report)
	b.refreshes(s.Refreshes)
	if s.RefreshInterval > 0 {
		b.gauge(b.e.descs.refreshInterval, s.RefreshInterval.Seconds())
	}
	return b.out
}

// builder accumulates the metrics of one snapshot.
type builder struct {
	e   *Exporter
	out []prometheus.Metric
}

func (b *builder) add(m prometheus.Metric) { b.out = append(b.out, m) }

func (b *builder) gauge(d *prometheus.Desc, v float64, labels ...string) {
	b.add(gauge(d, v, labels...))
}

func (b *builder) figures(s dashboard.Snapshot) {
	d := b.e.descs
	// Every CRM of the CRM table, and any other that finished runs in 24 hours, has its
	// counts, 0 included, so that a rule on them resolves when they drop to none.
	runs := make(map[string]dashboard.CRMOutcomes, len(s.CRMs))
	for _, o := range s.Runs24h {
		o.CRMSource = label(o.CRMSource)
		prev := runs[o.CRMSource]
		o.Success, o.Failed, o.Partial = o.Success+prev.Success, o.Failed+prev.Failed, o.Partial+prev.Partial
		runs[o.CRMSource] = o
	}
	seen := make(map[string]bool, len(s.CRMs))
	for _, crm := range s.CRMs {
		source := label(crm.Source)
		if seen[source] {
			continue
		}
		seen[source] = true
		b.gauge(d.running, float64(crm.Running), source)
		b.gauge(d.stuck, float64(crm.Stuck), source)
		if _, ok := runs[source]; !ok {
			runs[source] = dashboard.CRMOutcomes{CRMSource: source}
		}
	}
	for source, o := range runs {
		b.gauge(d.runs24h, float64(o.Success), source, syncs.StatusSuccess)
		b.gauge(d.runs24h, float64(o.Failed), source, syncs.StatusFailed)
		b.gauge(d.runs24h, float64(o.Partial), source, syncs.StatusPartial)
	}

	groups, folded := groupEntities(s, b.e.cfg.MaxEntities)
	if folded > 0 {
		b.e.logCap(folded)
	}
	for _, g := range groups {
		b.entity(g)
	}
}

// entity adds the series of one (crm, sync_type) label pair.
func (b *builder) entity(g *group) {
	d := b.e.descs
	crm, syncType := g.key.crm, g.key.syncType
	if len(g.entities) > 0 {
		var lastStart time.Time
		var lastSuccess *time.Time
		var failures int64
		for _, e := range g.entities {
			if e.LastRun.StartTime.After(lastStart) {
				lastStart = e.LastRun.StartTime
			}
			if e.LastSuccess != nil && (lastSuccess == nil || e.LastSuccess.After(*lastSuccess)) {
				lastSuccess = e.LastSuccess
			}
			failures = max(failures, e.ConsecutiveFailures)
		}
		b.gauge(d.lastRunStart, unixSeconds(lastStart), crm, syncType)
		if lastSuccess != nil {
			b.gauge(d.lastSuccess, unixSeconds(*lastSuccess), crm, syncType)
		}
		if e := newestFinished(g.entities, func(e *dashboard.EntityStatus) bool { return e.LastDurationSeconds != nil }); e != nil {
			b.gauge(d.lastDuration, *e.LastDurationSeconds, crm, syncType)
		}
		if e := newestFinished(g.entities, func(e *dashboard.EntityStatus) bool { return e.LastRecordsProcessed != nil }); e != nil {
			b.gauge(d.lastRecords, float64(*e.LastRecordsProcessed), crm, syncType)
		}
		b.gauge(d.consecutiveFailures, float64(failures), crm, syncType)
	}
	if len(g.schedules) > 0 {
		var next *time.Time
		overdue := false
		for _, s := range g.schedules {
			// Only enabled schedules that beat will run have a next run.
			if s.NextRun != nil && (next == nil || s.NextRun.Before(*next)) {
				next = s.NextRun
			}
			overdue = overdue || s.Overdue
		}
		if next != nil {
			b.gauge(d.nextRun, unixSeconds(*next), crm, syncType)
		}
		b.gauge(d.overdue, boolValue(overdue), crm, syncType)
	}
}

// newestFinished returns, among the entities for which has holds, the one whose latest
// finished run is the newest (finished_at, then id); nil when none.
func newestFinished(entities []*dashboard.EntityStatus, has func(*dashboard.EntityStatus) bool) *dashboard.EntityStatus {
	var best *dashboard.EntityStatus
	for _, e := range entities {
		if !has(e) || e.LastFinished == nil {
			continue
		}
		if best == nil || runAfter(*e.LastFinished, *best.LastFinished) {
			best = e
		}
	}
	return best
}

// runAfter reports whether finished run a is newer than b: later finished_at, then id.
func runAfter(a, b dashboard.EntityRun) bool {
	fa, fb := finishedAt(a), finishedAt(b)
	if !fa.Equal(fb) {
		return fa.After(fb)
	}
	return a.ID > b.ID
}

// finishedAt is the contract's finished_at: end_time, or start_time without one.
func finishedAt(r dashboard.EntityRun) time.Time {
	if r.EndTime != nil {
		return *r.EndTime
	}
	return r.StartTime
}

// components are the components of the health metrics, by their label.
var components = []struct {
	name  string
	check func(health.Report) health.Check
}{
	{"database", func(r health.Report) health.Check { return r.Database.Check }},
	{"redis", func(r health.Report) health.Check { return r.Redis.Check }},
	{"celery", func(r health.Report) health.Check { return r.Celery.Check }},
	{"rabbitmq", func(r health.Report) health.Check {
		if r.RabbitMQ == nil {
			return health.Check{Status: health.StatusNotConfigured}
		}
		return r.RabbitMQ.Check
	}},
}

// statuses are the values of the status label of component_status.
var statuses = []health.Status{health.StatusHealthy, health.StatusDegraded, health.StatusUnhealthy}

func (b *builder) health(r health.Report) {
	d := b.e.descs
	for _, comp := range components {
		ch := comp.check(r)
		if !checked(ch) {
			continue
		}
		b.gauge(d.componentUp, boolValue(ch.Status != health.StatusUnhealthy), comp.name)
		for _, st := range statuses {
			b.gauge(d.componentStatus, boolValue(ch.Status == st), comp.name, string(st))
		}
	}
	if !checked(r.Celery.Check) {
		return
	}
	if r.Celery.AnsweredWorkers != nil {
		b.gauge(d.celeryWorkers, float64(*r.Celery.AnsweredWorkers))
	}
	seen := make(map[string]bool, len(r.Celery.Queues))
	for _, q := range r.Celery.Queues {
		name := label(q.Name)
		if seen[name] {
			continue
		}
		seen[name] = true
		b.gauge(d.queueLength, float64(q.Pending), name)
	}
}

// checked reports whether a component is configured and has been checked: only then do
// its metrics exist.
func checked(c health.Check) bool {
	switch c.Status {
	case health.StatusHealthy, health.StatusDegraded, health.StatusUnhealthy:
		return !c.Pending
	}
	return false
}

func (b *builder) refreshes(r dashboard.RefreshStats) {
	d := b.e.descs
	buckets := make(map[float64]uint64, len(r.Buckets))
	for _, bk := range r.Buckets {
		buckets[bk.UpTo.Seconds()] = bk.Count
	}
	h, err := prometheus.NewConstHistogram(d.refreshDuration, r.Total, r.DurationSum.Seconds(), buckets)
	if err != nil {
		h = prometheus.NewInvalidMetric(d.refreshDuration, err)
	}
	b.add(h)
	b.add(metric(d.refreshFailures, prometheus.CounterValue, float64(r.Failed)))
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return metric(d, prometheus.GaugeValue, v, labels...)
}

// metric makes a constant metric. Label values are cleaned first (see label), so an
// error here is a bug, logged when the metrics are gathered.
func metric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	for i := range labels {
		labels[i] = label(labels[i])
	}
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// logCap says once per process that the cap on entities was reached.
func (e *Exporter) logCap(folded int) {
	if e.capLogged {
		return
	}
	e.capLogged = true
	e.cfg.Logger.Warn("metrics: more entities than the cap; the rest are counted under sync_type=\"other\" of their CRM",
		"cap", e.cfg.MaxEntities, "folded", folded)
}

// label is a label value as the API shows the same text: valid UTF-8, without control
// characters, at most syncs.MaxWordLength characters. Ordinary values are unchanged.
func label(s string) string { return syncs.CleanText(s, syncs.MaxWordLength) }

func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// sortKeys orders label pairs by CRM, then sync_type, byte by byte.
func sortKeys(keys []entityKey) {
	slices.SortFunc(keys, func(a, b entityKey) int {
		return cmp.Or(cmp.Compare(a.crm, b.crm), cmp.Compare(a.syncType, b.syncType))
	})
}
