package metrics_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/metrics"
)

// T0 is the moment the hand-made snapshots are computed at.
var T0 = time.Date(2025, time.October, 9, 10, 30, 0, 0, time.UTC)

// rig is an exporter whose snapshots the test hands it (Update), or publishes (Run).
type rig struct {
	snapshots *feed.Feed[dashboard.Snapshot]
	clock     *clock.Fake
	exporter  *metrics.Exporter
	logs      *logBuffer
}

func newRig(t testing.TB, cfg metrics.Config) *rig {
	t.Helper()
	r := &rig{snapshots: &feed.Feed[dashboard.Snapshot]{}, clock: clock.NewFake(T0), logs: &logBuffer{}}
	cfg.Snapshots, cfg.Clock = r.snapshots, r.clock
	cfg.Logger = slog.New(slog.NewTextHandler(r.logs, nil))
	e, err := metrics.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.exporter = e
	return r
}

// scrape serves one scrape as Prometheus asks for it, and returns the body.
func scrape(t testing.TB, h http.Handler) []byte {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("scrape: Content-Type %q, want Prometheus' text format", ct)
	}
	return rec.Body.Bytes()
}

// samples parses an exposition into one value per series, keyed as PromQL writes a
// series (labels by name); histograms become their _bucket, _sum and _count series.
// Only syncwatch's own metrics are kept unless all is set.
func samples(t testing.TB, body []byte, all bool) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not Prometheus' text format: %v\n%s", err, body)
	}
	out := make(map[string]float64)
	for name, f := range families {
		if !all && !strings.HasPrefix(name, "syncwatch_") {
			continue
		}
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					out[series(name+"_bucket", m.GetLabel(), "le", formatBound(b.GetUpperBound()))] = float64(b.GetCumulativeCount())
				}
				out[series(name+"_bucket", m.GetLabel(), "le", "+Inf")] = float64(h.GetSampleCount())
				out[series(name+"_sum", m.GetLabel())] = h.GetSampleSum()
				out[series(name+"_count", m.GetLabel())] = float64(h.GetSampleCount())
			case dto.MetricType_COUNTER:
				out[series(name, m.GetLabel())] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[series(name, m.GetLabel())] = m.GetGauge().GetValue()
			default:
				out[series(name, m.GetLabel())] = m.GetUntyped().GetValue()
			}
		}
	}
	return out
}

func formatBound(b float64) string {
	if math.IsInf(b, 1) {
		return "+Inf"
	}
	return fmt.Sprint(b)
}

// series writes name{a="x",b="y"}, labels sorted by name; extra is one more label pair.
func series(name string, labels []*dto.LabelPair, extra ...string) string {
	var pairs []string
	for _, l := range labels {
		pairs = append(pairs, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	if len(extra) == 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", extra[0], extra[1]))
	}
	slices.Sort(pairs)
	if len(pairs) == 0 {
		return name
	}
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// types returns the TYPE of each syncwatch metric family in an exposition.
func types(t testing.TB, body []byte) map[string]string {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for name, f := range families {
		if strings.HasPrefix(name, "syncwatch_") {
			out[name] = strings.ToLower(f.GetType().String())
		}
	}
	return out
}

func unix(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func ptr[T any](v T) *T { return &v }

// logBuffer collects log lines safely.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var _ io.Writer = (*logBuffer)(nil)
