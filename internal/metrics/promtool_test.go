package metrics_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/syncwatch/syncwatch/internal/metrics"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// docs is the folder of the ready-made Prometheus files.
const docs = "../../docs/prometheus"

// fullScrape is a scrape of the fixture with the alert metrics: every metric syncwatch
// serves.
func fullScrape(t *testing.T) []byte {
	t.Helper()
	r := newRig(t, metrics.Config{Alerts: fakeAlerts{
		firing: map[string]int{"sync_failing": 1},
		sent:   map[string]map[string]uint64{"slack": {"success": 1}},
	}})
	r.exporter.Update(fixture())
	return scrape(t, r.exporter.Handler())
}

func TestTheExpositionPassesPromtoolCheckMetrics(t *testing.T) {
	t.Parallel()
	out, err := servicetest.RunPromtool(t, fullScrape(t), "check", "metrics")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestTheAlertRulesPassPromtool(t *testing.T) {
	t.Parallel()
	rules := filepath.Join(docs, "alerts.yml")
	if out, err := servicetest.RunPromtool(t, nil, "check", "rules", rules); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	if out, err := servicetest.RunPromtool(t, nil, "test", "rules", filepath.Join(docs, "alerts_test.yml")); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}

// Every rule is tested: fires (a non-empty exp_alerts) and resolves (an empty one).
func TestEveryAlertRuleIsTestedFiringAndResolved(t *testing.T) {
	t.Parallel()
	rules := read(t, "alerts.yml")
	tests := read(t, "alerts_test.yml")
	names := regexp.MustCompile(`(?m)^\s*- alert: (\S+)$`).FindAllStringSubmatch(rules, -1)
	if len(names) == 0 {
		t.Fatal("no rules found in alerts.yml")
	}
	// Each alert_rule_test item: "alertname: X" followed by exp_alerts, empty or not.
	items := regexp.MustCompile(`alertname: (\S+)\n\s*exp_alerts:( \[\])?`).FindAllStringSubmatch(tests, -1)
	fires, resolves := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		if it[2] == "" {
			fires[it[1]] = true
		} else {
			resolves[it[1]] = true
		}
	}
	for _, n := range names {
		if !fires[n[1]] || !resolves[n[1]] {
			t.Errorf("rule %s: a test that fires it: %v, that resolves it: %v", n[1], fires[n[1]], resolves[n[1]])
		}
	}
}

func TestTheExampleConfigPassesPromtool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := filepath.Join(dir, "syncwatch.token")
	config := strings.ReplaceAll(read(t, "prometheus.yml"), "/etc/prometheus/syncwatch.token", token)
	for name, content := range map[string]string{
		"prometheus.yml": config, "syncwatch.token": "a-token-of-sixteen-chars\n", "alerts.yml": read(t, "alerts.yml"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := servicetest.RunPromtool(t, nil, "check", "config", filepath.Join(dir, "prometheus.yml")); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

// The rules name only metrics that syncwatch serves (or Prometheus' own up).
func TestTheRulesUseOnlyServedMetrics(t *testing.T) {
	t.Parallel()
	served := servedNames(t)
	exprs := regexp.MustCompile(`(?s)expr: (.*?)\n\s*(?:for|labels):`).FindAllStringSubmatch(read(t, "alerts.yml"), -1)
	var text strings.Builder
	for _, e := range exprs {
		text.WriteString(e[1] + "\n")
	}
	if len(exprs) < 8 {
		t.Fatalf("found %d expressions in alerts.yml", len(exprs))
	}
	for _, name := range metricNames(text.String()) {
		if !served[name] {
			t.Errorf("alerts.yml uses %s, which syncwatch does not serve", name)
		}
	}
}

// servedNames are the series names of a full scrape, histograms' included.
func servedNames(t *testing.T) map[string]bool {
	t.Helper()
	served := map[string]bool{"up": true}
	for s := range samples(t, fullScrape(t), false) {
		name, _, _ := strings.Cut(s, "{")
		served[name] = true
	}
	return served
}

var metricName = regexp.MustCompile(`\bsyncwatch_[a-z0-9_]+`)

func metricNames(text string) []string {
	names := metricName.FindAllString(text, -1)
	slices.Sort(names)
	return slices.Compact(names)
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docs, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grafanaDashboard is what the tests read of docs/prometheus/grafana-dashboard.json.
type grafanaDashboard struct {
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			Expr       string `json:"expr"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

// The Grafana dashboard is well formed, its panels do not overlap, and its queries use
// only metrics syncwatch serves. (That each query is valid PromQL with data behind it is
// checked against a real Prometheus in cmd/syncwatch's TestPrometheusScrapesSyncwatch.)
func TestTheGrafanaDashboardUsesOnlyServedMetrics(t *testing.T) {
	t.Parallel()
	var d grafanaDashboard
	dec := json.NewDecoder(strings.NewReader(read(t, "grafana-dashboard.json")))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if d.UID == "" || d.SchemaVersion == 0 || len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("uid %q, schemaVersion %d, inputs %+v: want an importable dashboard with one Prometheus input", d.UID, d.SchemaVersion, d.Inputs)
	}
	served := servedNames(t)
	var exprs []string
	for _, v := range d.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	cells := map[[2]int]string{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d is not unique", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d queries", p.Title, p.Datasource.UID, len(p.Targets))
		}
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q: gridPos %+v outside the 24 columns", p.Title, p.GridPos)
		}
		for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
			for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Fatalf("panels %q and %q overlap", other, p.Title)
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
		for _, target := range p.Targets {
			if target.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q: a query on datasource %q", p.Title, target.Datasource.UID)
			}
			exprs = append(exprs, target.Expr)
		}
	}
	for _, name := range metricNames(strings.Join(exprs, "\n")) {
		if !served[name] {
			t.Errorf("the dashboard uses %s, which syncwatch does not serve", name)
		}
	}
}
