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
	// Label names the database ("PostgreSQL 15.19", "SQLite"), as the store knows it.
	Label string `json:"label,omitempty"`
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
	rep.Label = h.Label
	if err != nil {
		rep.Status = StatusUnhealthy
		if why, ok := syncs.Reason(err); ok {
			rep.Error = shortText("database: " + why) // the full error is the dashboard's to log
		} else {
			rep.Error = reason(fmt.Errorf("database: %w", err), timeout)
		}
		return rep
	}
	rep.ResponseTimeMS = ptr(millis(h.ResponseTime))
	rep.ConnectionCount = ptr(h.ConnectionCount)
	rep.Status = StatusHealthy
	rep.Warnings = append(rep.Warnings, h.Warnings...)
	if slowest := max(elapsed, h.ResponseTime); slowest > timeout/2 {
		rep.Warnings = append(rep.Warnings, slowWarning("the database", slowest, timeout))
	}
	if len(rep.Warnings) > 0 {
		rep.Status = StatusDegraded
	}
	return rep
}
