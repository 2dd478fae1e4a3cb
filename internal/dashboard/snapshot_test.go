package dashboard_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// run runs d until the test ends, and returns a subscription to its snapshots.
func run(t *testing.T, d *dashboard.Dashboard) <-chan dashboard.Snapshot {
	t.Helper()
	sub := d.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		sub.Close()
	})
	return sub.C()
}

// next waits for the first snapshot that satisfies ok.
func next(t *testing.T, snapshots <-chan dashboard.Snapshot, ok func(dashboard.Snapshot) bool) dashboard.Snapshot {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second) // a bound on a hang, not a wait for time to pass
	defer timeout.Stop()
	for {
		select {
		case s, open := <-snapshots:
			if !open {
				t.Fatal("the snapshots ended")
			}
			if ok(s) {
				return s
			}
		case <-timeout.C:
			t.Fatal("no such snapshot came")
		}
	}
}

func TestSubscribersGetNewFiguresAndNewHealth(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	clk := clock.NewFake(time.Now())
	monitor := &healthFeed{}
	d, err := dashboard.New(dashboard.Config{Store: openStore(t, db), Health: monitor, Clock: clk, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	snapshots := run(t, d)
	first := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.HasFigures })
	if first.Stale || !first.Timestamp.Equal(clk.Now().UTC()) || first.RefreshInterval != time.Minute {
		t.Errorf("first snapshot: %+v", first.Meta)
	}
	if first.Refreshes.Total != 1 || first.Refreshes.Failed != 0 {
		t.Errorf("refreshes: %+v, want one, not failed", first.Refreshes)
	}

	// A new health reading is a new snapshot, with the figures it had.
	at := clk.Now().UTC()
	var r health.Report
	r.Database.Check = health.Check{Status: health.StatusUnhealthy, Error: "database: timed out", CheckedAt: &at}
	monitor.updates.Publish(r)
	got := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.Health.Database.Status == health.StatusUnhealthy })
	if got.Health.Database.Error != "database: timed out" || !got.Timestamp.Equal(first.Timestamp) {
		t.Errorf("after a health reading: %+v, figures of %v", got.Health.Database, got.Timestamp)
	}

	// A new row appears in the snapshot after the next tick, counted in its CRM's day.
	end := clk.Now().Add(-time.Minute)
	db.Insert(t, storetest.Row{CRMSource: "genius", Status: "failed", Start: end.Add(-time.Minute), End: &end})
	clk.Advance(time.Minute)
	got = next(t, snapshots, func(s dashboard.Snapshot) bool { return s.Timestamp.After(first.Timestamp) })
	want := []dashboard.CRMOutcomes{{CRMSource: "genius", Failed: 1}}
	if len(got.Runs24h) != 1 || got.Runs24h[0] != want[0] || got.Overview.FailedToday != 1 {
		t.Errorf("after a tick: runs in 24 h %+v, failed today %d; want %+v and 1", got.Runs24h, got.Overview.FailedToday, want)
	}
	if got.Health.Database.Status != health.StatusUnhealthy {
		t.Errorf("the new figures lost the health reading: %+v", got.Health.Database)
	}
}

// blockingStore holds FinishedSince, the heart of every refresh, until released.
type blockingStore struct {
	nullStore
	entered chan struct{} // receives once per call that has started
	release chan struct{} // closed to let every call return
}

func (b *blockingStore) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	b.entered <- struct{}{}
	<-b.release
	return syncs.Finished{}, nil
}

func TestAStuckSubscriberNeverDelaysARefreshOrAViewer(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	d, err := dashboard.New(dashboard.Config{Store: nullStore{}, Clock: clk, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	stuck := d.Subscribe() // never read
	defer stuck.Close()
	snapshots := run(t, d)
	prev := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.HasFigures })
	if err := clk.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		clk.Advance(time.Minute)
		// Were a refresh to wait on the stuck subscriber, this would hang at i == 1.
		s := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.Timestamp.After(prev.Timestamp) })
		if _, err := d.Stats(context.Background()); err != nil {
			t.Fatalf("refresh %d: a viewer got %v", i, err)
		}
		prev = s
	}
	if prev.Refreshes.Total < 21 {
		t.Errorf("got %d refreshes, want 21", prev.Refreshes.Total)
	}
	// The stuck subscriber holds the newest snapshot, not the first one.
	if s := <-stuck.C(); !s.Timestamp.Equal(prev.Timestamp) {
		t.Errorf("the stuck subscriber holds figures of %v, want the newest, %v", s.Timestamp, prev.Timestamp)
	}
}

func TestRunReturnsOnlyAfterItsComputations(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &blockingStore{entered: make(chan struct{}, 4), release: make(chan struct{})}
		d, err := dashboard.New(dashboard.Config{Store: store})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		runDone := make(chan struct{})
		go func() {
			defer close(runDone)
			d.Run(ctx)
		}()
		<-store.entered // the first refresh is in the store
		cancel()
		synctest.Wait() // everything that can move has moved
		select {
		case <-runDone:
			close(store.release)
			t.Fatal("Run returned while a computation it started was still running")
		default:
		}
		close(store.release)
		<-runDone
		// Once Run has returned, figures never computed are not computed any more.
		if _, err := d.Charts(context.Background(), 13); err == nil {
			t.Error("a computation started after Run returned")
		}
	})
}

func TestSnapshotsEndWhenRunReturns(t *testing.T) {
	t.Parallel()
	d, err := dashboard.New(dashboard.Config{Store: nullStore{}})
	if err != nil {
		t.Fatal(err)
	}
	sub := d.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	<-sub.C() // the first figures
	cancel()
	<-done
	for range sub.C() { // drains, then ends: the channel is closed
	}
}

var _ dashboard.HealthSource = (*healthFeed)(nil)

// switchStore is a warehouse that goes down when told to.
type switchStore struct {
	nullStore
	down atomic.Bool
}

func (s *switchStore) err() error {
	if s.down.Load() {
		return &syncs.SourceError{Kind: syncs.ErrUnavailable, Reason: "cannot connect", Err: errors.New("refused")}
	}
	return nil
}

func (s *switchStore) RecentRuns(ctx context.Context, q syncs.RecentQuery) ([]syncs.Run, error) {
	return nil, s.err()
}

func (s *switchStore) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	return syncs.Finished{}, s.err()
}

func TestThePagesRecentSyncsAreKeptThroughAnOutageNobodyAskedBefore(t *testing.T) {
	t.Parallel()
	// In a bubble, where time moves only when every goroutine waits: synctest.Wait
	// returns when the refresh has ended, without a signal of its own.
	synctest.Test(t, func(t *testing.T) {
		store := &switchStore{}
		d, err := dashboard.New(dashboard.Config{Store: store, RefreshInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx)
		synctest.Wait() // the figures and the page's recent syncs, computed at start
		// Nobody has asked for the recent syncs yet; the warehouse goes away.
		store.down.Store(true)
		time.Sleep(time.Minute) // in the bubble: the next refresh, at once
		synctest.Wait()
		r, err := d.RecentSyncs(context.Background(), dashboard.RecentQuery{Limit: dashboard.DefaultRecentLimit})
		if err != nil {
			t.Fatalf("the page's recent syncs during an outage: %v, want the last ones, stale", err)
		}
		if !r.Stale {
			t.Errorf("recent syncs during an outage: stale %v, want true", r.Stale)
		}
		// Another question nobody asked before has no figures to keep: a 503, as before.
		if _, err := d.RecentSyncs(context.Background(), dashboard.RecentQuery{Limit: 5}); !errors.Is(err, syncs.ErrUnavailable) {
			t.Errorf("a question never asked, during the outage: %v, want unavailable", err)
		}
		cancel()
		synctest.Wait()
	})
}
