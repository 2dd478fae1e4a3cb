package dashboard_test

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down's questions, for the fake of fakes_test.go.

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
