// Package metrics serves syncwatch's figures to Prometheus: what only syncwatch knows
// about the syncs (each entity's last success, its failures in a row, what is running,
// stuck or overdue, the next runs), the health of PostgreSQL, Redis and Celery, and
// syncwatch's own refreshes, in Prometheus' text format through the ecosystem's own
// library. docs/metrics.md is the contract: every name, label and meaning.
//
// A scrape reads memory only. The exporter follows the dashboard's snapshots and turns
// each into constant metrics, encoded, once, in the background (Run). Every scrape until
// the next snapshot copies those bytes, and adds what is measured at that moment (the
// age of the figures, the alerts engine's counts, the Go runtime and the process). A
// hundred scrapers cost the warehouse nothing: they never reach the store; and a scrape
// builds nothing, whatever the number of entities.
package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

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
	// Snapshots is the source of the figures and the health, followed by Run; required.
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

// Exporter serves the metrics. Run keeps them up to date.
type Exporter struct {
	cfg   Config
	descs descs
	// runtime gathers the library's Go and process collectors.
	runtime *prometheus.Registry
	// sub follows the snapshots from New on, so that Run misses none published since.
	sub *feed.Subscription[dashboard.Snapshot]
	// exposed is the exposition of the newest snapshot; nil before the first.
	exposed atomic.Pointer[exposition]

	// gzips are gzip writers kept between scrapes: each holds the compressor's tables.
	gzips sync.Pool

	// mu serializes Update.
	mu sync.Mutex
	// capLogged is set once the cap on entities has been logged.
	capLogged bool
}

// New builds an exporter: syncwatch's metrics, and the library's Go and process
// collectors, on registries of its own.
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
	runtime := prometheus.NewRegistry()
	if err := runtime.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := runtime.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Exporter{cfg: cfg, descs: newDescs(), runtime: runtime, sub: cfg.Snapshots.Subscribe()}, nil
}

// Run follows the snapshots published since New, and Updates the metrics with each,
// until ctx ends or the snapshots do (the dashboard's Run has returned); then it stops
// following them. Building is done here, once per snapshot, so that no scrape waits for
// it; a snapshot that arrives while the previous one is being built replaces any other
// waiting, as the feed does. Call it once.
func (e *Exporter) Run(ctx context.Context) {
	defer e.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-e.sub.C():
			if !ok {
				return
			}
			e.Update(s)
		}
	}
}

// Update makes s the snapshot the metrics are served from. Run calls it; tests may too.
func (e *Exporter) Update(s dashboard.Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.exposed.Store(e.expose(s))
}

// Handler serves GET /metrics in Prometheus' text format (version 0.0.4), which every
// scraper reads, compressed with gzip when the scraper accepts it (Prometheus does). The
// metrics of a snapshot are encoded once; a scrape copies them (see
// docs/performance.md).
func (e *Exporter) Handler() http.Handler { return http.HandlerFunc(e.serve) }

func (e *Exporter) serve(w http.ResponseWriter, r *http.Request) {
	var families []encodedFamily
	live := liveCollector{descs: e.descs, now: e.cfg.Clock.Now(), alerts: e.cfg.Alerts}
	if x := e.exposed.Load(); x != nil {
		families, live.figuresAt = x.families, x.figuresAt
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(live)
	mfs, err := prometheus.Gatherers{e.runtime, reg}.Gather()
	if err != nil {
		// What could be gathered is served: the figures are not lost to, say, a process
		// collector that cannot read /proc.
		e.cfg.Logger.Error("metrics scrape", "error", err)
	}
	families = mergeFamilies(families, encodeFamilies(mfs, e.cfg.Logger))
	h := w.Header()
	h.Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r.Header) {
		size := 0
		for _, f := range families {
			size += len(f.text)
		}
		h.Set("Content-Length", strconv.Itoa(size))
		for _, f := range families {
			if _, err := w.Write(f.text); err != nil {
				return // the scraper went away
			}
		}
		return
	}
	// Prometheus asks for gzip: the text shrinks about 17 times, for about half a
	// millisecond of CPU at the fastest level.
	h.Set("Content-Encoding", "gzip")
	zw, _ := e.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // the level is valid
	} else {
		zw.Reset(w)
	}
	defer e.gzips.Put(zw)
	for _, f := range families {
		if _, err := zw.Write(f.text); err != nil {
			return
		}
	}
	_ = zw.Close() // an error means the scraper went away
}

// acceptsGzip reports whether a request's Accept-Encoding allows gzip.
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
			if !ok {
				return true
			}
			weight, err := strconv.ParseFloat(q, 64)
			return err == nil && weight > 0
		}
	}
	return false
}

// encodedFamily is one metric family in the text format.
type encodedFamily struct {
	name string
	text []byte
}

// encodeFamilies encodes gathered families, sorted by name as Gather returns them.
func encodeFamilies(mfs []*dto.MetricFamily, logger *slog.Logger) []encodedFamily {
	out := make([]encodedFamily, 0, len(mfs))
	for _, mf := range mfs {
		var buf bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			logger.Error("metrics: encode", "metric", mf.GetName(), "error", err)
			continue
		}
		out = append(out, encodedFamily{name: mf.GetName(), text: buf.Bytes()})
	}
	return out
}

// mergeFamilies merges two lists sorted by name, whose names differ, into one.
func mergeFamilies(a, b []encodedFamily) []encodedFamily {
	out := make([]encodedFamily, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].name < b[0].name {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
