package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/servicetest"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// metricsToken is the bearer token the metrics tests' syncwatch requires.
const metricsToken = "metrics-test-token-0123456789"

// metricsFixture fills a warehouse with a case of each figure the metrics carry, around
// now (whole seconds, so that timestamps compare exactly), and returns the series the
// contract says they give, as PromQL selects them.
func metricsFixture(t *testing.T) (*pgtest.DB, map[string]float64) {
	db := pgtest.New(t, pgtest.ShapeA)
	now := time.Now().UTC().Truncate(time.Second)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	end := func(d time.Duration) *time.Time { return new(at(d)) }
	msg := "HTTP 429: Too Many Requests"
	db.Insert(t,
		// hubspot/contacts: started 5 s after beat sent it, 10 minutes ago; two minutes long.
		storetest.Row{CRMSource: "hubspot", SyncType: "contacts", Start: at(-10*time.Minute + 5*time.Second), End: end(-8*time.Minute + 5*time.Second), RecordsProcessed: 1523},
		// genius/appointments: a success, then three failures, newest last.
		storetest.Row{CRMSource: "genius", SyncType: "appointments", Start: at(-5 * time.Hour), End: end(-5*time.Hour + time.Minute), RecordsProcessed: 40},
		storetest.Row{CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: at(-4 * time.Hour), End: end(-4*time.Hour + time.Minute), ErrorMessage: &msg},
		storetest.Row{CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: at(-3 * time.Hour), End: end(-3*time.Hour + time.Minute), ErrorMessage: &msg},
		storetest.Row{CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: at(-2 * time.Hour), End: end(-2*time.Hour + time.Minute), ErrorMessage: &msg},
		// salesrabbit: running for two hours, past the 60-minute stuck threshold.
		storetest.Row{CRMSource: "salesrabbit", SyncType: "leads", Status: "running", Start: at(-2 * time.Hour)},
		// callrail/calls: its last success 30 hours ago, past the 24-hour freshness limit.
		storetest.Row{CRMSource: "callrail", SyncType: "calls", Start: at(-30 * time.Hour), End: end(-30*time.Hour + time.Minute), RecordsProcessed: 7},
	)
	hourly := func(source, model string, lastRun time.Time) syncs.Schedule {
		every, period := int64(1), "hours"
		return syncs.Schedule{Name: source + " hourly", CRMSource: source, ModelName: model, Mode: "delta",
			SourceKey: source, RecurrenceType: "interval", Every: &every, Period: &period, Enabled: true,
			UpdatedAt: at(-30 * 24 * time.Hour), LastRunAt: &lastRun}
	}
	// Sent 10 minutes ago, and its run started: next in 50 minutes, not overdue.
	db.InsertSchedule(t, hourly("hubspot", "contacts", at(-10*time.Minute)))
	// Sent 80 minutes ago: due 20 minutes ago, and no genius run started since: overdue.
	db.InsertSchedule(t, hourly("genius", "appointments", at(-80*time.Minute)))

	unix := func(d time.Duration) float64 { return float64(at(d).Unix()) }
	return db, map[string]float64{
		`syncwatch_sync_last_success_timestamp_seconds{crm="hubspot",sync_type="contacts"}`:      unix(-8*time.Minute + 5*time.Second),
		`syncwatch_sync_last_success_timestamp_seconds{crm="genius",sync_type="appointments"}`:   unix(-5*time.Hour + time.Minute),
		`syncwatch_sync_last_run_start_timestamp_seconds{crm="genius",sync_type="appointments"}`: unix(-2 * time.Hour),
		`syncwatch_sync_last_records_processed{crm="hubspot",sync_type="contacts"}`:              1523,
		`syncwatch_sync_last_duration_seconds{crm="hubspot",sync_type="contacts"}`:               120,
		`syncwatch_sync_consecutive_failures{crm="genius",sync_type="appointments"}`:             3,
		`syncwatch_sync_consecutive_failures{crm="hubspot",sync_type="contacts"}`:                0,
		`syncwatch_sync_running{crm="salesrabbit"}`:                                              1,
		`syncwatch_sync_stuck{crm="salesrabbit"}`:                                                1,
		`syncwatch_sync_stuck{crm="hubspot"}`:                                                    0,
		`syncwatch_sync_runs_24h{crm="genius",status="failed"}`:                                  3,
		`syncwatch_sync_runs_24h{crm="genius",status="success"}`:                                 1,
		`syncwatch_schedule_next_run_timestamp_seconds{crm="hubspot",sync_type="contacts"}`:      unix(50 * time.Minute),
		`syncwatch_schedule_overdue{crm="genius",sync_type="appointments"}`:                      1,
		`syncwatch_schedule_overdue{crm="hubspot",sync_type="contacts"}`:                         0,
		`syncwatch_component_up{component="database"}`:                                           1,
	}
}

// scrapeMetrics waits until syncwatch serves its first figures at /metrics (run() sends
// no signal when the first snapshot is built), and returns that scrape.
func scrapeMetrics(t *testing.T, s *server) []byte {
	t.Helper()
	auth := http.Header{"Authorization": {"Bearer " + metricsToken}}
	var body []byte
	poll(t, "/metrics serves the figures", func() bool {
		var status int
		status, body, _ = get(t, s.root+"/metrics", auth)
		return status == 200 && bytes.Contains(body, []byte("syncwatch_sync_running{")) &&
			bytes.Contains(body, []byte(`syncwatch_component_up{component="database"}`))
	})
	return body
}

func TestMetricsPassPromtoolCheck(t *testing.T) {
	t.Parallel()
	db, _ := metricsFixture(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "SYNCWATCH_AUTH_TOKEN": metricsToken},
		"--addr", "127.0.0.1:0", "--health-interval", "1s")
	body := scrapeMetrics(t, s)
	out, err := servicetest.RunPromtool(t, body, "check", "metrics")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	// Under the base path too, and not without the token.
	if status, b, _ := get(t, s.base+"metrics", http.Header{"Authorization": {"Bearer " + metricsToken}}); status != 200 || !bytes.Contains(b, []byte("syncwatch_sync_running{")) {
		t.Errorf("under the base path: %d %.200s", status, b)
	}
	if status, _, _ := get(t, s.root+"/metrics", nil); status != 401 {
		t.Errorf("without the token: %d, want 401", status)
	}
}

// TestPrometheusScrapesSyncwatch is the metrics as a team meets them: Debian's Prometheus,
// configured with the scrape job of docs/prometheus/prometheus.yml (a bearer token from a
// file) and the rules of docs/prometheus/alerts.yml, scrapes syncwatch on PostgreSQL every
// second; PromQL answers what the contract says of the fixture.
func TestPrometheusScrapesSyncwatch(t *testing.T) {
	t.Parallel()
	db, want := metricsFixture(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "SYNCWATCH_AUTH_TOKEN": metricsToken},
		"--addr", "127.0.0.1:0", "--refresh", "1s", "--health-interval", "1s")

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "syncwatch.token")
	if err := os.WriteFile(tokenFile, []byte(metricsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := prometheusConfig(t, map[string]string{
		"syncwatch.example.com:8000":      strings.TrimPrefix(s.root, "http://"),
		"/etc/prometheus/syncwatch.token": tokenFile,
		"alerts.yml":                      docsPath(t, "alerts.yml"),
		"scrape_interval: 30s":            "scrape_interval: 1s",
		"evaluation_interval: 30s":        "evaluation_interval: 1s",
	})
	prom := servicetest.StartPrometheus(t, config)

	prom.WaitFor(t, `up{job="syncwatch"}`, func(got []servicetest.Sample) bool {
		return len(got) == 1 && got[0].Value == 1
	})
	for promql, value := range want {
		prom.WaitFor(t, promql, func(got []servicetest.Sample) bool {
			return len(got) == 1 && got[0].Value == value
		})
	}
	// The documented rules load and evaluate on the real series: genius fails three times
	// in a row, salesrabbit is stuck, callrail last succeeded 30 hours ago (stale),
	// genius's schedule is overdue. salesrabbit never succeeded in the 30 days, but this
	// Prometheus has not seen it run for 24 hours: not stale yet.
	firing := []string{
		`ALERTS{alertname="sync_failing",crm="genius",sync_type="appointments"}`,
		`ALERTS{alertname="sync_stuck",crm="salesrabbit"}`,
		`ALERTS{alertname="sync_stale",crm="callrail"}`,
		`ALERTS{alertname="schedule_overdue",crm="genius",sync_type="appointments"}`,
	}
	for _, alert := range firing {
		prom.WaitFor(t, alert, func(got []servicetest.Sample) bool { return len(got) == 1 })
	}
	// And none that the fixture does not call for: genius succeeded 5 hours ago, hubspot
	// minutes ago; the warehouse answers; Celery is not configured.
	if got, err := prom.Query(t.Context(), `ALERTS`); err != nil || len(got) != len(firing) {
		t.Errorf("got alerts %v %v, want only the %d above", got, err, len(firing))
	}

	// Every query of the Grafana dashboard is valid PromQL on these series; those of the
	// sync figures (filtered by the CRM variable) have data.
	variables := strings.NewReplacer("$crm", ".*", "$__rate_interval", "1m")
	for _, expr := range grafanaQueries(t) {
		q := variables.Replace(expr)
		if !strings.Contains(expr, "$crm") {
			if _, err := prom.Query(t.Context(), q); err != nil {
				t.Errorf("grafana-dashboard.json: %v", err)
			}
			continue
		}
		prom.WaitFor(t, q, func(got []servicetest.Sample) bool { return len(got) > 0 })
	}
}

// grafanaQueries are the PromQL queries of docs/prometheus/grafana-dashboard.json.
func grafanaQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(docsPath(t, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			out = append(out, target.Expr)
		}
	}
	if len(out) == 0 {
		t.Fatal("no queries in grafana-dashboard.json")
	}
	return out
}

// prometheusConfig is docs/prometheus/prometheus.yml with each key replaced by its value;
// each must occur in it, so that the test follows the example.
func prometheusConfig(t *testing.T, replace map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(docsPath(t, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	config := string(b)
	for old, repl := range replace {
		if !strings.Contains(config, old) {
			t.Fatalf("docs/prometheus/prometheus.yml no longer holds %q", old)
		}
		config = strings.ReplaceAll(config, old, repl)
	}
	return config
}

func docsPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "docs", "prometheus", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTheEntityCapIsCheckedByName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--metrics-max-entities=0"}, "", "--metrics-max-entities: 0 must be at least 1"},
		{nil, "many", `SYNCWATCH_METRICS_MAX_ENTITIES: "many" is not a whole number`},
	} {
		err := run(t.Context(), c.args, func(k string) string {
			return map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SYNCWATCH_METRICS_MAX_ENTITIES": c.env}[k]
		}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %q: got %v, want an error saying %q", c.args, c.env, err, c.want)
		}
	}
}
