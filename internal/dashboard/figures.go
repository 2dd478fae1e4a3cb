package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// recentErrorCount is how many failures the errors section lists.
const recentErrorCount = 10

// figures is everything one refresh computes for one number of shown days: the answers of
// api/stats/, api/crm-status/, api/performance-charts/ and api/errors/ (the first two do
// not depend on the days).
type figures struct {
	at        time.Time
	overview  Overview
	crms      []CRMStatus
	charts    ChartsResponse
	errors    ErrorsResponse
	sources   map[string]time.Time // every source with rows → its latest start_time
	stuckFrom time.Time
	runs24h   []CRMOutcomes
}

// rows is what the store answered for one refresh.
type rows struct {
	running   []syncs.RunningCount
	latest    []syncs.Run
	groups    []syncs.FinishedGroup
	started   []syncs.CRMCount
	failed    []syncs.Run
	schedules []syncs.Schedule
}

// dayBounds returns the days+1 midnights that cut the last `days` calendar days up to and
// including today, in loc. Midnights are computed by the calendar, not by adding 24 hours,
// so days of 23 or 25 hours (daylight saving time) are cut where the wall clock says.
func dayBounds(now time.Time, loc *time.Location, days int) []time.Time {
	local := now.In(loc)
	y, m, d := local.Date()
	bounds := make([]time.Time, days+1)
	for i := range bounds {
		bounds[i] = time.Date(y, m, d-days+1+i, 0, 0, 0, 0, loc)
	}
	return bounds
}

// computeFigures asks the store its questions for one refresh, concurrently where they are
// independent, and turns the answers into the contract's figures.
func (d *Dashboard) computeFigures(ctx context.Context, days int) (*figures, error) {
	now := d.now().UTC()
	bounds := dayBounds(now, d.cfg.Location, days)
	since := now.Add(-24 * time.Hour)
	window := syncs.Window{From: bounds[0], DayBounds: bounds, Since: since, Until: now}
	if since.Before(window.From) {
		window.From = since
	}
	stuckBefore := now.Add(-d.cfg.StuckAfter)

	var r rows
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { r.running, err = d.cfg.Store.RunningByCRM(gctx, stuckBefore); return })
	g.Go(func() (err error) { r.latest, err = d.cfg.Store.LatestByCRM(gctx); return })
	g.Go(func() error {
		finished, err := d.cfg.Store.FinishedSince(gctx, window)
		r.groups, r.failed = finished.Groups, finished.Failures
		return err
	})
	g.Go(func() (err error) { r.started, err = d.cfg.Store.StartedByCRM(gctx, bounds[0], bounds[days]); return })
	g.Go(func() (err error) { r.schedules, err = d.cfg.Store.Schedules(gctx); return })
	if err := g.Wait(); err != nil {
		return nil, err
	}

	f := &figures{at: now, stuckFrom: stuckBefore, sources: make(map[string]time.Time, len(r.latest))}
	for _, run := range r.latest {
		f.sources[run.CRMSource] = run.Start
	}
	f.overview = overview(r.running, r.groups)
	f.runs24h = runs24h(r.groups)
	crms, err := d.crmStatuses(ctx, now, r)
	if err != nil {
		return nil, err
	}
	if err := d.addSchedules(ctx, now, crms, r.schedules); err != nil {
		return nil, err
	}
	f.crms = crms
	for _, c := range crms {
		if c.Overdue {
			f.overview.OverdueCRMs++
		}
	}
	f.charts = charts(r.groups, r.started, bounds)
	f.charts.TimeZone = d.cfg.Location.String()
	f.errors, err = d.errorFigures(ctx, r.groups, r.failed, bounds)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// overview sums the running counts and the groups of the 24-hour window.
func overview(running []syncs.RunningCount, groups []syncs.FinishedGroup) Overview {
	var o Overview
	for _, c := range running {
		o.ActiveSyncs += c.Running
		o.StuckSyncs += c.Stuck
	}
	var today outcomes
	for _, g := range groups {
		if g.In24Hours {
			today.add(g.Status, g.Count)
		}
	}
	o.CompletedToday, o.FailedToday, o.PartialToday = today.success, today.failed, today.partial
	o.SuccessRate = today.successRate()
	return o
}

// runs24h counts each CRM's rows finished in the last 24 hours by status, by source.
func runs24h(groups []syncs.FinishedGroup) []CRMOutcomes {
	bySource := make(map[string]*outcomes)
	for _, g := range groups {
		if !g.In24Hours {
			continue
		}
		o := bySource[g.CRMSource]
		if o == nil {
			o = &outcomes{}
			bySource[g.CRMSource] = o
		}
		o.add(g.Status, g.Count)
	}
	out := make([]CRMOutcomes, 0, len(bySource))
	for source, o := range bySource {
		if o.total() > 0 {
			out = append(out, CRMOutcomes{CRMSource: source, Success: o.success, Failed: o.failed, Partial: o.partial})
		}
	}
	slices.SortFunc(out, func(a, b CRMOutcomes) int { return cmp.Compare(a.CRMSource, b.CRMSource) })
	return out
}

// outcomes counts finished rows by the three statuses the contract's rates are taken
// over; any other status (skipped, one nobody knows) counts in none of them.
type outcomes struct{ success, failed, partial int64 }

func (o *outcomes) add(status string, count int64) {
	switch status {
	case syncs.StatusSuccess:
		o.success += count
	case syncs.StatusFailed:
		o.failed += count
	case syncs.StatusPartial:
		o.partial += count
	}
}

// total is the rows a rate is out of.
func (o outcomes) total() int64 { return o.success + o.failed + o.partial }

func (o outcomes) successRate() *float64 { return percent(o.success, o.total()) }

// crmStatuses builds the CRM table: the configured sources in their order, then every
// other source with a row that started in the last 30 days, by source.
func (d *Dashboard) crmStatuses(ctx context.Context, now time.Time, r rows) ([]CRMStatus, error) {
	latest := make(map[string]syncs.Run, len(r.latest))
	for _, run := range r.latest {
		latest[run.CRMSource] = run
	}
	shown := append([]string(nil), d.cfg.Sources...)
	configured := make(map[string]bool, len(shown))
	for _, s := range shown {
		configured[s] = true
	}
	monthAgo := now.Add(-30 * 24 * time.Hour)
	var others []string
	var probes []syncs.StartProbe
	for _, run := range r.latest {
		switch {
		case configured[run.CRMSource]:
		case run.Start.After(now):
			// The latest row is in the future (a clock ahead of ours): it says nothing about
			// the last 30 days, so ask whether another row falls in them.
			probes = append(probes, syncs.StartProbe{CRMSource: run.CRMSource, From: monthAgo, To: now})
		case !run.Start.Before(monthAgo):
			others = append(others, run.CRMSource)
		}
	}
	if len(probes) > 0 {
		found, err := d.cfg.Store.StartedNear(ctx, probes)
		if err != nil {
			return nil, fmt.Errorf("crm status: %w", err)
		}
		for i, ok := range found {
			if ok {
				others = append(others, probes[i].CRMSource)
			}
		}
	}
	slices.Sort(others)
	shown = append(shown, others...)

	running := make(map[string]syncs.RunningCount, len(r.running))
	for _, c := range r.running {
		running[c.CRMSource] = c
	}
	// The greatest finished_at of a success row: the window's groups hold it for every
	// CRM that succeeded since the window began (they read every row finished since then,
	// with no upper bound); only the others need a look further back.
	lastSuccess := make(map[string]time.Time)
	for _, g := range r.groups {
		if g.Status == syncs.StatusSuccess && g.LastFinished.After(lastSuccess[g.CRMSource]) {
			lastSuccess[g.CRMSource] = g.LastFinished
		}
	}

	crms := make([]CRMStatus, 0, len(shown))
	for _, source := range shown {
		c := CRMStatus{Source: word(source), Name: displayName(source), Status: "never", Schedules: []ScheduleInfo{}}
		c.Running, c.Stuck = running[source].Running, running[source].Stuck
		run, ok := latest[source]
		if ok {
			c.Status = word(run.Status)
			c.SyncType = ptr(word(run.SyncType))
			c.LastStart = utc(&run.Start)
			c.LastSync = utc(run.End)
			c.RecordsProcessed, c.RecordsCreated, c.RecordsUpdated = run.RecordsProcessed, run.RecordsCreated, run.RecordsUpdated
			c.DurationSeconds, c.RecordsPerSecond = durationFigures(run)
			last, found := lastSuccess[source]
			if !found {
				var err error
				last, found, err = d.lastSuccessBefore(ctx, source, now)
				if err != nil {
					return nil, fmt.Errorf("crm status: %w", err)
				}
			}
			if found {
				c.LastSuccess = utc(&last)
			}
		}
		crms = append(crms, c)
	}
	return crms, nil
}

// durationFigures is a row's duration_seconds and records_per_second.
func durationFigures(run syncs.Run) (*float64, *float64) {
	dur, ok := run.Duration()
	if !ok {
		return nil, nil
	}
	// One division of whole microseconds (the databases' resolution): the nearest float
	// to the exact figure, whose shortest decimal is that figure (1.316515, where
	// Duration.Seconds() adds two rounded parts and gives 1.3165149999999999).
	seconds := float64(dur.Microseconds()) / 1e6
	if run.RecordsProcessed == nil {
		return &seconds, nil
	}
	return &seconds, perSecond(*run.RecordsProcessed, dur.Microseconds())
}

// secondsOf is a duration in seconds, from its whole microseconds (the databases'
// resolution): one division, so the float is the one nearest the exact value, as a user
// computing it in SQL gets. (time.Duration.Seconds adds two rounded parts, and can be one
// unit in the last place off: 13.818097999999999 for 13.818098 s.)
func secondsOf(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1e6
}

// charts computes the four charts over the shown days.
func charts(groups []syncs.FinishedGroup, started []syncs.CRMCount, bounds []time.Time) ChartsResponse {
	days := len(bounds) - 1
	type day struct {
		outcomes
		durMicros, durCount int64
	}
	perDay := make([]day, days)
	records := make(map[string]int64)
	for _, g := range groups {
		if g.Day < 0 || g.Day >= days {
			continue
		}
		p := &perDay[g.Day]
		p.add(g.Status, g.Count)
		// Failed rows are left out of durations: the stale-sync cleanup gives them an
		// end_time days after their start, which is not a duration.
		if g.Status == syncs.StatusSuccess || g.Status == syncs.StatusPartial {
			p.durMicros += g.DurationMicros
			p.durCount += g.DurationCount
		}
		records[g.CRMSource] += g.RecordsProcessed
	}
	c := ChartsResponse{Days: days}
	labels := dayLabels(bounds) // shared by both trends, which are only read from here on
	c.SyncDurationTrend.Labels, c.SuccessRateTrend.Labels = labels, labels
	for _, p := range perDay {
		c.SyncDurationTrend.Data = append(c.SyncDurationTrend.Data, meanSeconds(p.durMicros, p.durCount))
		c.SuccessRateTrend.Data = append(c.SuccessRateTrend.Data, p.successRate())
	}
	c.RecordsByCRM = byCRM(records)
	frequency := make(map[string]int64, len(started))
	for _, s := range started {
		frequency[s.CRMSource] += s.Count
	}
	c.SyncFrequency = byCRM(frequency)
	return c
}

// dayLabels names each shown day as the contract says: "Oct 9".
func dayLabels(bounds []time.Time) []string {
	labels := make([]string, len(bounds)-1)
	for i := range labels {
		labels[i] = bounds[i].Format("Jan 2")
	}
	return labels
}

// byCRM turns per-source sums into a chart series: sums above 0, largest first, ties by
// source, labelled by display name.
func byCRM(sums map[string]int64) Counts {
	type entry struct {
		source string
		sum    int64
	}
	var entries []entry
	for source, sum := range sums {
		if sum > 0 {
			entries = append(entries, entry{source, sum})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.sum, a.sum), cmp.Compare(a.source, b.source))
	})
	c := Counts{Labels: []string{}, Data: []int64{}}
	for _, e := range entries {
		c.Labels = append(c.Labels, displayName(e.source))
		c.Data = append(c.Data, e.sum)
	}
	return c
}

// errorFigures computes the errors section over the shown days.
func (d *Dashboard) errorFigures(ctx context.Context, groups []syncs.FinishedGroup, failed []syncs.Run, bounds []time.Time) (ErrorsResponse, error) {
	days := len(bounds) - 1
	e := ErrorsResponse{Days: days, Since: bounds[0]}

	// Error types of the failed rows that finished in the shown days.
	typeCounts := make(map[string]int64)
	for _, run := range failed {
		at, _ := run.FinishedAt()
		if at.Before(bounds[0]) || !at.Before(bounds[days]) {
			continue
		}
		typeCounts[string(errclass.Classify(run.ErrorMessage))]++
	}
	e.ErrorDistribution = sortedCounts(typeCounts)

	// The failures that finished since the window began are the newest there are; when
	// there are fewer than ten, look further back.
	recent := failed
	if len(recent) < recentErrorCount {
		var err error
		recent, err = d.cfg.Store.RecentFailures(ctx, recentErrorCount)
		if err != nil {
			return e, fmt.Errorf("errors: %w", err)
		}
	}
	recent = slices.Clone(recent)
	slices.SortFunc(recent, func(a, b syncs.Run) int {
		fa, _ := a.FinishedAt()
		fb, _ := b.FinishedAt()
		return cmp.Or(fb.Compare(fa), cmp.Compare(b.ID, a.ID))
	})
	e.RecentErrors = []ErrorEntry{}
	for _, run := range recent[:min(len(recent), recentErrorCount)] {
		at, _ := run.FinishedAt()
		e.RecentErrors = append(e.RecentErrors, ErrorEntry{
			ID: run.ID, CRMSource: word(run.CRMSource), Name: displayName(run.CRMSource),
			SyncType: word(run.SyncType), FailedAt: at.UTC(),
			ErrorType:    string(errclass.Classify(run.ErrorMessage)),
			ErrorMessage: showMessage(run.ErrorMessage),
		})
	}

	// Failure rates per CRM over the same days.
	tallies := make(map[string]*outcomes)
	for _, g := range groups {
		if g.Day < 0 || g.Day >= days {
			continue
		}
		t := tallies[g.CRMSource]
		if t == nil {
			t = &outcomes{}
			tallies[g.CRMSource] = t
		}
		t.add(g.Status, g.Count)
	}
	e.ProblematicCRMs = []ProblematicCRM{}
	for source, t := range tallies {
		if t.failed == 0 {
			continue
		}
		e.ProblematicCRMs = append(e.ProblematicCRMs, ProblematicCRM{
			Source: word(source), Name: displayName(source), Failed: t.failed, Total: t.total(),
			FailureRate: *percent(t.failed, t.total()),
		})
	}
	// By the exact rate (failed/total compared as fractions): two rates that round alike
	// are still ordered as they are.
	slices.SortFunc(e.ProblematicCRMs, func(a, b ProblematicCRM) int {
		return cmp.Or(cmp.Compare(b.Failed*a.Total, a.Failed*b.Total), cmp.Compare(b.Failed, a.Failed), cmp.Compare(a.Source, b.Source))
	})
	e.ProblematicCRMs = e.ProblematicCRMs[:min(len(e.ProblematicCRMs), 5)]
	return e, nil
}

// sortedCounts orders counts largest first, ties by label.
func sortedCounts(counts map[string]int64) Counts {
	labels := make([]string, 0, len(counts))
	for l := range counts {
		labels = append(labels, l)
	}
	slices.SortFunc(labels, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	c := Counts{Labels: labels, Data: make([]int64, len(labels))}
	for i, l := range labels {
		c.Data[i] = counts[l]
	}
	return c
}

// The texts of the rows are shown as the database holds them, but made safe and sane to
// show (syncs.CleanText): a hostile or broken row cannot forge lines, hide characters or
// send megabytes to every viewer.

// word cleans a short text: a source, an entity, a status, a schedule's name.
func word(s string) string { return syncs.CleanText(s, syncs.MaxWordLength) }

// displayName is a source's display name, cleaned.
func displayName(source string) string { return word(syncs.DisplayName(source)) }

// showMessage cleans an error message and hides the secrets in it; NULL stays NULL.
func showMessage(msg *string) *string {
	if msg == nil {
		return nil
	}
	shown := errclass.Mask(syncs.CleanText(*msg, syncs.MaxMessageLength))
	return &shown
}

func ptr[T any](v T) *T { return &v }

// utc returns t in UTC, so every timestamp is encoded with a Z; nil stays nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// lastSuccessBefore is a CRM's last success when it has none since the window began. The
// store finds it by walking back through the end_time index, which for a CRM that has
// not succeeded for a long time means many rows; the answer changes only when a success
// older than the window is written afterwards (a rare backfill), so it is remembered for
// lastSuccessMemory rather than asked again every refresh.
func (d *Dashboard) lastSuccessBefore(ctx context.Context, source string, now time.Time) (time.Time, bool, error) {
	d.mu.Lock()
	m, ok := d.lastSuccess[source]
	d.mu.Unlock()
	if ok && now.Sub(m.asked) < lastSuccessMemory {
		return m.at, m.found, nil
	}
	at, found, err := d.cfg.Store.LastSuccess(ctx, source)
	if err != nil {
		return at, found, err
	}
	d.mu.Lock()
	d.lastSuccess[source] = rememberedSuccess{at: at, found: found, asked: now}
	d.mu.Unlock()
	return at, found, nil
}

// lastSuccessMemory is how long lastSuccessBefore trusts an answer.
const lastSuccessMemory = time.Hour

type rememberedSuccess struct {
	at, asked time.Time
	found     bool
}
