package health

import (
	"context"
	"fmt"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// DatabaseReport is the database section of the system-health answer.
type DatabaseReport struct {
	Check
	// ResponseTimeMS is the round trip of a trivial query, as the store measured it.
	ResponseTimeMS *float64 `json:"response_time_ms"`
	// ConnectionCount is the number of server connections to the monitored database.
	ConnectionCount *int64 `json:"connection_count"`
}

// checkDatabase runs the store's own measurement under ctx and judges it: an error is
// unhealthy, a round trip or a whole check slower than half the timeout is degraded.
func checkDatabase(ctx context.Context, measure func(context.Context) (syncs.DatabaseHealth, error), timeout time.Duration) DatabaseReport {
	var rep DatabaseReport
	start := time.Now()
	h, err := measure(ctx)
	elapsed := time.Since(start)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // a measurement that ignored its context is still too late
	}
	if err != nil {
		rep.Status, rep.Error = StatusUnhealthy, reason(fmt.Errorf("database: %w", err), timeout)
		return rep
	}
	rep.ResponseTimeMS = ptr(millis(h.ResponseTime))
	rep.ConnectionCount = ptr(h.ConnectionCount)
	rep.Status = StatusHealthy
	if slowest := max(elapsed, h.ResponseTime); slowest > timeout/2 {
		rep.Status = StatusDegraded
		rep.Warnings = append(rep.Warnings, slowWarning("the database", slowest, timeout))
	}
	return rep
}
