package web

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

//go:embed templates
var templateFS embed.FS

// firstPaintTimeout bounds how long the page waits for figures that are not computed yet.
// The dashboard keeps its figures computed, so this only matters on a cold start or when
// the database is slow; past it the page is sent without figures and the page's script fetches them.
const firstPaintTimeout = 3 * time.Second

// pageData is what the page template renders.
//
// The page has no <base> element (the CSP's base-uri 'none' forbids one): it is served only
// at the base path itself, with its trailing slash, so its relative URLs (static/…,
// api/…) resolve under the base path, behind any reverse proxy.
type pageData struct {
	RefreshSeconds int
	Version        string
	DefaultDays    int
	// Initial holds the figures the page paints first, rendered into a JSON script block
	// so the first paint has them without waiting for the API.
	Initial initialData
}

// initialData is the answer of every API endpoint the page reads, under the names the page's script
// gives them, as the API encodes them; an endpoint that failed is null and the page's script
// fetches it.
type initialData struct {
	Stats        json.RawMessage                 `json:"stats"`
	CRMStatus    json.RawMessage                 `json:"crm_status"`
	RecentSyncs  json.RawMessage                 `json:"recent_syncs"`
	Charts       json.RawMessage                 `json:"charts"`
	Errors       json.RawMessage                 `json:"errors"`
	SystemHealth *dashboard.SystemHealthResponse `json:"system_health"`
	Alerts       json.RawMessage                 `json:"alerts"`
}

func parsePage(static *staticFiles) (*template.Template, error) {
	t, err := template.New("page.html").Funcs(template.FuncMap{
		"static":   static.url,
		"preloads": static.preloads,
	}).ParseFS(templateFS, "templates/page.html")
	if err != nil {
		return nil, fmt.Errorf("web: page template: %w", err)
	}
	return t, nil
}

// handlePage serves GET {base}: the dashboard page, with its first figures inside.
func (s *Server) handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), firstPaintTimeout)
		defer cancel()
		data := pageData{
			RefreshSeconds: max(1, int(s.cfg.Figures.RefreshInterval().Round(time.Second).Seconds())),
			Version:        s.cfg.Version,
			DefaultDays:    s.cfg.Figures.DefaultDays(),
			Initial:        s.initialData(ctx),
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := s.page.Execute(w, data); err != nil {
			s.cfg.Logger.Error("render page", "err", err)
		}
	})
}

// initialData asks for every figure the page shows, as the API would answer it with
// default parameters. The figures and the recent runs are two cached computations, so
// they are asked in parallel; a failure leaves its part null, and is not logged here,
// because the page's script asks the API at once and the API answers why.
func (s *Server) initialData(ctx context.Context) initialData {
	f := s.cfg.Figures
	days := f.DefaultDays()
	var in initialData
	ok := func(b []byte, err error) json.RawMessage {
		if err != nil {
			return nil
		}
		return b
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Stats, CRM status, charts and errors all come from the one computation of the
		// default days, so after the first they return at once.
		in.Stats = ok(f.StatsJSON(ctx))
		in.CRMStatus = ok(f.CRMStatusJSON(ctx))
		in.Charts = ok(f.ChartsJSON(ctx, days))
		in.Errors = ok(f.ErrorsJSON(ctx, days))
	})
	wg.Go(func() {
		in.RecentSyncs = ok(f.RecentSyncsJSON(ctx, dashboard.RecentQuery{Limit: dashboard.DefaultRecentLimit}))
	})
	health := f.SystemHealth()
	in.SystemHealth = &health
	in.Alerts = s.alertsJSON(time.Now())
	wg.Wait()
	return in
}

// alertsJSON is api/alerts/'s answer: the alerts' view, or the empty one when they are
// off.
func (s *Server) alertsJSON(now time.Time) []byte {
	if s.cfg.Alerts != nil {
		return s.cfg.Alerts.AlertsJSON()
	}
	b, err := json.Marshal(alertsOff(now))
	if err != nil {
		panic("web: " + err.Error()) // plain types: a bug
	}
	return b
}
