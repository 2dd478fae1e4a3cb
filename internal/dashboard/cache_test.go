package dashboard_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// countingStore counts the questions a real store is asked.
type countingStore struct {
	syncs.Store
	calls atomic.Int64
}

func (c *countingStore) RunningByCRM(ctx context.Context, t time.Time) ([]syncs.RunningCount, error) {
	c.calls.Add(1)
	return c.Store.RunningByCRM(ctx, t)
}
func (c *countingStore) LatestByCRM(ctx context.Context) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.Store.LatestByCRM(ctx)
}
func (c *countingStore) LastSuccess(ctx context.Context, s string) (time.Time, bool, error) {
	c.calls.Add(1)
	return c.Store.LastSuccess(ctx, s)
}
func (c *countingStore) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	c.calls.Add(1)
	return c.Store.FinishedSince(ctx, w)
}
func (c *countingStore) RecentFailures(ctx context.Context, limit int) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.Store.RecentFailures(ctx, limit)
}
func (c *countingStore) RecentRuns(ctx context.Context, q syncs.RecentQuery) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.Store.RecentRuns(ctx, q)
}
func (c *countingStore) Schedules(ctx context.Context) ([]syncs.Schedule, error) {
	c.calls.Add(1)
	return c.Store.Schedules(ctx)
}
func (c *countingStore) StartedNear(ctx context.Context, p []syncs.StartProbe) ([]bool, error) {
	c.calls.Add(1)
	return c.Store.StartedNear(ctx, p)
}

// viewers asks every question of the page n times at once, as n viewers opening the page.
func viewers(t *testing.T, d *dashboard.Dashboard, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 5*n)
	for range n {
		wg.Go(func() { _, err := d.Stats(ctx); errs <- err })
		wg.Go(func() { _, err := d.CRMStatus(ctx); errs <- err })
		wg.Go(func() { _, err := d.Charts(ctx, 7); errs <- err })
		wg.Go(func() { _, err := d.Errors(ctx, 7); errs <- err })
		wg.Go(func() {
			_, err := d.RecentSyncs(ctx, dashboard.RecentQuery{Limit: 20})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// openStore opens a read-only store on db, closed when the test ends.
func openStore(t *testing.T, db *pgtest.DB) *postgres.DB {
	t.Helper()
	store, err := postgres.Open(context.Background(), db.URL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func TestViewersNeverMultiplyQueries(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	now := time.Now()
	for i := range 50 {
		end := now.Add(-time.Duration(i) * time.Minute)
		db.Insert(t, storetest.Row{CRMSource: []string{"hubspot", "genius", "acme"}[i%3], Start: end.Add(-time.Minute), End: &end})
	}
	open := func() (*dashboard.Dashboard, *countingStore) {
		counting := &countingStore{Store: openStore(t, db)}
		d, err := dashboard.New(dashboard.Config{Store: counting, RefreshInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return d, counting
	}

	// What one viewer costs: one computation of each figure.
	one, oneCount := open()
	viewers(t, one, 1)
	perRefresh := oneCount.calls.Load()
	if perRefresh == 0 {
		t.Fatal("no query counted")
	}

	// 200 viewers arriving together cost the same.
	many, manyCount := open()
	viewers(t, many, 200)
	if got := manyCount.calls.Load(); got != perRefresh {
		t.Errorf("200 concurrent viewers: got %d queries, want %d, as for one viewer", got, perRefresh)
	}
	// And again, from memory: nothing.
	viewers(t, many, 200)
	if got := manyCount.calls.Load(); got != perRefresh {
		t.Errorf("200 more viewers: got %d queries in all, want still %d", got, perRefresh)
	}
	if got := many.Computations(); got != 2 {
		t.Errorf("got %d computations, want 2 (the figures, the recent syncs)", got)
	}
}

func TestFiguresAreRecomputedOncePerInterval(t *testing.T) {
	t.Parallel()
	store := openStore(t, pgtest.New(t, pgtest.ShapeA))
	const interval = 250 * time.Millisecond
	d, err := dashboard.New(dashboard.Config{Store: store, RefreshInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		viewers(t, d, 20)
	}
	cancel()
	<-done
	elapsed := time.Since(start)
	// Two keys (the figures, the recent syncs), each computed once at first and then at
	// most once per tick, however many viewers asked in between.
	ticks := int64(elapsed/interval) + 1
	if got, most := d.Computations(), 2*(ticks+1); got > most || got < 4 {
		t.Errorf("got %d computations in %v, want between 4 and %d: once per key and interval", got, elapsed, most)
	}
	// And the figures are fresh: computed within the last intervals.
	s, err := d.Stats(context.Background())
	if err != nil || time.Since(s.Timestamp) > 3*interval {
		t.Errorf("got figures from %v (%v ago), %v; want them recomputed by the loop", s.Timestamp, time.Since(s.Timestamp), err)
	}
}

func TestSystemHealthWithoutMonitorIsNotConfigured(t *testing.T) {
	t.Parallel()
	store := openStore(t, pgtest.New(t, pgtest.ShapeA))
	d, err := dashboard.New(dashboard.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	h := d.SystemHealth()
	for name, got := range map[string]health.Status{"database": h.Database.Status, "celery": h.Celery.Status, "redis": h.Redis.Status} {
		if got != health.StatusNotConfigured {
			t.Errorf("%s: got %q, want not_configured", name, got)
		}
	}
}

// concurrencyStore records how many FinishedSince calls run at once.
type concurrencyStore struct {
	syncs.Store
	now, most atomic.Int64
}

func (c *concurrencyStore) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for {
		most := c.most.Load()
		if n <= most || c.most.CompareAndSwap(most, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond) // long enough for others to overlap, if they may
	return c.Store.FinishedSince(ctx, w)
}

func TestParametersChosenByViewersComputeOneAtATime(t *testing.T) {
	t.Parallel()
	store := openStore(t, pgtest.New(t, pgtest.ShapeA))
	c := &concurrencyStore{Store: store}
	d, err := dashboard.New(dashboard.Config{Store: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for days := 1; days <= 12; days++ {
		wg.Go(func() {
			if _, err := d.Charts(ctx, days); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most := c.most.Load(); most != 1 {
		t.Errorf("got %d computations at once for twelve different days, want one at a time", most)
	}
}
