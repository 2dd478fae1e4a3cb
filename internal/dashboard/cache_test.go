package dashboard_test

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// TestCountingStoreCountsEveryMethod calls every question of syncs.Store through the
// counting store, found by reflection, so that a wrapper that forgets to count fails
// here (a method not wrapped at all does not compile).
func TestCountingStoreCountsEveryMethod(t *testing.T) {
	t.Parallel()
	c := storetest.NewCountingStore(nullStore{})
	storeType := reflect.TypeFor[syncs.Store]()
	v := reflect.ValueOf(c)
	for i := range storeType.NumMethod() {
		m := storeType.Method(i)
		if m.Name == "Close" { // not a question
			continue
		}
		method := v.MethodByName(m.Name)
		args := make([]reflect.Value, method.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(method.Type().In(j))
		}
		args[0] = reflect.ValueOf(context.Background())
		before := c.Calls()
		method.Call(args)
		if c.Calls() != before+1 {
			t.Errorf("CountingStore.%s does not count its call", m.Name)
		}
	}
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
		db.Insert(t, storetest.Row{CRMSource: []string{"hubspot", "genius", "acme"}[i%3], Start: end.Add(-time.Minute), End: &end, RecordsProcessed: 10})
	}
	open := func() (*dashboard.Dashboard, *storetest.CountingStore) {
		counting := storetest.NewCountingStore(openStore(t, db))
		d, err := dashboard.New(dashboard.Config{Store: counting, RefreshInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return d, counting
	}

	// What one viewer costs: one computation of each figure.
	one, oneCount := open()
	viewers(t, one, 1)
	perRefresh := oneCount.Calls()
	// Each question is asked once: an extra query per refresh would be paid by the
	// warehouse every interval, viewers or not. (No LastSuccess: every CRM with rows
	// succeeded in the window; no StartedNear: no schedule, no row in the future.) The
	// per-entity questions are the snapshot's, asked by Run in the background: a
	// viewer's page never waits for them.
	want := map[string]int64{
		"RunningByCRM": 1, "LatestByCRM": 1, "FinishedSince": 1, "StartedByCRM": 1,
		"Schedules": 1, "RecentFailures": 1, "RecentRuns": 1,
	}
	if diff := cmp.Diff(want, oneCount.Counts()); diff != "" {
		t.Errorf("questions asked for one viewer's page (-want +got):\n%s", diff)
	}

	// 200 viewers arriving together cost the same.
	many, manyCount := open()
	viewers(t, many, 200)
	if got := manyCount.Calls(); got != perRefresh {
		t.Errorf("200 concurrent viewers: got %d queries, want %d, as for one viewer", got, perRefresh)
	}
	// And again, from memory: nothing.
	viewers(t, many, 200)
	if got := manyCount.Calls(); got != perRefresh {
		t.Errorf("200 more viewers: got %d queries in all, want still %d", got, perRefresh)
	}
	if got := many.Computations(); got != 2 {
		t.Errorf("got %d computations, want 2 (the figures, the recent syncs)", got)
	}

	// A viewer of other days costs the questions of those days' charts and errors only.
	before := manyCount.Counts()
	if _, err := many.Charts(context.Background(), 30); err != nil {
		t.Fatal(err)
	}
	after := manyCount.Counts()
	for _, method := range []string{"Entities", "StuckRuns"} {
		if after[method] != before[method] {
			t.Errorf("a viewer of 30 days asked %s (%d, then %d)", method, before[method], after[method])
		}
	}
	if after["FinishedSince"] != before["FinishedSince"]+1 {
		t.Errorf("a viewer of 30 days: FinishedSince %d, then %d; want one more", before["FinishedSince"], after["FinishedSince"])
	}
}

func TestFiguresAreRecomputedOncePerInterval(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	store := openStore(t, db)
	const interval = 30 * time.Second
	clk := clock.NewFake(time.Now())
	d, err := dashboard.New(dashboard.Config{Store: store, RefreshInterval: interval, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	snapshots := run(t, d)
	first := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.HasFigures })
	// Three pinned keys (the figures, the page's recent syncs, the per-entity figures of
	// the snapshot), each computed once.
	if err := clk.BlockUntil(context.Background(), 1); err != nil { // Run's ticker
		t.Fatal(err)
	}
	// Asking for them waits for their computation in flight, which counts as started.
	if _, err := d.RecentSyncs(context.Background(), dashboard.RecentQuery{Limit: dashboard.DefaultRecentLimit}); err != nil {
		t.Fatal(err)
	}

	// However many viewers come between two ticks, nothing is computed again.
	for range 5 {
		viewers(t, d, 20)
	}
	if got := d.Computations(); got != 3 {
		t.Fatalf("got %d computations before the first tick, want 3", got)
	}

	// A tick recomputes the figures, which see a row written since.
	end := clk.Now().Add(-time.Minute)
	db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: end.Add(-time.Minute), End: &end})
	clk.Advance(interval)
	second := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.Timestamp.After(first.Timestamp) })
	if !second.Timestamp.Equal(clk.Now().UTC()) || second.Overview.CompletedToday != first.Overview.CompletedToday+1 {
		t.Errorf("after a tick: figures of %v with %d completed, want figures of now (%v) with %d",
			second.Timestamp, second.Overview.CompletedToday, clk.Now().UTC(), first.Overview.CompletedToday+1)
	}
	s, err := d.Stats(context.Background())
	if err != nil || !s.Timestamp.Equal(second.Timestamp) {
		t.Errorf("viewers got figures of %v (%v), want the refreshed ones of %v", s.Timestamp, err, second.Timestamp)
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

// TestEmptyRunsAskOncePerRunOfEmptySuccesses checks that an entity whose successes keep
// processing nothing costs one look at the rows before them, not one per refresh.
func TestEmptyRunsAskOncePerRunOfEmptySuccesses(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	now := time.Now()
	for i := range 6 {
		end := now.Add(-time.Duration(i+1) * time.Hour)
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: end.Add(-time.Minute), End: &end}) // 0 records
	}
	counting := storetest.NewCountingStore(openStore(t, db))
	clk := clock.NewFake(now)
	d, err := dashboard.New(dashboard.Config{Store: counting, Clock: clk, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	snapshots := run(t, d)
	first := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.HasFigures })
	if err := clk.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clk.Advance(time.Minute)
		first = next(t, snapshots, func(s dashboard.Snapshot) bool { return s.Timestamp.After(first.Timestamp) })
	}
	if got := counting.Counts()["SuccessRecords"]; got != 1 {
		t.Errorf("four refreshes asked for the records before the empty runs %d times, want once", got)
	}
	if len(first.Entities) != 1 || first.Entities[0].EmptyRuns {
		t.Errorf("entities %+v: want hubspot, not marked (it never processed records)", first.Entities)
	}
}
