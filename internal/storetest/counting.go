package storetest

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// CountingStore counts the questions a store is asked, in all and by method, for the
// tests that prove viewers, scrapers and alerts do not multiply the warehouse's load.
// It wraps the store in a field, not by embedding, so that a Store method it does not
// wrap is a compile error (see the assertion below); the dashboard's
// TestCountingStoreCountsEveryMethod checks that each wrapper counts.
type CountingStore struct {
	store syncs.Store
	calls atomic.Int64

	mu       sync.Mutex
	byMethod map[string]int64
}

// NewCountingStore wraps store.
func NewCountingStore(store syncs.Store) *CountingStore { return &CountingStore{store: store} }

// Calls is the number of questions asked so far.
func (c *CountingStore) Calls() int64 { return c.calls.Load() }

// count records one call of method.
func (c *CountingStore) count(method string) {
	c.calls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byMethod == nil {
		c.byMethod = make(map[string]int64)
	}
	c.byMethod[method]++
}

// Counts returns the calls so far, by method.
func (c *CountingStore) Counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byMethod)
}

var _ syncs.Store = (*CountingStore)(nil)

func (c *CountingStore) RunningByCRM(ctx context.Context, t time.Time) ([]syncs.RunningCount, error) {
	c.count("RunningByCRM")
	return c.store.RunningByCRM(ctx, t)
}
func (c *CountingStore) LatestByCRM(ctx context.Context) ([]syncs.Run, error) {
	c.count("LatestByCRM")
	return c.store.LatestByCRM(ctx)
}
func (c *CountingStore) LastSuccess(ctx context.Context, s string) (time.Time, bool, error) {
	c.count("LastSuccess")
	return c.store.LastSuccess(ctx, s)
}
func (c *CountingStore) FinishedSince(ctx context.Context, w syncs.Window) (syncs.Finished, error) {
	c.count("FinishedSince")
	return c.store.FinishedSince(ctx, w)
}
func (c *CountingStore) StartedByCRM(ctx context.Context, from, to time.Time) ([]syncs.CRMCount, error) {
	c.count("StartedByCRM")
	return c.store.StartedByCRM(ctx, from, to)
}
func (c *CountingStore) RecentFailures(ctx context.Context, limit int) ([]syncs.Run, error) {
	c.count("RecentFailures")
	return c.store.RecentFailures(ctx, limit)
}
func (c *CountingStore) RecentRuns(ctx context.Context, q syncs.RecentQuery) ([]syncs.Run, error) {
	c.count("RecentRuns")
	return c.store.RecentRuns(ctx, q)
}
func (c *CountingStore) Schedules(ctx context.Context) ([]syncs.Schedule, error) {
	c.count("Schedules")
	return c.store.Schedules(ctx)
}
func (c *CountingStore) StartedNear(ctx context.Context, p []syncs.StartProbe) ([]bool, error) {
	c.count("StartedNear")
	return c.store.StartedNear(ctx, p)
}
func (c *CountingStore) Entities(ctx context.Context, q syncs.EntityQuery) ([]syncs.Entity, error) {
	c.count("Entities")
	return c.store.Entities(ctx, q)
}
func (c *CountingStore) StuckRuns(ctx context.Context, before time.Time, limit int) ([]syncs.Run, error) {
	c.count("StuckRuns")
	return c.store.StuckRuns(ctx, before, limit)
}
func (c *CountingStore) SuccessRecords(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]int64, error) {
	c.count("SuccessRecords")
	return c.store.SuccessRecords(ctx, source, syncType, from, to, limit)
}
func (c *CountingStore) Health(ctx context.Context) (syncs.DatabaseHealth, error) {
	c.count("Health")
	return c.store.Health(ctx)
}
func (c *CountingStore) Close() error { return c.store.Close() }

func (c *CountingStore) CRMSummary(ctx context.Context, q syncs.CRMQuery) (syncs.CRMSummary, error) {
	c.count("CRMSummary")
	return c.store.CRMSummary(ctx, q)
}
func (c *CountingStore) EntityRuns(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]syncs.Run, error) {
	c.count("EntityRuns")
	return c.store.EntityRuns(ctx, source, syncType, from, to, limit)
}
func (c *CountingStore) History(ctx context.Context, q syncs.HistoryQuery) ([]syncs.Run, error) {
	c.count("History")
	return c.store.History(ctx, q)
}
func (c *CountingStore) RunByID(ctx context.Context, id int64) (syncs.RunDetail, bool, error) {
	c.count("RunByID")
	return c.store.RunByID(ctx, id)
}
func (c *CountingStore) Neighbours(ctx context.Context, source, syncType string, at syncs.Position) (*syncs.Run, *syncs.Run, error) {
	c.count("Neighbours")
	return c.store.Neighbours(ctx, source, syncType, at)
}
func (c *CountingStore) OldestStart(ctx context.Context) (time.Time, bool, error) {
	c.count("OldestStart")
	return c.store.OldestStart(ctx)
}
