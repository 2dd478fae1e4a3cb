package metrics_test

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down's questions, counted like the others (load_test.go).

func (c *countingStore) CRMSummary(ctx context.Context, q syncs.CRMQuery) (syncs.CRMSummary, error) {
	c.calls.Add(1)
	return c.store.CRMSummary(ctx, q)
}
func (c *countingStore) EntityRuns(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.store.EntityRuns(ctx, source, syncType, from, to, limit)
}
func (c *countingStore) History(ctx context.Context, q syncs.HistoryQuery) ([]syncs.Run, error) {
	c.calls.Add(1)
	return c.store.History(ctx, q)
}
func (c *countingStore) RunByID(ctx context.Context, id int64) (syncs.RunDetail, bool, error) {
	c.calls.Add(1)
	return c.store.RunByID(ctx, id)
}
func (c *countingStore) Neighbours(ctx context.Context, source, syncType string, at syncs.Position) (*syncs.Run, *syncs.Run, error) {
	c.calls.Add(1)
	return c.store.Neighbours(ctx, source, syncType, at)
}
func (c *countingStore) OldestStart(ctx context.Context) (time.Time, bool, error) {
	c.calls.Add(1)
	return c.store.OldestStart(ctx)
}
