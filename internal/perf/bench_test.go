package perf_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/perf"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/seed"
	"github.com/syncwatch/syncwatch/internal/web"
)

// ciRows is the size of the database the benchmarks make for themselves, so that CI runs
// each of them once and they do not rot; the report's figures come from ten million rows.
const ciRows = 100_000

// benchDatabase is the database the benchmarks read: SYNCWATCH_BENCH_DATABASE_URL (filled
// by "syncwatch seed"; see docs/performance.md), or else a throw-away database with
// ciRows rows of the same history.
func benchDatabase(b *testing.B) string {
	if url := os.Getenv("SYNCWATCH_BENCH_DATABASE_URL"); url != "" {
		return url
	}
	db := pgtest.New(b, pgtest.ShapeA)
	db.Exec(b, "TRUNCATE orchestration.sync_schedule; DELETE FROM public.django_celery_beat_periodictask")
	now := time.Now().UTC()
	if _, _, err := seed.Postgres(context.Background(), db.URL, demo.LastRows(1, ciRows, now), now, seed.Options{}); err != nil {
		b.Fatal(err)
	}
	return db.URL
}

// timed runs f b.N times and reports the median and 95th percentile besides the mean.
func timed(b *testing.B, f func() error) {
	b.Helper()
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	at := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}

// coldServers opens a store on the benchmark database for b, and returns a function that
// builds a dashboard on it and the handler serving it, with no figures computed yet.
func coldServers(b *testing.B) func() (*dashboard.Dashboard, http.Handler) {
	store, err := postgres.Open(context.Background(), benchDatabase(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	return func() (*dashboard.Dashboard, http.Handler) {
		d, err := dashboard.New(dashboard.Config{Store: store})
		if err != nil {
			b.Fatal(err)
		}
		h, err := web.NewServer(web.Config{Figures: d})
		if err != nil {
			b.Fatal(err)
		}
		return d, h
	}
}

// BenchmarkSyncwatch measures what a request costs when its figures are not in memory
// (each iteration starts a new dashboard, so the figures are computed again), and what
// it costs when they are.
func BenchmarkSyncwatch(b *testing.B) {
	newServer := coldServers(b)
	get := func(h http.Handler, path string) error {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ingestion/monitoring/"+path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return nil
	}

	b.Run("refresh", func(b *testing.B) {
		// Every figure of one refresh of the page: the default figures and the recent syncs.
		timed(b, func() error {
			d, _ := newServer()
			if _, err := d.Stats(context.Background()); err != nil {
				return err
			}
			_, err := d.RecentSyncs(context.Background(), dashboard.RecentQuery{Limit: 20})
			return err
		})
	})
	for _, path := range []string{"api/stats/", "api/crm-status/", "api/recent-syncs/", "api/performance-charts/",
		"api/errors/", "api/performance-charts/?days=30", "api/performance-charts/?days=90",
		"api/recent-syncs/?crm=marketsharp", "api/recent-syncs/?status=partial&crm=gsheet"} {
		b.Run("miss/"+path, func(b *testing.B) {
			timed(b, func() error {
				_, h := newServer()
				return get(h, path)
			})
		})
	}
	b.Run("cached/api/crm-status/", func(b *testing.B) {
		_, h := newServer()
		_ = get(h, "api/crm-status/")
		timed(b, func() error { return get(h, "api/crm-status/") })
	})
}

// BenchmarkBaseline measures the requirements' sketch on the same database.
func BenchmarkBaseline(b *testing.B) {
	url := benchDatabase(b)
	base, err := perf.NewBaseline(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer base.Pool.Close()
	ctx := context.Background()
	now := time.Now()
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"refresh", func() error { return base.Refresh(ctx, now) }},
		{"api/stats/", func() error { return base.Stats(ctx, now) }},
		{"api/crm-status/", func() error { return base.CRMStatus(ctx) }},
		{"api/recent-syncs/", func() error { return base.RecentSyncs(ctx) }},
		{"api/performance-charts/", func() error { return base.Charts(ctx, now, 7) }},
		{"api/errors/", func() error { return base.Errors(ctx, now, 7) }},
	} {
		b.Run(c.name, func(b *testing.B) { timed(b, c.f) })
	}
}
