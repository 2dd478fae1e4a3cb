package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// TestEndToEnd is the dashboard as an administrator meets it, with nothing stood in for:
// syncwatch started as main starts it, on a real PostgreSQL, with a real redis-server as
// Celery's broker and a real Celery worker consuming from it, read in headless Chromium.
// The other tests cover each part in depth (the browser tests render a fixed health
// report); this one shows the parts meet, and that the page follows a worker's death
// without being reloaded.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t) // one success and one failure, a minute ago
	broker := servicetest.NewRedis(t, servicetest.RedisOptions{})
	brokerURL := broker.URL(0)
	const workerName = "e2e@syncwatch-test"
	workers := servicetest.StartWorkers(t, servicetest.LoggedReady,
		servicetest.WorkerOptions{Broker: brokerURL, Name: workerName})
	// Three tasks wait in the default queue, which no worker consumes here.
	servicetest.SendTasks(t, brokerURL, "", "dw-backlog:3:-1:1")

	s := start(t, map[string]string{
		"DATABASE_URL":              db.URL,
		"CELERY_BROKER_URL":         brokerURL,
		"REDIS_URL":                 brokerURL,
		"CELERY_TASK_DEFAULT_QUEUE": "dw-backlog",
	}, "--addr", "127.0.0.1:0", "--refresh", "1s", "--health-interval", "1s")

	b := browsertest.New(t)
	tab := b.NewTab(t)
	tab.Do(t, 20*time.Second, chromedp.Navigate(s.base))
	tab.WaitFor(t, 10*time.Second, `document.body.dataset.state === "ready"`)

	type tile struct {
		Status string            `json:"status"`
		Values map[string]string `json:"values"`
	}
	const readTiles = `Object.fromEntries([...document.querySelectorAll("#health-tiles [data-component]")].map(n => [n.dataset.component, {
		status: n.dataset.status,
		values: Object.fromEntries([...n.querySelectorAll("dd[data-field]")].map(d => [d.dataset.field, d.dataset.value]))}]))`
	status := func(component string) string {
		return `document.querySelector('#health-tiles [data-component="` + component + `"]')?.dataset.status`
	}

	// The first health check may still be running when the page loads, and on a loaded
	// machine one check may be slow (degraded): the page refreshes itself every second
	// until all three are checked and healthy at once.
	tab.WaitFor(t, 30*time.Second, status("database")+` === "healthy" && `+status("celery")+` === "healthy" && `+status("redis")+` === "healthy"`)
	tiles := browsertest.Eval[map[string]tile](t, tab, readTiles)
	if got := tiles["celery"].Values["active_workers"]; got != "1" {
		t.Errorf("active workers: got %q, want 1", got)
	}
	if got := tiles["celery"].Values["pending_tasks"]; got != "3" {
		t.Errorf("pending tasks: got %q, want the 3 waiting in dw-backlog", got)
	}
	// syncwatch's own connection and the worker's are among Redis's clients.
	if got := tiles["redis"].Values["connected_clients"]; got == "" || got == "0" || got == "1" {
		t.Errorf("redis clients: got %q, want at least syncwatch's and the worker's", got)
	}

	stats := browsertest.Eval[map[string]string](t, tab,
		`Object.fromEntries([...document.querySelectorAll("[data-stat]")].map(n => [n.dataset.stat, n.textContent.trim()]))`)
	if stats["completed_today"] != "1" || stats["failed_today"] != "1" || !strings.HasPrefix(stats["success_rate"], "50") {
		t.Errorf("overview cards: got %v, want 1 completed, 1 failed, a 50%% success rate", stats)
	}
	ids := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll("#recent-rows tr[data-id]")].map(r => r.dataset.id)`)
	if len(ids) != 2 {
		t.Errorf("recent syncs: got rows %v, want the database's two", ids)
	}

	// The worker dies: within a few checks the page, left open, says Celery is down.
	workers[0].Kill()
	tab.WaitFor(t, 30*time.Second, status("celery")+` === "unhealthy"`)
	tiles = browsertest.Eval[map[string]tile](t, tab, readTiles)
	if got := tiles["celery"].Values["active_workers"]; got != "0" {
		t.Errorf("active workers after the worker died: got %q, want 0", got)
	}
	for _, name := range []string{"database", "redis"} {
		if st := tiles[name].Status; st == "unhealthy" {
			t.Errorf("a dead worker turned %s red: %+v", name, tiles[name])
		}
	}
	tab.Console.AssertClean(t)
}
