// Package dashboard turns a Store's answers and the health checks into the figures of
// docs/api.md, and keeps them: computed once per refresh interval in the
// background, whatever the number of viewers, and kept through an outage as the last good
// figures, marked stale. Its methods know nothing about HTTP.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Config is what the dashboard needs. Zero values take the defaults.
type Config struct {
	Store syncs.Store
	// Health is the monitor of PostgreSQL, Redis and the Celery workers; nil reports
	// every component not_configured.
	Health HealthSource
	// Sources is the configured list of known CRM sources, in display order (default:
	// syncs.DefaultSources()).
	Sources []string
	// Location is the display time zone that cuts the charts' days (default UTC).
	Location *time.Location
	// StuckAfter is how long a running row may run before it is stuck (default 60 min).
	StuckAfter time.Duration
	// RefreshInterval is how often the figures are recomputed (default 30 s).
	RefreshInterval time.Duration
	// OverdueGrace is how late a scheduled run may start before it is overdue (default
	// 10 min).
	OverdueGrace time.Duration
	// ComputeTimeout bounds one computation of the figures (default 60 s).
	ComputeTimeout time.Duration
	// DefaultDays is the number of days the page shows, kept computed (default 7).
	DefaultDays int
	// SearchBudget bounds the time one history page or export batch spends searching
	// (default 5 s); past it, the page answers what it found and says how far it got.
	// Keep it below the store's statement timeout.
	SearchBudget time.Duration
	// EmptyRunsAfter is how many successes in a row with 0 records mark an entity whose
	// runs usually process records (default 3; see EntityStatus.EmptyRuns).
	EmptyRunsAfter int
	// Clock is the time of the figures and of the refresh loop (default the real clock).
	Clock  clock.Clock
	Logger *slog.Logger
}

// The bounds of the query parameters.
const (
	MaxDays        = 90
	MaxRecentLimit = 200
	// DefaultRecentLimit is the contract's default for api/recent-syncs/.
	DefaultRecentLimit = 20
)

// Dashboard computes and keeps the figures, and tells its subscribers (Subscribe) each
// time it has new ones or a new health reading.
type Dashboard struct {
	cfg     Config
	cache   *cache
	answers encodedAnswers
	// snapshots is the change feed; refreshes counts the default figures' computations.
	snapshots feed.Feed[Snapshot]
	publishMu sync.Mutex // held while a snapshot is assembled and published
	refreshes refreshCounter

	// exports admits maxExports CSV exports at a time.
	exports chan struct{}

	mu          sync.Mutex
	lastSuccess map[string]rememberedSuccess
	running     bool
	emptyRuns   emptyRunsMemo
}

// New returns a dashboard over cfg.Store. Call Run to keep its figures fresh.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Store == nil {
		return nil, errors.New("dashboard: no store")
	}
	if cfg.Sources == nil {
		cfg.Sources = syncs.DefaultSources()
	}
	var sources []string
	for _, s := range cfg.Sources {
		if !slices.Contains(sources, s) {
			sources = append(sources, s)
		}
	}
	cfg.Sources = sources
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = 60 * time.Minute
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 30 * time.Second
	}
	if cfg.OverdueGrace <= 0 {
		cfg.OverdueGrace = 10 * time.Minute
	}
	if cfg.ComputeTimeout <= 0 {
		cfg.ComputeTimeout = 60 * time.Second
	}
	if cfg.DefaultDays <= 0 || cfg.DefaultDays > MaxDays {
		cfg.DefaultDays = 7
	}
	if cfg.SearchBudget <= 0 {
		cfg.SearchBudget = 5 * time.Second
	}
	if cfg.EmptyRunsAfter <= 0 {
		cfg.EmptyRunsAfter = 3
	}
	if cfg.EmptyRunsAfter > syncs.MaxRecentSuccesses {
		return nil, fmt.Errorf("dashboard: empty runs after %d successes: at most %d", cfg.EmptyRunsAfter, syncs.MaxRecentSuccesses)
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Dashboard{cfg: cfg, lastSuccess: make(map[string]rememberedSuccess), exports: make(chan struct{}, maxExports)}
	d.refreshes.init()
	d.cache = &cache{
		interval:   cfg.RefreshInterval,
		keepWarm:   max(5*time.Minute, 4*cfg.RefreshInterval),
		maxEntries: 16,
		keep:       figuresKey(cfg.DefaultDays),
		others:     make(chan struct{}, 1),
		timeout:    cfg.ComputeTimeout,
		clock:      cfg.Clock,
		logger:     cfg.Logger,
		entries:    make(map[string]*entry),
		computed:   d.computed,
	}
	d.answers.entries = make(map[string]encodedAnswer)
	return d, nil
}

// RefreshInterval is how often the figures are recomputed.
func (d *Dashboard) RefreshInterval() time.Duration { return d.cfg.RefreshInterval }

// DefaultDays is the number of days the page shows.
func (d *Dashboard) DefaultDays() int { return d.cfg.DefaultDays }

func (d *Dashboard) now() time.Time { return d.cfg.Clock.Now() }

// Run computes the figures the page shows (and the per-entity figures of the snapshot)
// at once and then recomputes every figure in use once per refresh interval, publishing
// a snapshot to the subscribers after each computation of the default or per-entity
// figures and each new health reading, until ctx ends. It
// returns when every computation it or a viewer started has ended; after that, figures
// never computed are unavailable and the subscribers' channels are closed. Call it once.
func (d *Dashboard) Run(ctx context.Context) {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		panic("dashboard: Run called twice")
	}
	d.running = true
	d.mu.Unlock()
	defer d.snapshots.Close()
	defer d.cache.close()

	var healthUpdates <-chan health.Report
	if d.cfg.Health != nil {
		sub := d.cfg.Health.Subscribe()
		defer sub.Close()
		healthUpdates = sub.C()
	}
	d.cache.setLife(ctx)
	// Every figure the page asks for on its own is kept computed, so that an outage
	// before anyone asked still serves it, as stale, like the others.
	d.cache.pin(figuresKey(d.cfg.DefaultDays), true, d.figuresComputer(d.cfg.DefaultDays))
	d.cache.pin(recentKey(pageRecentQuery), false, d.recentComputer(pageRecentQuery))
	d.cache.pin(entitiesKey, true, d.entityFiguresComputer)
	ticker := d.cfg.Clock.NewTicker(d.cfg.RefreshInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			d.cache.refresh(ctx)
		case _, ok := <-healthUpdates:
			if !ok {
				healthUpdates = nil // the monitor stopped; the figures go on
				continue
			}
			d.publish()
		}
	}
}

// pageRecentQuery is the recent-syncs question the page asks.
var pageRecentQuery = RecentQuery{Limit: DefaultRecentLimit}

// Computations is how many computations of figures have started, for tests and logs.
func (d *Dashboard) Computations() int64 {
	d.cache.mu.Lock()
	defer d.cache.mu.Unlock()
	return d.cache.computations
}

// WaitingForTurn is how many heavy computations (and export batches) wait for their turn
// now, for tests and logs.
func (d *Dashboard) WaitingForTurn() int64 { return d.cache.waiting.Load() }

func figuresKey(days int) string { return "figures/" + strconv.Itoa(days) }

func (d *Dashboard) figuresComputer(days int) func(context.Context) (any, time.Time, error) {
	return func(ctx context.Context) (any, time.Time, error) {
		f, err := d.computeFigures(ctx, days)
		if err != nil {
			return nil, time.Time{}, err
		}
		return f, f.at, nil
	}
}

func (d *Dashboard) figures(ctx context.Context, days int) (*figures, Meta, error) {
	v, meta, err := d.cache.get(ctx, figuresKey(days), true, d.figuresComputer(days))
	if err != nil {
		return nil, meta, err
	}
	return v.(*figures), meta, nil
}

// Stats answers GET api/stats/.
func (d *Dashboard) Stats(ctx context.Context) (StatsResponse, error) {
	f, meta, err := d.figures(ctx, d.cfg.DefaultDays)
	if err != nil {
		return StatsResponse{}, err
	}
	return StatsResponse{Overview: f.overview, Meta: meta}, nil
}

// CRMStatus answers GET api/crm-status/.
func (d *Dashboard) CRMStatus(ctx context.Context) (CRMStatusResponse, error) {
	f, meta, err := d.figures(ctx, d.cfg.DefaultDays)
	if err != nil {
		return CRMStatusResponse{}, err
	}
	return CRMStatusResponse{CRMs: f.crms, Meta: meta}, nil
}

// Charts answers GET api/performance-charts/ for the last days calendar days.
func (d *Dashboard) Charts(ctx context.Context, days int) (ChartsResponse, error) {
	f, meta, err := d.figures(ctx, days)
	if err != nil {
		return ChartsResponse{}, err
	}
	c := f.charts
	c.Meta = meta
	return c, nil
}

// Errors answers GET api/errors/ for the last days calendar days.
func (d *Dashboard) Errors(ctx context.Context, days int) (ErrorsResponse, error) {
	f, meta, err := d.figures(ctx, days)
	if err != nil {
		return ErrorsResponse{}, err
	}
	e := f.errors
	e.Meta = meta
	return e, nil
}

// syncRun is a row as the lists show it: texts cleaned, message masked, failures
// classified, a running row older than stuckBefore marked stuck.
func syncRun(run syncs.Run, stuckBefore time.Time) SyncRun {
	s := SyncRun{
		ID: run.ID, CRMSource: word(run.CRMSource), Name: displayName(run.CRMSource),
		SyncType: word(run.SyncType), Status: word(run.Status), StartTime: run.Start.UTC(), EndTime: utc(run.End),
		RecordsProcessed: run.RecordsProcessed, RecordsCreated: run.RecordsCreated,
		RecordsUpdated: run.RecordsUpdated, RecordsFailed: run.RecordsFailed,
		ErrorMessage: showMessage(run.ErrorMessage),
		Stuck:        run.Status == syncs.StatusRunning && run.Start.Before(stuckBefore),
	}
	s.DurationSeconds, s.RecordsPerSecond = durationFigures(run)
	if run.Status == syncs.StatusFailed {
		t := string(errclass.Classify(run.ErrorMessage))
		s.ErrorType = &t
	}
	return s
}

// RecentQuery is the parameters of api/recent-syncs/, already validated.
type RecentQuery struct {
	Limit     int
	CRMSource string
	// Status is canonical.
	Status string
}

func recentKey(q RecentQuery) string {
	return fmt.Sprintf("recent/%d/%q/%q", q.Limit, q.CRMSource, q.Status)
}

func (d *Dashboard) recentComputer(q RecentQuery) func(context.Context) (any, time.Time, error) {
	return func(ctx context.Context) (any, time.Time, error) {
		runs, at, err := d.recentRuns(ctx, q)
		return runs, at, err
	}
}

// RecentSyncs answers GET api/recent-syncs/.
func (d *Dashboard) RecentSyncs(ctx context.Context, q RecentQuery) (RecentSyncsResponse, error) {
	v, meta, err := d.cache.get(ctx, recentKey(q), false, d.recentComputer(q))
	if err != nil {
		return RecentSyncsResponse{}, err
	}
	runs := v.([]SyncRun)
	return RecentSyncsResponse{Syncs: runs, Total: len(runs), Meta: meta}, nil
}

func (d *Dashboard) recentRuns(ctx context.Context, q RecentQuery) ([]SyncRun, time.Time, error) {
	now := d.now().UTC()
	sq := syncs.RecentQuery{Limit: q.Limit, CRMSource: q.CRMSource, Status: q.Status}
	if q.CRMSource != "" {
		// Walking the start_time index back from today until a rare CRM's rows turn up
		// would read years of other CRMs' rows; the default figures know each CRM's
		// latest start. So read two ranges: rows started since an hour before those
		// figures (clocks differ, runs are written late), and rows up to the CRM's latest
		// start as the figures saw it. Only a row written since, with a start more than
		// an hour before, is missed until the next refresh.
		f, _, err := d.figures(ctx, d.cfg.DefaultDays)
		if err != nil {
			return nil, now, err
		}
		recent := f.at.Add(-time.Hour)
		latest, known := f.sources[q.CRMSource]
		switch {
		case !known:
			sq.StartedAfter = recent
		case latest.Before(recent):
			sq.StartedAfter, sq.StartedAtOrBefore = recent, latest
		}
	}
	runs, err := d.cfg.Store.RecentRuns(ctx, sq)
	if err != nil {
		return nil, now, fmt.Errorf("recent syncs: %w", err)
	}
	stuckBefore := now.Add(-d.cfg.StuckAfter)
	out := make([]SyncRun, 0, len(runs))
	for _, run := range runs {
		out = append(out, syncRun(run, stuckBefore))
	}
	return out, now, nil
}
