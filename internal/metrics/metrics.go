// Package metrics serves syncwatch's figures to Prometheus: what only syncwatch knows
// about the syncs (each entity's last success, its failures in a row, what is running,
// stuck or overdue, the next runs), the health of PostgreSQL, Redis and Celery, and
// syncwatch's own refreshes, in Prometheus' text format through the ecosystem's own
// library. docs/metrics.md is the contract: every name, label and meaning.
//
// A scrape reads memory only. The exporter subscribes to the dashboard's snapshots and
// turns the newest one into constant metrics once, at the first scrape that sees it;
// every scrape until the next snapshot sends the same metrics, plus the age of the
// figures measured at that moment. A hundred scrapers cost the warehouse nothing: they
// never reach the store.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/feed"
)

// DefaultMaxEntities is the default of Config.MaxEntities.
const DefaultMaxEntities = 500

// Snapshots is where the figures come from: the dashboard (dashboard.Dashboard is one).
type Snapshots interface {
	Subscribe() *feed.Subscription[dashboard.Snapshot]
}

// AlertSource is the alerts engine as the metrics see it. It is optional: without one,
// syncwatch_alerts_firing and syncwatch_notifications_total are absent.
type AlertSource interface {
	// FiringByName counts the alerts firing now, by alertname.
	FiringByName() map[string]int
	// NotificationTotals counts the notifications sent since start: channel → result → count.
	NotificationTotals() map[string]map[string]uint64
}

// Config is what the exporter needs.
type Config struct {
	// Snapshots is the source of the figures and the health; required.
	Snapshots Snapshots
	// Alerts, when set, adds the alert metrics.
	Alerts AlertSource
	// Clock measures the age of the figures at each scrape (default the real clock).
	Clock clock.Clock
	// MaxEntities caps the (crm, sync_type) pairs that get series of their own; the rest
	// are counted under sync_type="other" of their CRM. 0 means DefaultMaxEntities.
	MaxEntities int
	// Logger receives the one line that says the cap was reached, and scrape errors.
	Logger *slog.Logger
}

// Exporter serves the metrics. Close it when done; it runs no goroutine of its own.
type Exporter struct {
	collector *collector
	handler   http.Handler
}

// New builds an exporter on a registry of its own: syncwatch's collector, and the Go and
// process collectors of the library.
func New(cfg Config) (*Exporter, error) {
	if cfg.Snapshots == nil {
		return nil, errors.New("metrics: no snapshots to serve")
	}
	if cfg.MaxEntities < 0 {
		return nil, fmt.Errorf("metrics: the entity cap must be positive, not %d", cfg.MaxEntities)
	}
	if cfg.MaxEntities == 0 {
		cfg.MaxEntities = DefaultMaxEntities
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.Clock = clock.OrReal(cfg.Clock)

	c := newCollector(cfg)
	reg := prometheus.NewRegistry()
	for _, col := range []prometheus.Collector{
		c,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(col); err != nil {
			c.close()
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: errorLog{cfg.Logger},
		// Counts scrape errors as promhttp_metric_handler_errors_total; there should be none.
		Registry: reg,
	})
	return &Exporter{collector: c, handler: h}, nil
}

// Handler serves GET /metrics in the format the scraper asks for (Prometheus' text
// format by default), compressed when it accepts that.
func (e *Exporter) Handler() http.Handler { return e.handler }

// Close stops following the snapshots; scrapes afterwards serve the last one seen.
// Closing twice is harmless.
func (e *Exporter) Close() { e.collector.close() }

// errorLog passes promhttp's errors to the logger.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) { e.l.Error("metrics scrape", "error", fmt.Sprint(v...)) }
