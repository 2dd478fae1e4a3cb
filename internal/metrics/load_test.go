package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/metrics"
	"github.com/syncwatch/syncwatch/internal/sqlite"
	"github.com/syncwatch/syncwatch/internal/syncs"
	"github.com/syncwatch/syncwatch/internal/web"
)

// countingStore counts the questions a real store is asked. It wraps the store in a
// field, not by embedding, so that a Store method it does not wrap is a compile error,
// and TestCountingStoreCountsEveryMethod checks that each wrapper counts.
type countingStore struct {
	store syncs.Store
	calls atomic.Int64
}

var _ syncs.Store = (*countingStore)(nil)

func (c *countingStore) RunningByCRM(ctx context.Context, t time.Time) ([]syncs.RunningCount, error) {
	c.calls.Add(1)
	return c.store.RunningByCRM(ctx, t)
}
func (c *countingStore) LatestByCRM(ctx context.Context) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.store.LatestByCRM(ctx)
}
func (c *countingStore) LastSuccess(ctx context.Context, s string) (time.Time, bool, error) {
	c.calls.Add(1)
	return c.store.LastSuccess(ctx, s)
}
func (c *countingStore) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	c.calls.Add(1)
	return c.store.FinishedSince(ctx, w)
}
func (c *countingStore) StartedByCRM(ctx context.Context, from, to time.Time) ([]syncs.CRMCount, error) {
	c.calls.Add(1)
	return c.store.StartedByCRM(ctx, from, to)
}
func (c *countingStore) RecentFailures(ctx context.Context, limit int) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.store.RecentFailures(ctx, limit)
}
func (c *countingStore) RecentRuns(ctx context.Context, q syncs.RecentQuery) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.store.RecentRuns(ctx, q)
}
func (c *countingStore) Schedules(ctx context.Context) ([]syncs.Schedule, error) {
	c.calls.Add(1)
	return c.store.Schedules(ctx)
}
func (c *countingStore) StartedNear(ctx context.Context, p []syncs.StartProbe) ([]bool, error) {
	c.calls.Add(1)
	return c.store.StartedNear(ctx, p)
}
func (c *countingStore) Health(ctx context.Context) (syncs.DatabaseHealth, error) {
	c.calls.Add(1)
	return c.store.Health(ctx)
}
func (c *countingStore) Entities(ctx context.Context, q syncs.EntityQuery) ([]syncs.Entity, error) {
	c.calls.Add(1)
	return c.store.Entities(ctx, q)
}
func (c *countingStore) StuckRuns(ctx context.Context, before time.Time, limit int) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.store.StuckRuns(ctx, before, limit)
}
func (c *countingStore) SuccessRecords(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]int64, error) {
	c.calls.Add(1)
	return c.store.SuccessRecords(ctx, source, syncType, from, to, limit)
}
func (c *countingStore) Close() error { return c.store.Close() }

// TestCountingStoreCountsEveryMethod calls every question of syncs.Store through the
// counting store, found by reflection, so that a wrapper that forgets to count fails.
func TestCountingStoreCountsEveryMethod(t *testing.T) {
	t.Parallel()
	c := &countingStore{store: openSQLite(t)}
	storeType := reflect.TypeFor[syncs.Store]()
	v := reflect.ValueOf(c)
	for i := range storeType.NumMethod() {
		m := storeType.Method(i)
		if m.Name == "Close" {
			continue
		}
		method := v.MethodByName(m.Name)
		args := make([]reflect.Value, method.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(method.Type().In(j))
		}
		args[0] = reflect.ValueOf(context.Background())
		before := c.calls.Load()
		method.Call(args)
		if c.calls.Load() != before+1 {
			t.Errorf("countingStore.%s does not count its call", m.Name)
		}
	}
}

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "warehouse.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestScrapesNeverReachTheWarehouse: a real dashboard on a real store computes its
// figures once; then a hundred scrapers scrape twice each, at once, through the web
// server, while the dashboard keeps serving. The store is asked nothing more.
func TestScrapesNeverReachTheWarehouse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openSQLite(t)
	end := T0.Add(-time.Minute)
	if _, err := db.InsertRuns(ctx, []sqlite.Row{
		{CRMSource: "hubspot", SyncType: "contacts", Status: "success", Start: T0.Add(-2 * time.Minute), End: &end},
		{CRMSource: "genius", SyncType: "appointments", Status: "running", Start: T0.Add(-2 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{store: db}
	clk := clock.NewFake(T0)
	dash, err := dashboard.New(dashboard.Config{Store: store, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	exporter, err := metrics.New(metrics.Config{Snapshots: dash, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.NewServer(web.Config{Figures: dash, Metrics: exporter.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// The dashboard's first refresh (the figures, the page's recent syncs, the per-entity
	// figures): the refresh's own questions. Its snapshot is what the exporter serves.
	// The fake clock never ticks, so no other refresh comes.
	sub := dash.Subscribe()
	defer sub.Close()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		dash.Run(runCtx)
	}()
	defer func() { stop(); <-ran }()
	var snap dashboard.Snapshot
	for !snap.HasFigures {
		select {
		case snap = <-sub.C():
		case <-ctx.Done():
			t.Fatal("no snapshot with figures")
		}
	}
	exporter.Update(snap)
	// The page's recent syncs are computed after the figures; their query is part of the
	// refresh too. Asking for them waits until they are.
	if _, err := dash.RecentSyncs(ctx, dashboard.RecentQuery{Limit: dashboard.DefaultRecentLimit}); err != nil {
		t.Fatal(err)
	}
	perRefresh := store.calls.Load()
	if perRefresh == 0 {
		t.Fatal("the refresh asked the store nothing")
	}

	const scrapers, scrapes = 100, 2
	var wg sync.WaitGroup
	failures := make(chan string, scrapers*scrapes)
	for range scrapers {
		wg.Go(func() {
			for range scrapes {
				resp, err := http.Get(ts.URL + "/metrics")
				if err != nil {
					failures <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), `syncwatch_sync_stuck{crm="genius"} 1`) {
					failures <- resp.Status + ": " + string(body[:min(len(body), 200)])
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Fatalf("a scrape did not serve the figures: %s", f)
	}
	if got := store.calls.Load(); got != perRefresh {
		t.Errorf("%d scrapes asked the store %d questions, want none beyond the refresh's %d", scrapers*scrapes, got-perRefresh, perRefresh)
	}
}
