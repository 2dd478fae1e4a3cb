package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/metrics"
	"github.com/syncwatch/syncwatch/internal/sqlite"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/web"
)

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
	store := storetest.NewCountingStore(db)
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
	perRefresh := store.Calls()
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
	if got := store.Calls(); got != perRefresh {
		t.Errorf("%d scrapes asked the store %d questions, want none beyond the refresh's %d", scrapers*scrapes, got-perRefresh, perRefresh)
	}
}
