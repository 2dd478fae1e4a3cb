// charts.js: syncwatch's charts over Chart.js. Each chart is created once and then updated
// in place, without animation, so a refresh never re-grows the bars from zero.
//
// Chart.js is the embedded UMD build (vendor/chart.umd.min.js), a classic script that the
// page loads before its modules and that defines window.Chart. It is read at call time,
// so this module can be imported (by Node's tests, or by a page without charts) where
// Chart.js is absent; every function then does nothing, and chartsAvailable says so.
//
// Each canvas sits in a .sw-chart box with a .sw-chart-empty note, shown when a chart has
// nothing to draw ("No runs in these days") or could not be loaded.

import { isNum } from "./format.js";

const Chart = () => (typeof window.Chart === "function" ? window.Chart : null);

/** chartsAvailable tells whether Chart.js loaded. */
export const chartsAvailable = () => Chart() !== null;

/**
 * setupCharts sets what every chart shares (the page's font) and follows the system's
 * light or dark preference, for Bootstrap and the charts; app.css paints the background
 * before this runs, so there is no white flash. It returns whether Chart.js is there.
 */
export function setupCharts() {
  const ok = chartsAvailable();
  if (ok) Chart().defaults.font.family = getComputedStyle(document.body).fontFamily;
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  applyTheme(media.matches);
  media.addEventListener("change", () => applyTheme(media.matches));
  return ok;
}

/** themeColours reads the chart colours of the current theme from app.css. */
export function themeColours() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v("--bs-secondary-color", "#6c757d"),
    grid: v("--bs-border-color-translucent", "rgba(0,0,0,.1)"),
    accent: v("--sw-accent", "#0d6efd"),
    accent2: v("--sw-accent-2", "#6f42c1"),
    good: v("--sw-good", "#198754"),
    surface: v("--bs-body-bg", "#fff"),
  };
}

// Colours of the error types, fixed so a type keeps its colour from one refresh to the
// next whatever its rank.
const TYPE_COLOURS = {
  timeout: "#f59f00", rate_limit: "#fd7e14", authentication: "#d6336c",
  connection: "#7950f2", not_found: "#20c997", validation: "#15aabf",
  database: "#4263eb", configuration: "#ae3ec9", terminated: "#868e96",
  unknown: "#adb5bd", other: "#495057",
};
const EXTRA_COLOURS = ["#0ca678", "#e8590c", "#1c7ed6", "#c2255c", "#5c940d"];

/** errorTypeColours gives each error type its colour; unknown types take spare ones. */
export function errorTypeColours(labels) {
  return labels.map((l, i) => TYPE_COLOURS[l] || EXTRA_COLOURS[i % EXTRA_COLOURS.length]);
}

function baseOptions(col, valueText) {
  return {
    animation: false, // updates in place must not re-grow from zero
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      legend: { display: false },
      tooltip: { callbacks: { label: (ctx) => " " + valueText(ctx.chart.options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y) } },
    },
    scales: {
      x: { ticks: { color: col.text, maxRotation: 0, autoSkipPadding: 8 }, grid: { display: false }, border: { color: col.grid } },
      y: { beginAtZero: true, ticks: { color: col.text, callback: valueText, maxTicksLimit: 5 }, grid: { color: col.grid }, border: { display: false } },
    },
  };
}

/**
 * lineChart draws a trend over days on the canvas with this id; valueText writes the
 * axis's and the tooltip's values, yScale adds to the value axis ({max: 100}).
 */
export function lineChart(id, colour, valueText, yScale) {
  if (!chartsAvailable()) return null;
  const options = baseOptions(themeColours(), valueText);
  Object.assign(options.scales.y, yScale || {});
  return new (Chart())(document.getElementById(id), {
    type: "line",
    data: { labels: [], datasets: [{ data: [], borderColor: colour, backgroundColor: colour, spanGaps: false, pointRadius: 3, pointHoverRadius: 5, borderWidth: 2, tension: 0.25 }] },
    options,
  });
}

/**
 * barChart draws one bar per label, horizontally, so every CRM's name is readable even
 * on a phone; its box takes the height its number of bars needs.
 */
export function barChart(id, colour, valueText) {
  if (!chartsAvailable()) return null;
  const col = themeColours();
  const options = baseOptions(col, valueText);
  options.indexAxis = "y";
  options.scales = {
    x: { beginAtZero: true, ticks: { color: col.text, callback: valueText, maxTicksLimit: 5 }, grid: { color: col.grid }, border: { display: false } },
    y: { ticks: { color: col.text, autoSkip: false }, grid: { display: false }, border: { color: col.grid } },
  };
  return new (Chart())(document.getElementById(id), {
    type: "bar",
    data: { labels: [], datasets: [{ data: [], backgroundColor: colour, borderRadius: 3, barPercentage: 0.75, categoryPercentage: 0.9 }] },
    options,
  });
}

/**
 * doughnutChart draws shares of a whole. It draws no legend of its own: a legend drawn
 * on the canvas is cut at the canvas's edge on a phone, so the page writes its legend
 * in HTML (see section-errors.js), where text wraps.
 */
export function doughnutChart(id, valueText) {
  if (!chartsAvailable()) return null;
  const col = themeColours();
  return new (Chart())(document.getElementById(id), {
    type: "doughnut",
    data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: col.surface, borderWidth: 2 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      cutout: "58%",
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => " " + ctx.label + ": " + valueText(ctx.parsed) } },
      },
    },
  });
}

function fitBars(chart) {
  if (chart.options.indexAxis !== "y") return;
  const n = Math.max(3, chart.data.labels.length);
  const px = 24 * n + 28 + "px";
  const box = chart.canvas.parentNode;
  if (box.style.height !== px) box.style.height = px;
}

/**
 * setSeries replaces a chart's labels and values and redraws it; a series that is empty
 * (or all nulls) shows the chart's "no data" note instead. Values that are not numbers
 * become gaps, never zeros.
 */
export function setSeries(chart, labels, data, colours) {
  if (!chart) return;
  const ds = chart.data.datasets[0];
  chart.data.labels = Array.isArray(labels) ? labels.slice() : [];
  ds.data = Array.isArray(data) ? data.map((v) => (isNum(v) ? v : null)) : [];
  if (colours) ds.backgroundColor = colours;
  fitBars(chart);
  chart.update("none");
  setChartNote(chart.canvas, ds.data.some((v) => v !== null) ? null : "");
}

/**
 * setChartNote shows a note over the chart on canvas (an element or its id): text, or the
 * note's own "no data" text when text is "", or no note when text is null.
 */
export function setChartNote(canvas, text) {
  const node = typeof canvas === "string" ? document.getElementById(canvas) : canvas;
  if (!node) return;
  const note = node.parentNode.querySelector(".sw-chart-empty");
  if (note) {
    if (note.dataset.emptyText === undefined) note.dataset.emptyText = note.textContent;
    const want = text === null ? note.dataset.emptyText : text || note.dataset.emptyText;
    if (note.textContent !== want) note.textContent = want;
    note.hidden = text === null;
  }
  node.classList.toggle("sw-faded", text !== null);
}

/** applyTheme sets Bootstrap's colour mode and recolours every chart on the page. */
export function applyTheme(dark) {
  document.documentElement.dataset.bsTheme = dark ? "dark" : "light";
  if (!chartsAvailable()) return;
  const col = themeColours();
  for (const chart of Object.values(Chart().instances)) {
    const o = chart.options;
    if (o.scales && o.scales.x) {
      for (const axis of [o.scales.x, o.scales.y]) {
        axis.ticks.color = col.text;
        if (axis.grid.display !== false) axis.grid.color = col.grid;
        if (axis.border.display !== false) axis.border.color = col.grid;
      }
    }
    if (chart.config.type === "doughnut") chart.data.datasets[0].borderColor = col.surface;
    chart.update("none");
  }
}
