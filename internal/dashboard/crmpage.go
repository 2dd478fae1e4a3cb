package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// A CRM's page (api/crms/<source>/): its entities' figures over their last 30 days
// (entityWindow, as the snapshot's entities), the derived marks, its charts and its
// recent failures. docs/api.md defines every figure; "consecutive failures", "last
// success" and "empty runs" are those the alerts and the metrics use (the empty-runs mark
// is the same rule, through the same memo, with the same --alert-empty-runs), so that
// the three agree.

const (
	// countWindow is the span of the runs, failures and success rate of each entity.
	countWindow = 7 * 24 * time.Hour
	// slowMinRuns is how many known durations an entity needs before a run of it can be
	// judged slow against their 95th percentile.
	slowMinRuns = 10
	// streakAfter is how many failures in a row make a failure streak.
	streakAfter = 2
	// topEntities is how many entities the duration chart shows on their own.
	topEntities = 5
	// recentFailureCount is how many failures a CRM's page lists.
	recentFailureCount = 10
	// entityRowLimit bounds the rows read for one entity's window (a run a minute for
	// 30 days is 43,200).
	entityRowLimit = 100_000
)

// otherEntities names the series of the entities the duration chart sums together; the
// parentheses keep it apart from any sync_type.
const otherEntities = "(other)"

// farFuture is a start_time bound that no row reaches.
var farFuture = time.Date(9999, time.January, 1, 0, 0, 0, 0, time.UTC)

func crmKey(source string, days int) string {
	return "crm/" + strconv.Quote(source) + "/" + strconv.Itoa(days)
}

// CRM answers GET api/crms/<source>/ with its charts over the last days calendar days.
// A source that is neither configured nor has any row is ErrNotFound.
func (d *Dashboard) CRM(ctx context.Context, source string, days int) (CRMResponse, error) {
	// The default figures first, outside the CRM's computation: that computation takes
	// the heavy turn, and must not then wait for another heavy one.
	f, _, err := d.figures(ctx, d.cfg.DefaultDays)
	if err != nil {
		return CRMResponse{}, err
	}
	if _, seen := f.sources[source]; !seen && !slices.Contains(d.cfg.Sources, source) {
		return CRMResponse{}, fmt.Errorf("crm %q: %w", source, ErrNotFound)
	}
	v, meta, err := d.cache.get(ctx, crmKey(source, days), true, func(ctx context.Context) (any, time.Time, error) {
		r, err := d.computeCRM(ctx, source, days)
		return r, r.Timestamp, err
	})
	if err != nil {
		return CRMResponse{}, err
	}
	r := v.(CRMResponse)
	r.Meta = meta
	return r, nil
}

// CRMJSON is the JSON of CRM.
func (d *Dashboard) CRMJSON(ctx context.Context, source string, days int) ([]byte, error) {
	a, err := d.CRM(ctx, source, days)
	return d.answers.encode(crmKey(source, days), a.Meta, a, err)
}

func (d *Dashboard) computeCRM(ctx context.Context, source string, days int) (CRMResponse, error) {
	now := d.now().UTC()
	r := CRMResponse{Meta: Meta{Timestamp: now}}
	header, err := d.crmHeader(ctx, source, now)
	if err != nil {
		return r, err
	}
	r.CRM = header
	bounds := dayBounds(now, d.cfg.Location, days)
	sum, err := d.cfg.Store.CRMSummary(ctx, syncs.CRMQuery{Source: source, Since: now.Add(-entityWindow),
		CountsSince: now.Add(-countWindow), DayBounds: bounds, Failures: recentFailureCount, Successes: d.cfg.EmptyRunsAfter})
	if err != nil {
		return r, fmt.Errorf("crm %s: %w", source, err)
	}
	r.SeenIn30Days = len(sum.Entities) > 0
	r.Charts = crmCharts(sum.Days, bounds)
	r.Charts.TimeZone = d.cfg.Location.String()

	stuckBefore := now.Add(-d.cfg.StuckAfter)
	r.Entities = make([]EntityFigures, 0, len(sum.Entities))
	r.Running = []RunningRun{}
	for _, es := range sum.Entities {
		e, running, err := d.entityFigures(ctx, source, es, now, stuckBefore)
		if err != nil {
			return r, err
		}
		e.NextRun, e.Overdue = entitySchedule(header.Schedules, es.SyncType)
		r.Entities = append(r.Entities, e)
		r.Running = append(r.Running, running...)
	}
	slices.SortFunc(r.Running, func(a, b RunningRun) int {
		return cmp.Or(a.StartTime.Compare(b.StartTime), cmp.Compare(a.ID, b.ID))
	})
	r.RecentFailures = []ErrorEntry{}
	for _, run := range sum.Failures {
		at, _ := run.FinishedAt()
		r.RecentFailures = append(r.RecentFailures, ErrorEntry{
			ID: run.ID, CRMSource: word(run.CRMSource), Name: displayName(run.CRMSource),
			SyncType: word(run.SyncType), FailedAt: at.UTC(),
			ErrorType: string(errclass.Classify(run.ErrorMessage)), ErrorMessage: showMessage(run.ErrorMessage),
		})
	}
	return r, nil
}

// crmHeader is the CRM's line of api/crm-status/ as the default figures hold it. A source
// those figures do not list (not configured, nothing in 30 days) gets a line made the
// same way from its latest row.
func (d *Dashboard) crmHeader(ctx context.Context, source string, now time.Time) (CRMStatus, error) {
	v, _, ok := d.cache.peek(figuresKey(d.cfg.DefaultDays))
	if !ok {
		return CRMStatus{}, errNoFigures
	}
	for _, c := range v.(*figures).crms {
		if c.Source == word(source) && c.Source == source {
			return c, nil
		}
	}
	c := CRMStatus{Source: word(source), Name: displayName(source), Status: "never", Schedules: []ScheduleInfo{}}
	latest, err := d.cfg.Store.History(ctx, syncs.HistoryQuery{CRMSources: []string{source}, Limit: 1})
	if err != nil {
		return c, fmt.Errorf("crm %s: latest: %w", source, err)
	}
	if len(latest) == 0 {
		return c, nil
	}
	run := latest[0]
	c.Status, c.SyncType, c.LastStart, c.LastSync = word(run.Status), ptr(word(run.SyncType)), utc(&run.Start), utc(run.End)
	c.RecordsProcessed, c.RecordsCreated, c.RecordsUpdated = run.RecordsProcessed, run.RecordsCreated, run.RecordsUpdated
	c.DurationSeconds, c.RecordsPerSecond = durationFigures(run)
	running, err := d.cfg.Store.RunningByCRM(ctx, now.Add(-d.cfg.StuckAfter))
	if err != nil {
		return c, fmt.Errorf("crm %s: running: %w", source, err)
	}
	for _, rc := range running {
		if rc.CRMSource == source {
			c.Running, c.Stuck = rc.Running, rc.Stuck
		}
	}
	last, found, err := d.lastSuccessBefore(ctx, source, now)
	if err != nil {
		return c, fmt.Errorf("crm %s: %w", source, err)
	}
	if found {
		c.LastSuccess = utc(&last)
	}
	return c, nil
}

// succeeded reports whether a row counts as a success for the entity figures: success or
// partial (a partial run ran to its end and wrote what it could).
func succeeded(r syncs.Run) bool {
	return r.Status == syncs.StatusSuccess || r.Status == syncs.StatusPartial
}

// entityFigures turns one entity's summary into its line, and its running rows.
func (d *Dashboard) entityFigures(ctx context.Context, source string, es syncs.EntitySummary, now, stuckBefore time.Time) (EntityFigures, []RunningRun, error) {
	e := EntityFigures{SyncType: word(es.SyncType), LastRun: runRef(es.Latest), LastSuccess: utc(es.LastSuccess),
		Runs7d: es.Runs, Failed7d: es.Failed, ConsecutiveFailures: es.ConsecutiveFailures, DurationRuns: es.Durations}
	week := outcomes{success: es.Success, failed: es.Failed, partial: es.Partial}
	e.SuccessRate7d = week.successRate()
	if es.LastFinished != nil {
		e.RecordsLast = es.LastFinished.RecordsProcessed
	}
	if es.Durations > 0 {
		e.DurationP50, e.DurationP95 = ptr(secondsOf(es.DurationP50)), ptr(secondsOf(es.DurationP95))
	}
	if es.Records > 0 {
		e.RecordsMedian30d = meanOfTwo(es.RecordsMiddle[0], es.RecordsMiddle[1])
	}
	e.Marks.FailureStreak = e.ConsecutiveFailures >= streakAfter

	empty, med, err := d.entityEmptyRuns(ctx, source, es.SyncType, es.Successes)
	if err != nil {
		return e, nil, err
	}
	e.Marks.EmptyRuns, e.Marks.EmptyRunsMedian = empty, med

	var running []RunningRun
	for _, run := range es.Running {
		rr := RunningRun{ID: run.ID, SyncType: word(es.SyncType), StartTime: run.Start.UTC(),
			ElapsedSeconds: secondsOf(now.Sub(run.Start)), DurationP95: e.DurationP95, DurationRuns: e.DurationRuns,
			Stuck: run.Start.Before(stuckBefore)}
		rr.Slow = slow(run, now, stuckBefore, es.Durations, es.DurationP95)
		e.Marks.Slow = e.Marks.Slow || rr.Slow
		running = append(running, rr)
	}
	return e, running, nil
}

// slow reports whether a running row has run longer than its entity's 95th percentile
// (p95), judged from at least slowMinRuns durations, and is not yet stuck.
func slow(run syncs.Run, now, stuckBefore time.Time, durations int64, p95 time.Duration) bool {
	if run.Status != syncs.StatusRunning || run.Start.Before(stuckBefore) || durations < slowMinRuns {
		return false
	}
	return now.Sub(run.Start).Microseconds() > p95.Microseconds()
}

// entityEmptyRuns applies the empty-runs rule of the alerts (entities.go) to one entity of a
// CRM's page, given its latest success or partial rows, newest first; it returns the
// mark and the median it compares with.
func (d *Dashboard) entityEmptyRuns(ctx context.Context, source, name string, successes []syncs.Run) (bool, *float64, error) {
	e := syncs.Entity{CRMSource: source, SyncType: name, RecentSuccesses: successes}
	median, empty, err := d.emptyRuns.check(ctx, d.cfg.Store, e, d.cfg.EmptyRunsAfter)
	if err != nil || !empty {
		return false, nil, err
	}
	return true, &median, nil
}

// entitySchedule is the earliest next run of the scheduled schedules whose model_name is
// the entity, and whether one of them is overdue.
func entitySchedule(schedules []ScheduleInfo, name string) (*time.Time, bool) {
	var next *time.Time
	overdue := false
	for _, s := range schedules {
		if s.ModelName != name {
			continue
		}
		overdue = overdue || s.Overdue
		if s.NextRun != nil && (next == nil || s.NextRun.Before(*next)) {
			next = s.NextRun
		}
	}
	return next, overdue
}

func runRef(run syncs.Run) RunRef {
	ref := RunRef{ID: run.ID, Status: word(run.Status), StartTime: run.Start.UTC(), EndTime: utc(run.End)}
	ref.DurationSeconds, _ = durationFigures(run)
	return ref
}

// nearestRank is the p-th percentile of sorted values by the nearest-rank method (see
// syncs.NearestRank); sorted must not be empty.
func nearestRank(sorted []int64, p int) int64 {
	return sorted[syncs.NearestRank(len(sorted), p)]
}

// percentileSeconds is nearestRank of microseconds, in seconds; nil without values.
func percentileSeconds(sortedMicros []int64, p int) *float64 {
	if len(sortedMicros) == 0 {
		return nil
	}
	s := secondsOf(time.Duration(nearestRank(sortedMicros, p)) * time.Microsecond)
	return &s
}

// meanOfTwo is (a+b)/2 without overflow: half of each, plus the halves' remainders.
func meanOfTwo(a, b int64) *float64 {
	m := float64(a/2+b/2) + float64(a%2+b%2)/2
	return &m
}

// crmCharts computes a CRM's charts over the days of bounds.
func crmCharts(groups []syncs.EntityDay, bounds []time.Time) CRMCharts {
	days := len(bounds) - 1
	c := CRMCharts{Days: days, Labels: dayLabels(bounds), Records: make([]int64, days),
		SuccessRate: make([]*float64, days), DurationByEntity: []Series{}}
	rates := make([]outcomes, days)
	type entity struct {
		name   string
		total  int64
		micros []int64
		timed  []bool
	}
	byName := map[string]*entity{}
	for _, g := range groups {
		if g.Day < 0 || g.Day >= days {
			continue
		}
		rates[g.Day].add(g.Status, g.Count)
		if g.Status != syncs.StatusRunning {
			c.Records[g.Day] += g.RecordsProcessed
		}
		if (g.Status == syncs.StatusSuccess || g.Status == syncs.StatusPartial) && g.DurationCount > 0 {
			e := byName[g.SyncType]
			if e == nil {
				e = &entity{name: g.SyncType, micros: make([]int64, days), timed: make([]bool, days)}
				byName[g.SyncType] = e
			}
			e.micros[g.Day] += g.DurationMicros
			e.timed[g.Day] = true
			e.total += g.DurationMicros
		}
	}
	for i := range rates {
		c.SuccessRate[i] = rates[i].successRate()
	}
	entities := make([]*entity, 0, len(byName))
	for _, e := range byName {
		entities = append(entities, e)
	}
	slices.SortFunc(entities, func(a, b *entity) int { return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.name, b.name)) })
	series := func(name string, parts []*entity) Series {
		s := Series{Name: word(name), Data: make([]*float64, days)}
		for i := range days {
			var sum int64
			timed := false
			for _, e := range parts {
				sum += e.micros[i]
				timed = timed || e.timed[i]
			}
			if timed {
				s.Data[i] = roundedRatio(sum, 1_000_000, 1, 1)
			}
		}
		return s
	}
	for i, e := range entities {
		if i == topEntities && len(entities) > topEntities+1 {
			c.DurationByEntity = append(c.DurationByEntity, series(otherEntities, entities[i:]))
			break
		}
		c.DurationByEntity = append(c.DurationByEntity, series(e.name, []*entity{e}))
	}
	return c
}
