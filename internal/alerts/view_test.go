package alerts_test

import "github.com/syncwatch/syncwatch/internal/alerts"

// The metrics read the engine through this interface (internal/metrics declares it).
var _ interface {
	FiringByName() map[string]int
	NotificationTotals() map[string]map[string]uint64
} = (*alerts.Engine)(nil)
