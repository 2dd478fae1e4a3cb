package dashboard

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/internal/feed"
)

// Snapshot is what the dashboard knows at one moment: the default figures (as the page
// shows them), the health, and how its refreshes have gone. Subscribers (alerts, metrics)
// receive one each time the figures are recomputed or a health reading arrives, and must
// treat it as read-only: its slices are shared.
type Snapshot struct {
	// HasFigures is false until the first computations of the page's figures and of the
	// per-entity figures (Entities, StuckRuns: computed apart, see entityFigures) have
	// succeeded; the figure fields are then empty.
	HasFigures bool
	// Meta says when the page's figures were computed and whether they are stale (the
	// last refresh of them, or of the per-entity figures, failed, or none succeeded for
	// two intervals).
	Meta
	Overview Overview
	CRMs     []CRMStatus
	// Runs24h counts, per CRM, the rows finished in the last 24 hours by the three
	// statuses of the rates; CRMs without such rows are absent.
	Runs24h []CRMOutcomes
	// Entities are the (crm_source, sync_type) pairs with a row started in the last 30
	// days, by source and entity.
	Entities []EntityStatus
	// StuckRuns are the running rows older than the stuck threshold, oldest first (at
	// most maxStuckRuns).
	StuckRuns []SyncRun
	// RefreshError is why the last refresh of the page's figures (else of the
	// per-entity figures) failed; nil when both succeeded.
	RefreshError error
	// Health is the latest health reading, as api/system-health/ answers it.
	Health SystemHealthResponse
	// Refreshes counts the computations of the figures, for syncwatch's own metrics.
	Refreshes RefreshStats
	// At is when the snapshot was taken, by the dashboard's clock.
	At time.Time
	// RefreshInterval and StuckAfter are the dashboard's settings, for rules that are
	// expressed in them.
	RefreshInterval time.Duration
	StuckAfter      time.Duration
}

// EntityStatus is what the figures know about one entity: one (crm_source, sync_type)
// with a row started in the last 30 days. Every figure is over the rows started in those
// 30 days; "finished" means not running.
type EntityStatus struct {
	CRMSource string
	Name      string
	SyncType  string
	// LastRun is the latest row (greatest start_time, ties by id).
	LastRun EntityRun
	// LastFinished is the latest row that is not running; nil when none.
	LastFinished *EntityRun
	// LastSuccess is the greatest finished_at of its success and partial rows; nil when
	// none.
	LastSuccess *time.Time
	// FirstStart is the least start_time of its rows in the 30 days: since when it has
	// been running in them (sync_stale's clock for a CRM without a success).
	FirstStart time.Time
	// LastDurationSeconds is the duration of the latest finished row whose duration is
	// known; nil when none.
	LastDurationSeconds *float64
	// LastRecordsProcessed is records_processed of the latest finished row; nil when
	// unknown or none.
	LastRecordsProcessed *int64
	// ConsecutiveFailures counts the failed rows after its latest success or partial row
	// (all its failed rows when there is none); other statuses neither count nor break it.
	ConsecutiveFailures int64
	// LastFailure is the latest finished row when it failed, with its error type and
	// masked message; nil otherwise.
	LastFailure *ErrorEntry
	// EmptyRuns marks an entity whose last EmptyRunsAfter success and partial rows all
	// processed 0 records while the median records_processed of its success and partial
	// rows in the 30 days before the first of them is above 0.
	EmptyRuns bool
	// EmptyRunsMedian is that median, when EmptyRuns.
	EmptyRunsMedian *float64
}

// EntityRun is one row of an entity, without its counts.
type EntityRun struct {
	ID        int64
	Status    string
	StartTime time.Time
	EndTime   *time.Time
}

// CRMOutcomes counts one CRM's finished rows by status.
type CRMOutcomes struct {
	CRMSource string
	Success   int64
	Failed    int64
	Partial   int64
}

// Subscribe returns a subscription to the dashboard's snapshots: the latest one at once
// when there is one, then each new one. A subscriber that falls behind gets the newest
// snapshot, never a queue of old ones, and never delays a refresh or a viewer. The
// channel is closed when Run returns; Close the subscription when done with it.
func (d *Dashboard) Subscribe() *feed.Subscription[Snapshot] {
	return d.snapshots.Subscribe()
}

// computed is the cache's hook: a computation of key has ended.
func (d *Dashboard) computed(key string, took time.Duration, err error) {
	switch key {
	case figuresKey(d.cfg.DefaultDays):
		d.refreshes.record(took, err != nil)
		d.publish()
	case entitiesKey:
		d.publish()
	}
}

// publish sends the current snapshot to the subscribers; it never blocks on them. A
// refresh and a health reading may publish at once: the lock keeps a snapshot assembled
// earlier from being published after a newer one (the metrics' counters would go back).
func (d *Dashboard) publish() {
	d.publishMu.Lock()
	defer d.publishMu.Unlock()
	d.snapshots.Publish(d.snapshot())
}

// snapshot assembles the current snapshot from memory.
func (d *Dashboard) snapshot() Snapshot {
	s := Snapshot{
		Health:          d.SystemHealth(),
		Refreshes:       d.refreshes.stats(),
		At:              d.now(),
		RefreshInterval: d.cfg.RefreshInterval,
		StuckAfter:      d.cfg.StuckAfter,
	}
	// The page's figures and the per-entity ones are computed apart (see entityFigures);
	// a snapshot has figures once both exist, and is as stale as the staler of them.
	key := figuresKey(d.cfg.DefaultDays)
	s.RefreshError = cmp.Or(d.cache.lastError(key), d.cache.lastError(entitiesKey))
	v, meta, ok := d.cache.peek(key)
	ev, entitiesMeta, entitiesOK := d.cache.peek(entitiesKey)
	if !ok || !entitiesOK {
		return s
	}
	f, ef := v.(*figures), ev.(*entityFigures)
	s.HasFigures, s.Meta = true, meta
	if entitiesMeta.Stale && !s.Stale {
		s.Stale, s.StaleSince = true, entitiesMeta.StaleSince
	}
	s.Overview, s.CRMs, s.Runs24h = f.overview, f.crms, f.runs24h
	s.Entities, s.StuckRuns = ef.entities, ef.stuckRuns
	return s
}

// RefreshStats counts the computations of the default figures since the start, with a
// histogram of their durations.
type RefreshStats struct {
	Total, Failed uint64
	// DurationSum is the sum of every computation's duration.
	DurationSum time.Duration
	// Buckets count the computations that took at most UpTo, cumulatively, for each of
	// RefreshDurationBounds.
	Buckets []RefreshBucket
}

// RefreshBucket is one bucket of RefreshStats' histogram.
type RefreshBucket struct {
	UpTo  time.Duration
	Count uint64
}

// refreshDurationBounds are the upper bounds of the refresh histogram: a refresh takes
// milliseconds on an indexed table and seconds on shape B without the end_time index.
var refreshDurationBounds = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// refreshCounter accumulates RefreshStats.
type refreshCounter struct {
	mu sync.Mutex
	s  RefreshStats
}

func (r *refreshCounter) init() {
	r.s.Buckets = make([]RefreshBucket, len(refreshDurationBounds))
	for i, b := range refreshDurationBounds {
		r.s.Buckets[i].UpTo = b
	}
}

// record counts one computation of the figures.
func (r *refreshCounter) record(took time.Duration, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.Total++
	if failed {
		r.s.Failed++
	}
	r.s.DurationSum += took
	for i := range r.s.Buckets {
		if took <= r.s.Buckets[i].UpTo {
			r.s.Buckets[i].Count++
		}
	}
}

func (r *refreshCounter) stats() RefreshStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	s.Buckets = slices.Clone(r.s.Buckets)
	return s
}
