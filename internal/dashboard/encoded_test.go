package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// TestAnswersAreEncodedOncePerComputation checks the JSON kept between refreshes: every
// viewer of the same figures gets the very same bytes, and new figures new bytes.
func TestAnswersAreEncodedOncePerComputation(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	d, err := dashboard.New(dashboard.Config{Store: nullStore{}, Clock: clk, RefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	snapshots := run(t, d)
	first := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.HasFigures })
	ctx := context.Background()
	get := func(f func(context.Context) ([]byte, error)) []byte {
		t.Helper()
		b, err := f(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := get(d.StatsJSON), get(d.StatsJSON)
	if &a[0] != &b[0] {
		t.Error("two viewers of the same figures got two encodings")
	}
	var stats dashboard.StatsResponse
	if err := json.Unmarshal(a, &stats); err != nil || !stats.Timestamp.Equal(first.Timestamp) || a[len(a)-1] != '\n' {
		t.Fatalf("stats JSON %q: %v", a, err)
	}
	// Another question of the same figures is another answer.
	days2, _ := d.ChartsJSON(ctx, 2)
	days3, _ := d.ChartsJSON(ctx, 3)
	if bytes.Equal(days2, days3) {
		t.Errorf("days=2 and days=3 gave the same answer: %s", days2)
	}

	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	second := next(t, snapshots, func(s dashboard.Snapshot) bool { return s.Timestamp.After(first.Timestamp) })
	c := get(d.StatsJSON)
	if bytes.Equal(a, c) {
		t.Fatalf("new figures gave the old answer: %s", c)
	}
	if err := json.Unmarshal(c, &stats); err != nil || !stats.Timestamp.Equal(second.Timestamp) {
		t.Errorf("stats JSON after a refresh: %s (%v), want figures of %v", c, err, second.Timestamp)
	}
	// The old bytes were not touched: a viewer still writing them is safe.
	if err := json.Unmarshal(a, &stats); err != nil || !stats.Timestamp.Equal(first.Timestamp) {
		t.Errorf("the first answer changed under its viewer: %s", a)
	}
}
