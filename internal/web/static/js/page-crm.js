// page-crm.js: the entry point of a CRM's page (crm/<source>/, api/crms/<source>/): its
// status, one row per entity with its figures and marks, what runs now against each
// entity's own durations, its charts over 7, 30 or 90 days, and its recent failures.
// Every figure is defined in docs/api.md; null is shown as "—".

import { fmtCompact, fmtDuration, fmtInt, fmtPercent, isNum } from "./format.js";
import { byId, el, emptyRow, icon, labelled, nullMark, timeEl } from "./dom.js";
import { createMessages, noMessage, numCell, statusBadge } from "./widgets.js";
import { runStatus } from "./statuses.js";
import { lineChart, setSeries, setStacks, setupCharts, stackedBarChart, themeColours } from "./charts.js";
import { crmAPI, historyURL, runURL } from "./links.js";
import { REFRESH_MS, ROOT, keepCurrent, link, readInitial, setCrumbs } from "./drill.js";
import { firingByCRM } from "./section-alerts.js";
import { fetchJSON } from "./api.js";

const body = document.body;
const SOURCE = body.dataset.source;
const COLUMNS = 10;
const DAYS = [7, 30, 90];
const OTHER = "(other)";

function daysFromURL() {
  const d = Number(new URLSearchParams(location.search).get("days"));
  return DAYS.includes(d) ? d : 7;
}

let days = daysFromURL();
const messages = createMessages();

function flag(tone, iconName, text, title) {
  return el("span", { className: "sw-flag sw-tone-" + tone, title }, icon(iconName), text);
}

function fact(label, ...value) {
  return el("div", { className: "sw-fact" }, el("span", { className: "sw-fact-label" }, label), el("span", { className: "sw-fact-value" }, ...value));
}

function renderHeader(r) {
  const c = r.crm || {};
  byId("crm-title").textContent = c.name || c.source || SOURCE;
  document.title = (c.name || SOURCE) + " · Sync monitoring · syncwatch";
  setCrumbs([{ text: c.name || SOURCE }]);
  const running = [];
  if (c.running > 0) running.push(fmtInt(c.running) + " running");
  byId("crm-facts").replaceChildren(
    fact("Status", statusBadge(runStatus(c.status, false))),
    fact("Last success", c.last_success ? timeEl(c.last_success) : nullMark("never")),
    fact("Next run", c.next_sync ? timeEl(c.next_sync) : nullMark("not scheduled"),
      c.overdue ? flag("warning", "clock", "Overdue") : null),
    fact("Running", c.running > 0 ? fmtInt(c.running) : "none",
      c.stuck > 0 ? flag("danger", "warn", c.stuck + " stuck", "Running longer than the stuck threshold: it will not finish by itself.") : null),
  );
  byId("crm-quiet").hidden = r.seen_in_30_days !== false;
  byId("crm-links").replaceChildren(
    link(historyURL(ROOT, { crm: [SOURCE] }), "All its runs in the history"),
    link(historyURL(ROOT, { crm: [SOURCE], status: ["failed"] }), "Its failures"),
    link(ROOT + "api/crms/" + encodeURIComponent(SOURCE) + "/?days=" + days, "JSON"),
  );
  byId("crm-failures-all").setAttribute("href", historyURL(ROOT, { crm: [SOURCE], status: ["failed"] }));
}

// showAlerts names the CRM's firing alerts under its facts (api/alerts/, which the
// overview's alerts section reads too); with the alerts off, or unreadable, it says
// nothing.
async function showAlerts() {
  let answer = null;
  try {
    answer = await fetchJSON(ROOT + "api/alerts/");
  } catch (err) {
    answer = null;
  }
  const node = byId("crm-alerts");
  node.hidden = !(answer && answer.enabled);
  node.dataset.checked = "1";
  if (node.hidden) return;
  const titles = firingByCRM(answer).get(SOURCE) || [];
  node.dataset.firing = String(titles.length);
  node.replaceChildren(el("span", { className: "sw-fact-label" }, "Alerts"),
    ...(titles.length
      ? titles.map((t) => link(ROOT + "#alerts-section", el("span", { className: "sw-flag sw-tone-danger" }, icon("warn"), t), "sw-alert-link"))
      : [el("span", { className: "sw-sub-inline" }, "none firing")]));
}

function marks(e) {
  const m = e.marks || {};
  const out = [];
  if (m.slow) out.push(flag("warning", "clock", "Slow", "A run in progress has taken longer than this entity's p95 of the last 30 days."));
  if (m.empty_runs) {
    out.push(flag("warning", "bang", "Empty runs",
      "Its latest successful runs processed 0 records; before them it processed a median of " + fmtInt(m.empty_runs_median) + "."));
  }
  if (m.failure_streak) out.push(flag("danger", "cross", e.consecutive_failures + " failures in a row"));
  return out.length ? el("div", { className: "sw-marks" }, out) : null;
}

function pair(a, b, fmt) {
  return el("span", null, isNum(a) ? fmt(a) : nullMark(), " / ", isNum(b) ? fmt(b) : nullMark());
}

function entityRow(e) {
  const filters = { crm: [SOURCE], sync_type: e.sync_type };
  const last = e.last_run || {};
  const tr = el("tr", { dataset: { syncType: e.sync_type, status: last.status || "" } });
  if ((e.marks || {}).failure_streak) tr.classList.add("sw-row-alert");
  tr.append(
    el("th", { attrs: { scope: "row" } },
      link(historyURL(ROOT, filters), e.sync_type, "sw-crm-name"), marks(e)),
    el("td", { dataset: { field: "last_run", label: "Last run" } },
      link(runURL(ROOT, last.id), statusBadge(runStatus(last.status, false)), "sw-run-link"),
      el("div", { className: "sw-sub" }, timeEl(last.start_time))),
    el("td", { dataset: { field: "last_success", label: "Last success" } },
      e.last_success ? timeEl(e.last_success) : nullMark("none in 30 days")),
    labelled(numCell("runs_7d", e.runs_7d), "Runs 7\u00a0d"),
    el("td", { className: "text-end sw-num", dataset: { field: "success_rate_7d", value: isNum(e.success_rate_7d) ? e.success_rate_7d : "", label: "Success 7\u00a0d" } },
      isNum(e.success_rate_7d) ? fmtPercent(e.success_rate_7d) : nullMark()),
    el("td", { className: "text-end sw-num", dataset: { field: "failed_7d", value: e.failed_7d, label: "Failed 7\u00a0d" } },
      e.failed_7d > 0 ? link(historyURL(ROOT, { ...filters, status: ["failed"] }), fmtInt(e.failed_7d)) : fmtInt(e.failed_7d)),
    el("td", { className: "text-end sw-num", dataset: { field: "duration", value: [e.duration_p50, e.duration_p95].join("/"), label: "p50 / p95" } },
      pair(e.duration_p50, e.duration_p95, fmtDuration),
      e.duration_runs > 0 ? el("div", { className: "sw-sub" }, fmtInt(e.duration_runs) + " runs") : null),
    el("td", { className: "text-end sw-num", dataset: { field: "records", value: [e.records_last, e.records_median_30d].join("/"), label: "Records / median" } },
      pair(e.records_last, e.records_median_30d, fmtInt)),
    el("td", { className: "text-end sw-num", dataset: { field: "consecutive_failures", value: e.consecutive_failures, label: "Failed in a row" } },
      fmtInt(e.consecutive_failures)),
    el("td", { dataset: { field: "next_run", label: "Next run" } },
      e.next_run ? timeEl(e.next_run) : nullMark("not scheduled"),
      e.overdue ? flag("warning", "clock", "Overdue") : null),
  );
  return tr;
}

function runningItem(run) {
  const against = isNum(run.duration_p95)
    ? "its p95 is " + fmtDuration(run.duration_p95) + " over " + fmtInt(run.duration_runs) + " runs"
    : "no finished run to compare with";
  return el("li", { className: "list-group-item sw-running-item", dataset: { id: run.id, slow: run.slow, stuck: run.stuck } },
    el("div", { className: "sw-error-head" },
      statusBadge(runStatus("running", run.stuck)),
      link(runURL(ROOT, run.id), run.sync_type, "sw-crm-name"),
      el("span", { className: "sw-sub-inline" }, "running for ", fmtDuration(run.elapsed_seconds)),
      run.slow ? flag("warning", "clock", "Slow") : null),
    el("div", { className: "sw-sub" }, "started ", timeEl(run.start_time), " · ", against));
}

function failureItem(f) {
  return el("li", { className: "list-group-item sw-error-item", dataset: { id: f.id } },
    el("div", { className: "sw-error-head" },
      el("span", { className: "sw-status sw-tone-danger" }, icon("cross")),
      link(runURL(ROOT, f.id), f.sync_type, "sw-crm-name"),
      link(historyURL(ROOT, { crm: [SOURCE], error_type: f.error_type }), f.error_type, "sw-type"),
      el("span", { className: "sw-error-time" }, timeEl(f.failed_at, "clock"))),
    typeof f.error_message === "string" && f.error_message !== ""
      ? messages.details("failure-" + f.id, f.error_message, null)
      : noMessage());
}

function legend(series, colours) {
  return series.map((s, i) => {
    const swatch = el("span", { className: "sw-swatch", attrs: { "aria-hidden": "true" } });
    swatch.style.backgroundColor = colours[i];
    return el("li", { dataset: { series: s.name } }, swatch, el("span", { className: "sw-legend-label" }, s.name));
  });
}

function start() {
  setupCharts();
  const col = themeColours();
  const charts = {
    duration: stackedBarChart("chart-entity-duration", fmtDuration),
    records: lineChart("chart-crm-records", col.accent, fmtCompact),
    rate: lineChart("chart-crm-rate", col.good, fmtPercent, { max: 100 }),
  };

  function render(r) {
    renderHeader(r);
    const entities = r.entities || [];
    byId("entity-rows").replaceChildren(...(entities.length === 0
      ? [emptyRow(COLUMNS, "No entity of this CRM ran in the last 30 days.")]
      : entities.map(entityRow)));
    const running = r.running || [];
    byId("running-section").hidden = running.length === 0;
    byId("running-list").replaceChildren(...running.map(runningItem));
    const failures = r.recent_failures || [];
    messages.keepFocus(() => byId("crm-failure-list").replaceChildren(...(failures.length === 0
      ? [el("li", { className: "list-group-item sw-empty-row" }, icon("check"), " No failure in the last 30 days.")]
      : failures.map(failureItem))));

    const c = r.charts || {};
    const series = c.duration_by_entity || [];
    const colours = setStacks(charts.duration, c.labels, series, OTHER);
    byId("entity-legend").replaceChildren(...legend(series, colours));
    setSeries(charts.records, c.labels, c.records);
    setSeries(charts.rate, c.labels, c.success_rate);
    for (const b of byId("days-buttons").querySelectorAll("button")) {
      const on = Number(b.dataset.days) === (isNum(c.days) ? c.days : days);
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", String(on));
    }
    byId("crm-charts-hint").textContent = isNum(c.days)
      ? "by the day runs started, last " + c.days + " days (" + (c.time_zone || "UTC") + ")" : "";
  }

  const initial = readInitial();
  const page = keepCurrent({
    initial: initial && initial.charts && initial.charts.days === days ? initial : null,
    url: () => crmAPI(ROOT, SOURCE, days),
    render,
    intervalMs: REFRESH_MS,
    unavailable: (reason) => {
      byId("entity-rows").replaceChildren(emptyRow(COLUMNS, "No figures: " + reason, "sw-unavailable"));
      byId("crm-failure-list").replaceChildren(el("li", { className: "list-group-item sw-empty-row sw-unavailable" }, "No failures: " + reason));
    },
  });
  byId("days-buttons").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-days]");
    if (!b) return;
    days = Number(b.dataset.days);
    const url = new URL(location.href);
    if (days === 7) url.searchParams.delete("days");
    else url.searchParams.set("days", String(days));
    history.pushState({ days }, "", url);
    page.reload();
  });
  window.addEventListener("popstate", () => {
    days = daysFromURL();
    page.reload();
  });
  showAlerts();
  setInterval(() => {
    if (!document.hidden) showAlerts();
  }, REFRESH_MS);
}

start();
