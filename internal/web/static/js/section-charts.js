// section-charts.js: the dashboard's performance charts (api/performance-charts/): mean
// duration and success rate per day, records processed and runs per CRM.

import { fmtCompact, fmtDuration, fmtInt, fmtPercent, isNum } from "./format.js";
import { byId } from "./dom.js";
import { barChart, lineChart, setChartNote, setSeries, themeColours } from "./charts.js";
import { unavailableText } from "./freshness.js";

// Each chart: its canvas, the answer's series, and how it is drawn.
const CHARTS = [
  { id: "chart-duration", series: "sync_duration_trend", make: (col) => lineChart("chart-duration", col.accent, fmtDuration) },
  { id: "chart-rate", series: "success_rate_trend", make: (col) => lineChart("chart-rate", col.good, fmtPercent, { max: 100 }) },
  { id: "chart-records", series: "records_by_crm", make: (col) => barChart("chart-records", col.accent, fmtCompact) },
  { id: "chart-frequency", series: "sync_frequency", make: (col) => barChart("chart-frequency", col.accent2, fmtInt) },
];

/** chartsSection draws the performance charts; call it after charts.setupCharts. */
export function chartsSection() {
  const col = themeColours();
  const charts = CHARTS.map((c) => ({ ...c, chart: c.make(col) }));

  function render(resp) {
    const r = resp || {};
    for (const c of charts) {
      const s = r[c.series] || { labels: [], data: [] };
      setSeries(c.chart, s.labels, s.data);
    }
    if (isNum(r.days)) {
      const zone = r.time_zone && r.time_zone !== "UTC" ? r.time_zone : "UTC";
      byId("charts-hint").textContent = "last " + r.days + " days (" + zone + ")";
    }
  }

  function unavailable(reason) {
    for (const c of charts) setChartNote(c.id, unavailableText("this chart", reason));
  }

  return { render, unavailable };
}
