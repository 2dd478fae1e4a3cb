package perf_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// BenchmarkDrillDown measures the drill-down's answers on a cache miss: each iteration
// starts a new dashboard, so the CRM's figures, the history page or the run are computed.
// The default figures, which a CRM's page reads its header from, are computed before the
// clock starts: the dashboard keeps them computed in the background.
func BenchmarkDrillDown(b *testing.B) {
	newServer := coldServers(b)
	get := func(h http.Handler, path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ingestion/monitoring/"+path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body)
		}
	}
	// measure times only what follows prepare, once per iteration.
	measure := func(b *testing.B, prepare func() http.Handler, path string) {
		var took []time.Duration
		for b.Loop() {
			b.StopTimer()
			h := prepare()
			b.StartTimer()
			start := time.Now()
			get(h, path)
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		at := func(p float64) float64 {
			return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
		}
		b.ReportMetric(at(0.50), "p50-ms")
		b.ReportMetric(at(0.95), "p95-ms")
	}
	withFigures := func() http.Handler {
		d, h := newServer()
		if _, err := d.Stats(context.Background()); err != nil {
			b.Fatal(err)
		}
		return h
	}
	plain := func() http.Handler {
		_, h := newServer()
		return h
	}
	for _, path := range []string{"api/crms/genius/", "api/crms/hubspot/", "api/crms/leadconduit/", "api/crms/marketsharp/",
		"api/crms/genius/?days=30", "api/crms/genius/?days=90"} {
		b.Run("miss/"+path, func(b *testing.B) { measure(b, withFigures, path) })
	}
	// A cursor five years back, and one nineteen: a deep page.
	deep5 := dashboard.FormatCursor(syncs.Floor(time.Now().AddDate(-5, 0, 0)))
	deep19 := dashboard.FormatCursor(syncs.Floor(time.Now().AddDate(-19, 0, 0)))
	for _, path := range []string{
		"api/history/",
		"api/history/?crm=genius", "api/history/?crm=leadconduit", "api/history/?crm=marketsharp",
		"api/history/?sync_type=users", "api/history/?sync_type=job_change_orders",
		"api/history/?status=failed", "api/history/?status=success", "api/history/?status=skipped", "api/history/?status=running",
		"api/history/?crm=genius&cursor=" + deep5, "api/history/?crm=leadconduit&cursor=" + deep19,
		"api/history/?status=failed&cursor=" + deep19, "api/history/?sync_type=users&cursor=" + deep19,
		"api/history/?crm=genius&status=failed", "api/history/?limit=200",
		"api/history/?q=timeout", "api/history/?error_type=rate_limit", "api/history/?min_duration=3600",
		"api/history/?q=timeout&from=2006-01-01",
	} {
		b.Run("miss/"+path, func(b *testing.B) { measure(b, plain, path) })
	}
	// A run of a month ago (the CI's database holds about two months).
	var page struct {
		Runs []struct {
			ID int64 `json:"id"`
		} `json:"runs"`
	}
	rec := httptest.NewRecorder()
	plain().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ingestion/monitoring/api/history/?limit=1&cursor="+
		dashboard.FormatCursor(syncs.Floor(time.Now().AddDate(0, -1, 0))), nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Runs) != 1 {
		b.Fatalf("a run to show: %v %s", err, rec.Body)
	}
	b.Run("miss/api/runs/{id}/", func(b *testing.B) {
		measure(b, plain, "api/runs/"+strconv.FormatInt(page.Runs[0].ID, 10)+"/")
	})
	b.Run("csv/100000 rows", func(b *testing.B) {
		measure(b, plain, "api/history.csv")
	})
	b.Run("csv/crm=genius&status=failed", func(b *testing.B) {
		measure(b, plain, "api/history.csv?crm=genius&status=failed")
	})
}
