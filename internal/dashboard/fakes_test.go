package dashboard_test

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// nullStore answers every question with nothing: a warehouse without rows. It is for
// tests of the dashboard's own machinery (snapshots, shutdown), where the figures do not
// matter; the figures themselves are tested on real databases.
type nullStore struct{}

var _ syncs.Store = nullStore{}

func (nullStore) RunningByCRM(context.Context, time.Time) ([]syncs.RunningCount, error) {
	return nil, nil
}
func (nullStore) LatestByCRM(context.Context) ([]syncs.Run, error) { return nil, nil }
func (nullStore) LastSuccess(context.Context, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (nullStore) FinishedSince(context.Context, syncs.Window) (syncs.Finished, error) {
	return syncs.Finished{}, nil
}
func (nullStore) StartedByCRM(context.Context, time.Time, time.Time) ([]syncs.CRMCount, error) {
	return nil, nil
}
func (nullStore) RecentFailures(context.Context, int) ([]syncs.Run, error)           { return nil, nil }
func (nullStore) RecentRuns(context.Context, syncs.RecentQuery) ([]syncs.Run, error) { return nil, nil }
func (nullStore) Schedules(context.Context) ([]syncs.Schedule, error)                { return nil, nil }
func (nullStore) StartedNear(_ context.Context, p []syncs.StartProbe) ([]bool, error) {
	return make([]bool, len(p)), nil
}
func (nullStore) Entities(context.Context, syncs.EntityQuery) ([]syncs.Entity, error) {
	return nil, nil
}
func (nullStore) StuckRuns(context.Context, time.Time, int) ([]syncs.Run, error) { return nil, nil }
func (nullStore) SuccessRecords(context.Context, string, string, time.Time, time.Time, int) ([]int64, error) {
	return nil, nil
}
func (nullStore) Health(context.Context) (syncs.DatabaseHealth, error) {
	return syncs.DatabaseHealth{}, nil
}
func (nullStore) Close() error { return nil }

// healthFeed is a health source whose readings the test publishes.
type healthFeed struct {
	updates feed.Feed[health.Report]
}

func (h *healthFeed) Report() health.Report {
	r, _ := h.updates.Latest()
	return r
}
func (h *healthFeed) CheckNow(context.Context) health.Report { return h.Report() }
func (h *healthFeed) Subscribe() *feed.Subscription[health.Report] {
	return h.updates.Subscribe()
}
