package dashboard

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/health"
)

// HealthSource is the health monitor as the dashboard sees it (health.Monitor is one):
// the latest results of checks that run in the background, read without waiting; a
// round of checks run now, for the refresh button; and a feed of each new reading.
type HealthSource interface {
	Report() health.Report
	CheckNow(ctx context.Context) health.Report
	Subscribe() *feed.Subscription[health.Report]
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
	}
	return d.healthResponse(r)
}

// CheckHealthNow answers GET api/system-health/?check=now: it runs the checks now, if the
// monitor can (concurrent callers share one round, and one within two seconds of the last
// returns that one's results), waiting at most the checks' timeout.
func (d *Dashboard) CheckHealthNow(ctx context.Context) SystemHealthResponse {
	if d.cfg.Health == nil {
		return d.SystemHealth()
	}
	return d.healthResponse(d.cfg.Health.CheckNow(ctx))
}

func (d *Dashboard) healthResponse(r health.Report) SystemHealthResponse {
	if d.cfg.Health == nil {
		for _, c := range []*health.Check{&r.Database.Check, &r.Celery.Check, &r.Redis.Check} {
			c.Status = health.StatusNotConfigured
		}
	}
	checks := []health.Check{r.Database.Check, r.Celery.Check, r.Redis.Check}
	if r.RabbitMQ != nil {
		checks = append(checks, r.RabbitMQ.Check)
	}
	var newest time.Time
	for _, c := range checks {
		if c.CheckedAt != nil && c.CheckedAt.After(newest) {
			newest = *c.CheckedAt
		}
	}
	if newest.IsZero() {
		newest = d.now()
	}
	return SystemHealthResponse{Report: r, Timestamp: newest.UTC()}
}
