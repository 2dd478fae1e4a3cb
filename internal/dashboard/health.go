package dashboard

import (
	"time"

	"github.com/syncwatch/syncwatch/internal/health"
)

// HealthReporter is the health monitor as the dashboard sees it: the latest results of
// checks that run in the background, read without waiting.
type HealthReporter interface {
	Report() health.Report
}

// SystemHealthResponse answers GET api/system-health/.
type SystemHealthResponse struct {
	health.Report
	// Timestamp is when the newest of the checks finished (the moment these figures
	// were computed), or now when none has yet.
	Timestamp time.Time `json:"timestamp"`
}

// SystemHealth answers GET api/system-health/ from the latest checks; it never waits on a
// service.
func (d *Dashboard) SystemHealth() SystemHealthResponse {
	var r health.Report
	if d.cfg.Health != nil {
		r = d.cfg.Health.Report()
	} else {
		for _, c := range []*health.Check{&r.Database.Check, &r.Celery.Check, &r.Redis.Check} {
			c.Status = health.StatusNotConfigured
		}
	}
	var newest time.Time
	for _, c := range []health.Check{r.Database.Check, r.Celery.Check, r.Redis.Check} {
		if c.CheckedAt != nil && c.CheckedAt.After(newest) {
			newest = *c.CheckedAt
		}
	}
	if newest.IsZero() {
		newest = d.now()
	}
	return SystemHealthResponse{Report: r, Timestamp: newest.UTC()}
}
