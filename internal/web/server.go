// Package web serves the dashboard over HTTP: the page, its static files and the JSON API
// under one base path, plus /healthz and /readyz for orchestrators. It only encodes and
// serves; the figures come from the dashboard package.
package web

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// Figures is what the server serves: the dashboard's answers, already encoded in JSON
// (the same bytes for every viewer between two refreshes), and the health. The
// dashboard package's Dashboard is the one implementation; tests use a fake.
type Figures interface {
	StatsJSON(ctx context.Context) ([]byte, error)
	CRMStatusJSON(ctx context.Context) ([]byte, error)
	RecentSyncsJSON(ctx context.Context, q dashboard.RecentQuery) ([]byte, error)
	ChartsJSON(ctx context.Context, days int) ([]byte, error)
	ErrorsJSON(ctx context.Context, days int) ([]byte, error)
	// SystemHealth answers from the latest background checks, without waiting.
	SystemHealth() dashboard.SystemHealthResponse
	// CheckHealthNow runs the checks now (coalesced), waiting at most their timeout.
	CheckHealthNow(ctx context.Context) dashboard.SystemHealthResponse
	// RefreshInterval is how often the figures change, and the page refreshes.
	RefreshInterval() time.Duration
	// DefaultDays is the number of days the page shows.
	DefaultDays() int
}

// Drilldown is what the drill-down pages serve: a CRM's page, the history and one run,
// encoded in JSON (the same bytes for every viewer of the same figures), and the history
// as CSV, streamed. The dashboard package's Dashboard is the one implementation; tests use
// a fake. Each answer is dashboard.ErrNotFound for a CRM or run that does not exist.
type Drilldown interface {
	CRMJSON(ctx context.Context, source string, days int) ([]byte, error)
	HistoryJSON(ctx context.Context, q dashboard.HistoryQuery) ([]byte, error)
	RunDetailJSON(ctx context.Context, id int64) ([]byte, error)
	// ExportHistoryCSV writes the history as CSV to w, calling flush after each batch;
	// an error before anything was written leaves w untouched (dashboard.ErrBusy when
	// too many exports run).
	ExportHistoryCSV(ctx context.Context, w io.Writer, flush func(), q dashboard.HistoryQuery) error
}

// Alerts is what the server shows of the alerts: what fires, what resolved, and how
// each channel is doing, already encoded in JSON (the same bytes for every viewer until
// something changes). The alerts package's Engine is the one implementation.
type Alerts interface {
	AlertsJSON() []byte
}

// Config is what the server needs.
type Config struct {
	// BasePath is where the page and the API live, with a slash at each end (default
	// /ingestion/monitoring/).
	BasePath string
	Figures  Figures
	// Drilldown serves the pages of one CRM, the history and one run; nil leaves them
	// out.
	Drilldown Drilldown
	// Alerts answers api/alerts/; nil when the alerts are off.
	Alerts Alerts
	// Ready reports whether the data source can be reached, for /readyz.
	Ready   func(ctx context.Context) error
	Version string
	Logger  *slog.Logger
	// Auth, when set, guards everything but /healthz and /readyz.
	Auth *Auth
	// Metrics, when set, serves Prometheus' scrapes at /metrics and under the base path
	// (internal/metrics), behind the same Auth as the rest.
	Metrics http.Handler
}

// Server is the HTTP handler of syncwatch.
type Server struct {
	cfg  Config
	mux  *http.ServeMux
	page *template.Template
	// drill is the template of the drill-down's pages.
	drill  *template.Template
	static *staticFiles
	// notReady remembers whether /readyz last answered 503, so that only changes are
	// logged, not every probe of an orchestrator during an outage.
	notReady atomic.Bool
}

// NewServer builds the handler and its routes.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Figures == nil {
		return nil, errors.New("web: no figures to serve")
	}
	base, err := normalizeBasePath(cfg.BasePath)
	if err != nil {
		return nil, err
	}
	cfg.BasePath = base
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	static, err := loadStatic()
	if err != nil {
		return nil, err
	}
	page, err := parsePage(static)
	if err != nil {
		return nil, err
	}
	drill, err := parseDrillPage(static)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), page: page, drill: drill, static: static}
	s.routes()
	return s, nil
}

// normalizeBasePath makes sure the base path starts and ends with a slash.
func normalizeBasePath(p string) (string, error) {
	if p == "" {
		return "/ingestion/monitoring/", nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if strings.ContainsAny(p, "{}?#* ") || strings.Contains(p, "//") {
		return "", errors.New("web: base path must be a plain URL path such as /ingestion/monitoring/")
	}
	return p, nil
}

// BasePath is where the page and the API are served, normalized (a slash at each end).
func (s *Server) BasePath() string { return s.cfg.BasePath }

// ServeHTTP implements http.Handler, with the headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	securityHeaders(w.Header())
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if s.cfg.Auth != nil && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		s.cfg.Auth.require(s.mux).ServeHTTP(rec, r)
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	s.cfg.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
		"took", time.Since(start))
}

// securityHeaders sets a strict Content-Security-Policy: everything from this origin, no
// inline script or style, no framing, no plugins.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "+
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap gives http.ResponseController the writer underneath, so that a handler can
// flush a streamed answer (the CSV export) through the recorder.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
