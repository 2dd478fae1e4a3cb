package dashboard_test

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down's questions, for the fakes of fakes_test.go and cache_test.go.

func (nullStore) CRMSummary(context.Context, syncs.CRMQuery) (syncs.CRMSummary, error) {
	return syncs.CRMSummary{}, nil
}
func (nullStore) EntityRuns(context.Context, string, string, time.Time, time.Time, int) ([]syncs.Run, error) {
	return nil, nil
}
func (nullStore) History(context.Context, syncs.HistoryQuery) ([]syncs.Run, error) { return nil, nil }
func (nullStore) RunByID(context.Context, int64) (syncs.RunDetail, bool, error) {
	return syncs.RunDetail{}, false, nil
}
func (nullStore) Neighbours(context.Context, string, string, syncs.Position) (*syncs.Run, *syncs.Run, error) {
	return nil, nil, nil
}
func (nullStore) OldestStart(context.Context) (time.Time, bool, error) {
	return time.Time{}, false, nil
}

func (c *countingStore) CRMSummary(ctx context.Context, q syncs.CRMQuery) (syncs.CRMSummary, error) {
	c.count("CRMSummary")
	return c.store.CRMSummary(ctx, q)
}
func (c *countingStore) EntityRuns(ctx context.Context, source, syncType string, from, to time.Time, limit int) ([]syncs.Run, error) {
	c.count("EntityRuns")
	return c.store.EntityRuns(ctx, source, syncType, from, to, limit)
}
func (c *countingStore) History(ctx context.Context, q syncs.HistoryQuery) ([]syncs.Run, error) {
	c.count("History")
	return c.store.History(ctx, q)
}
func (c *countingStore) RunByID(ctx context.Context, id int64) (syncs.RunDetail, bool, error) {
	c.count("RunByID")
	return c.store.RunByID(ctx, id)
}
func (c *countingStore) Neighbours(ctx context.Context, source, syncType string, at syncs.Position) (*syncs.Run, *syncs.Run, error) {
	c.count("Neighbours")
	return c.store.Neighbours(ctx, source, syncType, at)
}
func (c *countingStore) OldestStart(ctx context.Context) (time.Time, bool, error) {
	c.count("OldestStart")
	return c.store.OldestStart(ctx)
}
