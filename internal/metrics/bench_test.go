package metrics_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/metrics"
)

// large is a snapshot of n entities over ten CRMs, each entity with a schedule of its
// own, every figure known: the most series the default cap allows.
func large(n int) dashboard.Snapshot {
	s := fixture()
	s.CRMs, s.Runs24h, s.Entities = nil, nil, nil
	const crms = 10
	for c := range crms {
		source := fmt.Sprintf("crm%02d", c)
		crm := dashboard.CRMStatus{Source: source, Running: 1, Stuck: 1}
		for e := c; e < n; e += crms {
			syncType := fmt.Sprintf("entity_%03d", e)
			start := T0.Add(-time.Duration(e) * time.Minute)
			end := start.Add(time.Minute)
			s.Entities = append(s.Entities, dashboard.EntityStatus{
				CRMSource: source, SyncType: syncType,
				LastRun:              dashboard.EntityRun{ID: int64(e), Status: "success", StartTime: start, EndTime: &end},
				LastFinished:         &dashboard.EntityRun{ID: int64(e), Status: "success", StartTime: start, EndTime: &end},
				LastSuccess:          &end,
				LastDurationSeconds:  ptr(60.0),
				LastRecordsProcessed: ptr(int64(e * 10)),
				ConsecutiveFailures:  int64(e % 3),
			})
			crm.Schedules = append(crm.Schedules, dashboard.ScheduleInfo{ModelName: syncType, State: "scheduled", NextRun: ptr(T0.Add(time.Hour))})
		}
		s.CRMs = append(s.CRMs, crm)
		s.Runs24h = append(s.Runs24h, dashboard.CRMOutcomes{CRMSource: source, Success: 10, Failed: 2, Partial: 1})
	}
	s.Health.Celery.Queues = []health.QueueReport{{Name: "dw-production", Pending: 3}}
	return s
}

// BenchmarkScrape500Entities is one scrape of 500 entities, each with a schedule, as
// Prometheus asks for it (compressed): what a scraper waits for.
func BenchmarkScrape500Entities(b *testing.B) { benchmarkScrape(b, "gzip") }

// BenchmarkScrape500EntitiesUncompressed is the same scrape for a scraper that does not
// accept gzip.
func BenchmarkScrape500EntitiesUncompressed(b *testing.B) { benchmarkScrape(b, "") }

func benchmarkScrape(b *testing.B, acceptEncoding string) {
	r := newRig(b, metrics.Config{})
	r.exporter.Update(large(metrics.DefaultMaxEntities))
	h := r.exporter.Handler()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", acceptEncoding)
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}

// BenchmarkUpdate500Entities is the work of one new snapshot of 500 entities: building
// and encoding its metrics, in the background, whether anyone scrapes or not.
func BenchmarkUpdate500Entities(b *testing.B) {
	r := newRig(b, metrics.Config{})
	s := large(metrics.DefaultMaxEntities)
	for b.Loop() {
		r.exporter.Update(s)
	}
}
