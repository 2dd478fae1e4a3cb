package dashboard

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// entityWindow is how far back an entity counts: one with a row started in the last 30
// days is shown, and its figures are over those rows.
const entityWindow = 30 * 24 * time.Hour

// maxStuckRuns bounds the stuck runs a snapshot lists (a broker outage can leave
// hundreds running until the nightly cleanup).
const maxStuckRuns = 200

// maxMedianRecords bounds the rows the empty-runs rule reads for its median: 30 days of
// an entity synced every minute.
const maxMedianRecords = 50_000

// entitiesKey is the cache's key of the per-entity figures.
const entitiesKey = "entities"

// entityFigures are the per-entity figures and the stuck runs. Only the snapshot (alerts,
// metrics) reads them, and they cost more than all the page's figures together (every
// row of 30 days, placed in its entity), so they are computed on their own, once per
// refresh interval in the background: no viewer's request waits for them.
type entityFigures struct {
	at        time.Time
	entities  []EntityStatus
	stuckRuns []SyncRun
}

func (d *Dashboard) entityFiguresComputer(ctx context.Context) (any, time.Time, error) {
	now := d.now().UTC()
	stuckBefore := now.Add(-d.cfg.StuckAfter)
	var entities []syncs.Entity
	var stuck []syncs.Run
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		entities, err = d.cfg.Store.Entities(gctx, syncs.EntityQuery{Since: now.Add(-entityWindow), Successes: d.cfg.EmptyRunsAfter})
		return
	})
	g.Go(func() (err error) { stuck, err = d.cfg.Store.StuckRuns(gctx, stuckBefore, maxStuckRuns); return })
	if err := g.Wait(); err != nil {
		return nil, time.Time{}, err
	}
	f := &entityFigures{at: now, stuckRuns: make([]SyncRun, 0, len(stuck))}
	var err error
	if f.entities, err = d.entityStatuses(ctx, entities); err != nil {
		return nil, time.Time{}, err
	}
	for _, run := range stuck {
		f.stuckRuns = append(f.stuckRuns, syncRun(run, stuckBefore))
	}
	return f, f.at, nil
}

// entityStatuses turns the store's entities into the snapshot's: display names, texts
// cleaned, durations exact, the latest failure classified and masked, and the
// empty-runs mark.
func (d *Dashboard) entityStatuses(ctx context.Context, entities []syncs.Entity) ([]EntityStatus, error) {
	out := make([]EntityStatus, 0, len(entities))
	for _, e := range entities {
		s := EntityStatus{
			CRMSource: word(e.CRMSource), Name: displayName(e.CRMSource), SyncType: word(e.SyncType),
			LastRun: entityRun(e.Latest), LastSuccess: utc(e.LastSuccess), ConsecutiveFailures: e.ConsecutiveFailures,
			FirstStart: e.FirstStart.UTC(),
		}
		if f := e.LastFinished; f != nil {
			run := entityRun(*f)
			s.LastFinished = &run
			s.LastRecordsProcessed = f.RecordsProcessed
			if f.Status == syncs.StatusFailed {
				at, _ := f.FinishedAt()
				s.LastFailure = &ErrorEntry{
					ID: f.ID, CRMSource: s.CRMSource, Name: s.Name, SyncType: s.SyncType, FailedAt: at.UTC(),
					ErrorType: string(errclass.Classify(f.ErrorMessage)), ErrorMessage: showMessage(f.ErrorMessage),
				}
			}
		}
		if e.LastTimed != nil {
			s.LastDurationSeconds, _ = durationFigures(*e.LastTimed)
		}
		median, empty, err := d.emptyRuns.check(ctx, d.cfg.Store, e, d.cfg.EmptyRunsAfter)
		if err != nil {
			return nil, fmt.Errorf("entities: %w", err)
		}
		if empty {
			s.EmptyRuns, s.EmptyRunsMedian = true, &median
		}
		out = append(out, s)
	}
	return out, nil
}

func entityRun(r syncs.Run) EntityRun {
	return EntityRun{ID: r.ID, Status: word(r.Status), StartTime: r.Start.UTC(), EndTime: utc(r.End)}
}

// emptyRunsMemo remembers, per entity, the median the empty-runs rule computed for the
// run of empty successes it saw: the rows before a given success do not change (but for
// a rare backfill), so an entity that stays empty costs one query, not one per refresh.
type emptyRunsMemo struct {
	mu      sync.Mutex
	medians map[emptyRunsKey]float64
}

type emptyRunsKey struct {
	source, syncType string
	// firstEmpty is the id of the oldest of the last K successes.
	firstEmpty int64
}

// check applies the empty-runs rule to e: its last k success and partial rows processed
// 0 records each (known, not NULL), while the median records_processed of its success
// and partial rows in the 30 days before the first of them is above 0.
func (m *emptyRunsMemo) check(ctx context.Context, store syncs.Store, e syncs.Entity, k int) (float64, bool, error) {
	if k <= 0 || len(e.RecentSuccesses) < k {
		return 0, false, nil
	}
	recent := e.RecentSuccesses[:k]
	for _, r := range recent {
		if r.RecordsProcessed == nil || *r.RecordsProcessed != 0 {
			return 0, false, nil
		}
	}
	first := recent[k-1]
	key := emptyRunsKey{e.CRMSource, e.SyncType, first.ID}
	m.mu.Lock()
	median, known := m.medians[key]
	m.mu.Unlock()
	if !known {
		records, err := store.SuccessRecords(ctx, e.CRMSource, e.SyncType, first.Start.Add(-entityWindow), first.Start, maxMedianRecords)
		if err != nil {
			return 0, false, err
		}
		median = medianOf(records)
		m.mu.Lock()
		if m.medians == nil || len(m.medians) > 10_000 {
			m.medians = make(map[emptyRunsKey]float64) // bounded: start again
		}
		m.medians[key] = median
		m.mu.Unlock()
	}
	return median, median > 0, nil
}

// medianOf is the median of values, the mean of the two middle ones for an even count;
// 0 without values.
func medianOf(values []int64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	mid := len(v) / 2
	if len(v)%2 == 1 {
		return float64(v[mid])
	}
	// Halve each before adding: no overflow, and exact for the halves of integers.
	return float64(v[mid-1])/2 + float64(v[mid])/2
}
