package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
	"github.com/syncwatch/syncwatch/internal/web"
)

// basePath is not the default, so the tests prove the page works under any base path.
const basePath = "/dw/monitoring/"

// site is syncwatch served over a throw-away PostgreSQL database.
type site struct {
	db   *pgtest.DB
	ts   *httptest.Server
	dash *dashboard.Dashboard
}

type siteOptions struct {
	// refresh is the dashboard's refresh interval, which is also the page's.
	refresh time.Duration
	// run starts the dashboard's background refresh (for tests that watch the page
	// follow new rows); without it, figures stay cached for the interval, so the page
	// and the test's own API calls see the same figures.
	run    bool
	health dashboard.HealthSource
	seed   func(t *testing.T, db *pgtest.DB)
	// alerts answers api/alerts/ (nil: alerts off).
	alerts web.Alerts
}

func newSite(t *testing.T, opts siteOptions) *site {
	t.Helper()
	needsServices(t)
	db := pgtest.New(t, pgtest.ShapeA)
	if opts.seed != nil {
		opts.seed(t, db)
	}
	store, err := postgres.Open(context.Background(), db.URL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	dash, err := dashboard.New(dashboard.Config{Store: store, Health: opts.health, RefreshInterval: opts.refresh})
	if err != nil {
		t.Fatal(err)
	}
	if opts.run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			dash.Run(ctx)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
	}
	srv, err := web.NewServer(web.Config{BasePath: basePath, Figures: dash, Drilldown: dash, Alerts: opts.alerts, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &site{db: db, ts: ts, dash: dash}
}

// needsServices skips a test that needs PostgreSQL, Chromium or Node in the fast tier:
// `go test -short ./internal/web` runs the server over a fake in well under a second, for
// every save. The README's test command never passes -short, and fails on any skip.
func needsServices(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL, Chromium or Node; -short runs the fast tier only")
	}
}

// pageURL is the URL of the dashboard page.
func (s *site) pageURL() string { return s.ts.URL + basePath }

// api fetches an API endpoint (a path below api/) and decodes its JSON.
func (s *site) api(t *testing.T, path string) map[string]any {
	t.Helper()
	res, body := get(t, s.ts.URL+basePath+"api/"+path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET api/%s: %s: %s", path, res.Status, body)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET api/%s: %v", path, err)
	}
	return v
}

// fixedHealth reports the figures of a working Celery and Redis, with one warning, so
// the screenshots show every colour a section can have. Its reading never changes.
type fixedHealth struct {
	at      time.Time
	updates feed.Feed[health.Report]
}

func (h *fixedHealth) Subscribe() *feed.Subscription[health.Report] { return h.updates.Subscribe() }

func (h *fixedHealth) CheckNow(context.Context) health.Report { return h.Report() }

func (h *fixedHealth) Report() health.Report {
	at := h.at
	var r health.Report
	r.Database.Check = health.Check{Status: health.StatusHealthy, CheckedAt: &at}
	r.Database.Label = "SQLite"
	r.Database.ResponseTimeMS = ptr(1.8)
	r.Database.ConnectionCount = ptr(int64(14))
	r.Celery.Check = health.Check{Status: health.StatusDegraded, CheckedAt: &at,
		Warnings: []string{"pending tasks grew from 4 to 31 over the last 3 checks"}}
	r.Celery.Broker = "redis://redis.internal:6379/0"
	r.Celery.ActiveWorkers, r.Celery.AnsweredWorkers = ptr(2), ptr(2)
	r.Celery.PendingTasks, r.Celery.ReservedTasks = ptr(int64(31)), ptr(int64(2))
	r.Celery.OldestReservedSeconds = ptr(48.0)
	r.Celery.ResponseTimeMS = ptr(0.6)
	for i, name := range []string{"celery@dw-worker-1", "celery@dw-worker-2"} {
		r.Celery.Workers = append(r.Celery.Workers, health.WorkerReport{
			Name: name, Answered: true, LastSeen: at, PoolSize: ptr(int64(2)),
			Processed: ptr(int64(1200 + 37*i)), Queues: []string{"dw-production"},
		})
	}
	r.Redis.Check = health.Check{Status: health.StatusHealthy, CheckedAt: &at}
	r.Redis.Server, r.Redis.Version = "redis://redis.internal:6379/0", "7.0.15"
	r.Redis.MemoryUsedMB, r.Redis.MemoryMaxMB = ptr(45.3), ptr(512.0)
	r.Redis.ConnectedClients = ptr(int64(9))
	r.Redis.ResponseTimeMS = ptr(0.4)
	r.Redis.UptimeSeconds = ptr(int64(864000))
	return r
}

func ptr[T any](v T) *T { return &v }

// seedRealistic writes a week of history as a warehouse has it: CRMs that succeed, one
// that started failing, one running now, one stuck, one failing for days, two never
// seen, and a day without any finished run (the charts must show a gap there).
func seedRealistic(now time.Time) func(t *testing.T, db *pgtest.DB) {
	return func(t *testing.T, db *pgtest.DB) {
		t.Helper()
		day0 := now.Truncate(24 * time.Hour) // today, 00:00 UTC
		gapDay := day0.Add(-4 * 24 * time.Hour)
		rnd := newRand(7)
		var rows []storetest.Row
		add := func(source, typ, status string, start time.Time, dur time.Duration, processed int64, msg string) {
			r := storetest.Row{CRMSource: source, SyncType: typ, Status: status, Start: start,
				RecordsProcessed: processed}
			if status != syncs.StatusRunning {
				r.End = ptr(start.Add(dur))
			}
			if processed > 0 {
				r.RecordsCreated = processed / int64(8+rnd.intn(10))
				r.RecordsUpdated = processed - r.RecordsCreated
			}
			if status == syncs.StatusPartial {
				r.RecordsFailed = 3 + int64(rnd.intn(20))
			}
			if msg != "" {
				r.ErrorMessage = &msg
			}
			rows = append(rows, r)
		}
		type crm struct {
			source, typ string
			perDay      int
			records     int
			seconds     int
			from        int // days ago the history starts (exclusive of today)
		}
		crms := []crm{
			{"hubspot", "contacts", 4, 1500, 130, 6},
			{"callrail", "calls", 4, 800, 70, 6},
			{"genius", "appointments", 4, 2300, 220, 6},
			{"salesrabbit", "leads", 2, 520, 95, 6},
			{"arrivy", "tasks", 2, 310, 40, 6},
			{"leadconduit", "events", 1, 180, 25, 6},
			{"gsheet", "marketing_leads", 1, 95, 12, 6},
		}
		for _, c := range crms {
			for d := c.from; d >= 0; d-- {
				day := day0.Add(-time.Duration(d) * 24 * time.Hour)
				if day.Equal(gapDay) {
					continue // the warehouse was down: no run at all that day
				}
				for i := 0; i < c.perDay; i++ {
					start := day.Add(time.Duration(1+i*24/c.perDay)*time.Hour + time.Duration(len(c.source))*time.Minute)
					if !start.Add(time.Hour).Before(now) {
						continue
					}
					if c.source == "arrivy" && d < 2 {
						continue // arrivy's worker died two days ago; see its stuck run below
					}
					secs := time.Duration(c.seconds*(80+rnd.intn(45))/100) * time.Second
					records := int64(c.records * (70 + rnd.intn(60)) / 100)
					status := syncs.StatusSuccess
					if rnd.intn(14) == 0 {
						status = syncs.StatusPartial
					}
					add(c.source, c.typ, status, start, secs, records, "")
				}
			}
		}
		// Failures of several kinds, each as the sync engines write them.
		add("genius", "users", syncs.StatusFailed, day0.Add(-2*24*time.Hour+5*time.Hour), 30*time.Second, 0,
			"HTTPSConnectionPool(host='api.geniuscrm.example', port=443): Read timed out. (read timeout=30)")
		add("callrail", "calls", syncs.StatusFailed, now.Add(-5*time.Hour), 12*time.Second, 0,
			"Traceback (most recent call last):\n"+
				"  File \"/app/ingestion/sync/callrail/engines/calls.py\", line 88, in fetch_page\n"+
				"    response.raise_for_status()\n"+
				"  File \"/usr/local/lib/python3.11/site-packages/requests/models.py\", line 1021, in raise_for_status\n"+
				"    raise HTTPError(http_error_msg, response=self)\n"+
				"requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://api.callrail.example/v3/a/calls.json?page=14\n")
		add("gsheet", "marketing_leads", syncs.StatusFailed, day0.Add(-24*time.Hour+9*time.Hour), 3*time.Second, 0,
			"No valid sheet configurations found. Check GSHEET_2025_MARKETING_LEADS_ID environment variables.")
		// marketsharp: its API key was revoked three days ago; every run since fails.
		for d := 6; d >= 0; d-- {
			start := day0.Add(-time.Duration(d)*24*time.Hour + 2*time.Hour)
			if start.Equal(gapDay.Add(2*time.Hour)) || !start.Before(now) {
				continue
			}
			if d > 3 {
				add("marketsharp", "contacts", syncs.StatusSuccess, start, 63*time.Second, 410+int64(rnd.intn(80)), "")
				continue
			}
			add("marketsharp", "contacts", syncs.StatusFailed, start, 2*time.Second, 0,
				"401 Client Error: Unauthorized for url: https://api.marketsharp.example/v1/contacts?api_key=ms_live_4f9a8b7c6d5e")
		}
		// Running now, and a run whose worker died three hours ago (stuck).
		add("salesrabbit", "leads", syncs.StatusRunning, now.Add(-3*time.Minute), 0, 214, "")
		add("arrivy", "tasks", syncs.StatusRunning, now.Add(-3*time.Hour-10*time.Minute), 0, 0, "")

		// Beat sends hubspot, callrail and genius hourly; each ran at its last tick (genius
		// failed). leadconduit's hourly task stopped being sent three hours ago: overdue.
		month := now.Add(-30 * 24 * time.Hour)
		hourly := func(source, minute string, lastRun time.Time) syncs.Schedule {
			return syncs.Schedule{Name: "hourly", CRMSource: source, ModelName: "NA", Mode: "delta",
				SourceKey: source, RecurrenceType: "crontab", Minute: ptr(minute), Hour: ptr("*"),
				DayOfWeek: ptr("*"), DayOfMonth: ptr("*"), MonthOfYear: ptr("*"), Enabled: true,
				UpdatedAt: month, LastRunAt: ptr(lastRun)}
		}
		lastTick := func(minute int) time.Time {
			t := now.Truncate(time.Hour).Add(time.Duration(minute) * time.Minute)
			if t.After(now.Add(-2 * time.Minute)) {
				t = t.Add(-time.Hour)
			}
			return t
		}
		hub, call, gen := lastTick(0), lastTick(12), lastTick(8)
		// Each also ran at the tick before: overdue looks at the last tick past the grace.
		add("hubspot", "contacts", syncs.StatusSuccess, hub.Add(-time.Hour+4*time.Second), 131*time.Second, 1388, "")
		add("callrail", "calls", syncs.StatusSuccess, call.Add(-time.Hour+3*time.Second), 58*time.Second, 702, "")
		add("genius", "appointments", syncs.StatusSuccess, gen.Add(-time.Hour+5*time.Second), 236*time.Second, 2410, "")
		add("hubspot", "contacts", syncs.StatusSuccess, hub.Add(4*time.Second), 128*time.Second, 1523, "")
		add("callrail", "calls", syncs.StatusSuccess, call.Add(3*time.Second), 64*time.Second, 733, "")
		add("genius", "appointments", syncs.StatusFailed, gen.Add(5*time.Second), 41*time.Second, 0,
			"HTTP 429: Too Many Requests - rate limit of 120 requests per minute exceeded, retry after 60s")
		db.Insert(t, rows...)
		db.InsertSchedule(t, hourly("hubspot", "0", hub))
		db.InsertSchedule(t, hourly("callrail", "12", call))
		db.InsertSchedule(t, hourly("genius", "8", gen))
		db.InsertSchedule(t, hourly("leadconduit", "4", lastTick(4).Add(-3*time.Hour)))
	}
}

// rand is a tiny deterministic generator, so the fixture is the same at every run.
type rand struct{ x uint64 }

func newRand(seed uint64) *rand { return &rand{x: seed} }

func (r *rand) intn(n int) int {
	r.x = r.x*6364136223846793005 + 1442695040888963407
	return int((r.x >> 33) % uint64(n))
}

// number writes a JSON number as JavaScript's String() does for the values the API
// sends (integers and short decimals), so the DOM's data-value can be compared with it.
func number(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
