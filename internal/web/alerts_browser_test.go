package web_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/notify"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
)

// brokenChannel is a channel whose receiver always fails, as a Slack webhook that was
// revoked does.
type brokenChannel struct{}

func (brokenChannel) Kind() string   { return notify.KindSlack }
func (brokenChannel) ID() string     { return notify.KindSlack }
func (brokenChannel) Target() string { return "https://hooks.slack.com" }
func (brokenChannel) Close()         {}
func (brokenChannel) Send(context.Context, notify.Message) error {
	return errors.New("slack https://hooks.slack.com: HTTP 404 Not Found: no_service")
}

// firingEngine is the alerts' engine after one evaluation in which hubspot's contacts
// failed three times, the workers are down, and a <script> hides in a label: its Slack
// channel cannot deliver.
func firingEngine(t *testing.T, now time.Time) *alerts.Engine {
	t.Helper()
	e, err := alerts.New(context.Background(), alerts.Config{Rules: alerts.DefaultRules(),
		Channels: []alerts.Channel{{Channel: brokenChannel{}}}, ExternalURL: "https://syncwatch.example/dw/monitoring/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	s := dashboard.Snapshot{HasFigures: true, At: now, RefreshInterval: 30 * time.Second, StuckAfter: time.Hour}
	s.Health.Celery.Status, s.Health.Celery.Error = health.StatusUnhealthy, "no worker answered"
	msg := "HTTP 429: Too Many Requests for url: https://api.hubapi.com/x?hapikey=***"
	s.Entities = []dashboard.EntityStatus{
		{CRMSource: "hubspot", Name: "HubSpot", SyncType: "contacts", ConsecutiveFailures: 3, LastSuccess: ptr(now.Add(-2 * time.Hour)),
			LastFailure: &dashboard.ErrorEntry{FailedAt: now.Add(-5 * time.Minute), ErrorType: "rate_limit", ErrorMessage: &msg}},
		{CRMSource: "<script>alert(1)</script>", Name: "Evil", SyncType: "x", ConsecutiveFailures: 2, LastSuccess: ptr(now)},
	}
	sub := e.Subscribe()
	defer sub.Close()
	e.Evaluate(s)
	for v := range sub.C() {
		if len(v.Channels) == 1 && v.Channels[0].Failing {
			break
		}
	}
	return e
}

func testAlerts(t *testing.T, b *browsertest.Browser) {
	// With the alerts off, the section is not shown at all.
	off := newSite(t, siteOptions{})
	tab := open(t, b, off.pageURL(), 1366, 900, false)
	if !browsertest.Eval[bool](t, tab, `document.querySelector("#alerts-section").hidden && document.querySelector("#alerts-section").offsetHeight === 0`) {
		t.Error("alerts off: the section is shown")
	}

	now := time.Now().UTC()
	s := newSite(t, siteOptions{alerts: firingEngine(t, now), seed: func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Status: "failed", Start: now.Add(-10 * time.Minute), End: ptr(now.Add(-5 * time.Minute))})
		db.Insert(t, storetest.Row{CRMSource: "genius", Start: now.Add(-10 * time.Minute), End: ptr(now.Add(-5 * time.Minute))})
	}})
	for _, width := range append([]int64{1366}, readableWidths...) {
		tab := open(t, b, s.pageURL(), width, 900, width < 1000)
		type item struct {
			Alert, CRM, Title, Href, Summary string
		}
		items := browsertest.Eval[[]item](t, tab, `[...document.querySelectorAll("#alert-list li[data-alert]")].map(li => ({
			alert: li.dataset.alert, crm: li.dataset.crm, title: li.querySelector(".sw-alert-title").textContent,
			href: li.querySelector("a.sw-alert-title") ? li.querySelector("a.sw-alert-title").href : "",
			summary: li.querySelector(".sw-alert-summary").textContent}))`)
		if len(items) != 2 {
			t.Fatalf("%d px: %d alerts listed, want 2: %+v", width, len(items), items)
		}
		hub := items[0]
		if hub.CRM != "hubspot" || hub.Title != "Sync failing: hubspot · contacts" || !strings.HasSuffix(hub.Href, basePath+"crm/hubspot/") ||
			!strings.HasPrefix(hub.Summary, "HubSpot contacts failed 3 times in a row") {
			t.Errorf("%d px: first alert %+v", width, hub)
		}
		if evil := items[1]; evil.Title != "Sync failing: <script>alert(1)</script> · x" || !strings.Contains(evil.Href, "crm/%3Cscript%3Ealert(1)%3C%2Fscript%3E/") {
			t.Errorf("%d px: hostile alert %+v", width, evil)
		}
		if got := browsertest.Eval[string](t, tab, `document.querySelector("#alert-list [data-channel='slack']").textContent`); !strings.Contains(got, "cannot deliver: slack https://hooks.slack.com: HTTP 404") {
			t.Errorf("%d px: the broken channel says %q", width, got)
		}
		if hint := browsertest.Eval[string](t, tab, `document.querySelector("#alerts-hint").textContent`); hint != "2 firing · 1 pending · 1 channel" {
			t.Errorf("%d px: hint %q", width, hint)
		}
		// The firing CRM is marked in the table; the other is not.
		type row struct {
			Firing bool
			Flag   string
		}
		rows := browsertest.Eval[map[string]row](t, tab, `Object.fromEntries([...document.querySelectorAll("#crm-rows tr[data-source]")].map(tr =>
			[tr.dataset.source, {firing: tr.classList.contains("sw-row-firing"), flag: (tr.querySelector(".sw-firing") || {}).textContent || ""}]))`)
		if r := rows["hubspot"]; !r.Firing || r.Flag != "Alert firing" {
			t.Errorf("%d px: hubspot row %+v", width, r)
		}
		if r := rows["genius"]; r.Firing || r.Flag != "" {
			t.Errorf("%d px: genius row %+v", width, r)
		}
		if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("script:not([src])").length`); n != 1 { // the initial data only
			t.Errorf("%d px: %d inline scripts", width, n)
		}
		checkReadable(t, tab, int(width))
		tab.Console.AssertClean(t)
		// A refresh rebuilds the CRM table: the mark stays.
		if hidden := browsertest.Eval[bool](t, tab, `document.querySelector("#alerts-section").hidden`); hidden {
			t.Errorf("%d px: the alerts section is hidden", width)
		}
		tab.Do(t, 10*time.Second, chromedp.Click(chromedp.ID("refresh-now")))
		tab.WaitFor(t, 10*time.Second, `Number(document.body.dataset.refreshes || 0) >= 1`)
		if !browsertest.Eval[bool](t, tab, `document.querySelector('#crm-rows tr[data-source="hubspot"]').classList.contains("sw-row-firing")`) {
			t.Errorf("%d px: the mark is lost after a refresh", width)
		}
	}
}
