package perf_test

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syncwatch/syncwatch/internal/browsertest"
)

// BenchmarkPageReady measures, in Chromium, how long after navigation the page stands
// with all its figures (the page's script records the moment in data-ready-ms): on a first visit to
// a server that has not computed anything yet, and on a visit served from memory.
func BenchmarkPageReady(b *testing.B) {
	newServer := coldServers(b)
	newSite := func() *httptest.Server {
		_, h := newServer()
		s := httptest.NewServer(h)
		b.Cleanup(s.Close)
		return s
	}
	browser := browsertest.New(b)
	tab := browser.NewTab(b)
	ready := func(site *httptest.Server) float64 {
		tab.Do(b, 30*time.Second, chromedp.Navigate(site.URL+"/ingestion/monitoring/"))
		tab.WaitFor(b, 30*time.Second, `document.body.dataset.readyMs`)
		ms, err := strconv.ParseFloat(browsertest.Eval[string](b, tab, `document.body.dataset.readyMs`), 64)
		if err != nil {
			b.Fatal(err)
		}
		return ms
	}
	b.Run("first-visit", func(b *testing.B) {
		var total float64
		for b.Loop() {
			total += ready(newSite())
		}
		b.ReportMetric(total/float64(b.N), "ready-ms")
	})
	b.Run("cached", func(b *testing.B) {
		site := newSite()
		ready(site)
		var total float64
		for b.Loop() {
			total += ready(site)
		}
		b.ReportMetric(total/float64(b.N), "ready-ms")
	})
	tab.Console.AssertClean(b)
}
