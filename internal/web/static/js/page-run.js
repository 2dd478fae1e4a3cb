// page-run.js: the entry point of one run's page (runs/<id>/, api/runs/<id>/): every
// column of its row as the table holds it (the JSON columns formatted), its error message
// whole, its duration against its entity's own, and the runs of its entity before and
// after it. Everything from the API goes in as text.

import { fmtDuration, fmtExact, fmtInt, isNum, parseTime } from "./format.js";
import { byId, el, icon, nullMark, timeEl } from "./dom.js";
import { statusBadge } from "./widgets.js";
import { runStatus } from "./statuses.js";
import { crmURL, historyURL, runAPI, runURL } from "./links.js";
import { REFRESH_MS, ROOT, keepCurrent, link, readInitial, setCrumbs } from "./drill.js";

const ID = document.body.dataset.runId;

function fact(label, ...value) {
  return el("div", { className: "sw-fact" }, el("span", { className: "sw-fact-label" }, label), el("span", { className: "sw-fact-value" }, ...value));
}

function neighbour(ref, label) {
  if (!ref) return el("span", { className: "sw-null" }, label === "previous" ? "first run of its entity" : "latest run of its entity");
  return link(runURL(ROOT, ref.id), el("span", null, label === "previous" ? "← previous run " : "next run → ",
    statusBadge(runStatus(ref.status, false)), " ", timeEl(ref.start_time)), "sw-neighbour");
}

// The columns in the table's order; each shown as text, a time, a number, or JSON.
function columnValue(run, name) {
  switch (name) {
    case "status":
      return el("span", null, run.raw_status, run.raw_status !== run.status ? el("span", { className: "sw-sub-inline" }, " (read as " + run.status + ")") : null);
    case "start_time": case "end_time": case "created_at": {
      const d = parseTime(run[name]);
      return d ? el("span", null, fmtExact(d), " ", el("span", { className: "sw-sub-inline" }, run[name])) : nullMark("NULL");
    }
    case "error_message":
      return run.error_message === null ? nullMark("NULL") : el("span", { className: "sw-sub-inline" }, "shown below");
    case "configuration": case "performance_metrics":
      return run[name] === null ? nullMark("NULL") : el("pre", { className: "sw-pre sw-json", dataset: { column: name } }, run[name]);
    default: {
      const v = run[name];
      if (v === null || v === undefined) return nullMark(v === null ? "NULL" : "—");
      return isNum(v) ? fmtInt(v) : String(v);
    }
  }
}

function durationFigures(r) {
  const run = r.run || {};
  const e = r.entity || {};
  const out = [];
  if (run.status === "running" && isNum(run.elapsed_seconds)) {
    out.push(fact("Running for", fmtDuration(run.elapsed_seconds),
      run.slow ? el("span", { className: "sw-flag sw-tone-warning" }, icon("clock"), "Slow") : null,
      run.stuck ? el("span", { className: "sw-flag sw-tone-danger" }, icon("warn"), "Stuck") : null));
  } else {
    out.push(fact("Duration", isNum(run.duration_seconds) ? fmtDuration(run.duration_seconds) : nullMark("unknown")));
  }
  out.push(fact("Entity's p50", isNum(e.duration_p50) ? fmtDuration(e.duration_p50) : nullMark()));
  out.push(fact("Entity's p95", isNum(e.duration_p95) ? fmtDuration(e.duration_p95) : nullMark()));
  out.push(fact("Over", fmtInt(e.duration_runs || 0) + " successful runs in 30 days"));
  const bar = el("div", { className: "sw-compare" });
  const mine = run.status === "running" ? run.elapsed_seconds : run.duration_seconds;
  if (isNum(mine) && isNum(e.duration_p95) && e.duration_p95 > 0) {
    const scale = Math.max(mine, e.duration_p95) * 1.05;
    const pct = (v) => Math.min(100, (100 * v) / scale) + "%";
    const fill = el("span", { className: "sw-compare-fill" + (mine > e.duration_p95 ? " sw-over" : "") });
    fill.style.width = pct(mine);
    const p50 = el("span", { className: "sw-compare-mark", title: "p50" });
    p50.style.left = pct(e.duration_p50);
    const p95 = el("span", { className: "sw-compare-mark sw-p95", title: "p95" });
    p95.style.left = pct(e.duration_p95);
    bar.append(fill, p50, p95);
    out.push(bar, el("p", { className: "sw-compare-key" },
      "The bar is this run; the grey mark is its entity's p50, the red one its p95."));
  }
  return out;
}

function render(r) {
  const run = r.run || {};
  const name = run.name || run.crm_source;
  setCrumbs([
    { text: name, href: crmURL(ROOT, run.crm_source) },
    { text: run.sync_type, href: historyURL(ROOT, { crm: [run.crm_source], sync_type: run.sync_type }) },
    { text: "Run " + run.id },
  ]);
  document.title = "Run " + run.id + " · " + name + " · syncwatch";
  byId("run-title").textContent = "Run " + run.id;
  byId("run-facts").replaceChildren(
    fact("Status", statusBadge(runStatus(run.status, run.stuck))),
    fact("CRM", link(crmURL(ROOT, run.crm_source), name)),
    fact("Entity", link(historyURL(ROOT, { crm: [run.crm_source], sync_type: run.sync_type }), run.sync_type)),
    fact("Started", timeEl(run.start_time, "clock")),
    fact("Ended", run.end_time ? timeEl(run.end_time, "clock") : nullMark(run.status === "running" ? "still running" : "no end time")),
  );
  byId("run-links").replaceChildren(neighbour(r.previous, "previous"), neighbour(r.next, "next"));
  byId("run-duration-body").replaceChildren(el("div", { className: "sw-facts" }, durationFigures(r)));

  const hasError = typeof run.error_message === "string";
  byId("run-error").hidden = !hasError;
  byId("run-error-text").textContent = hasError ? run.error_message : "";
  const type = byId("run-error-type");
  type.replaceChildren(run.error_type
    ? link(historyURL(ROOT, { error_type: run.error_type }), run.error_type, "sw-type sw-type-link")
    : "");

  const columns = Array.isArray(run.columns) ? run.columns : [];
  const items = [];
  for (const c of columns) items.push(el("dt", null, c), el("dd", { dataset: { column: c } }, columnValue(run, c)));
  for (const c of ["configuration", "performance_metrics"]) {
    if (!columns.includes(c)) items.push(el("dt", null, c), el("dd", { dataset: { column: c } }, nullMark("the table has no such column")));
  }
  byId("run-column-list").replaceChildren(...items);
}

setCrumbs([{ text: "Run " + ID }]);
keepCurrent({
  initial: readInitial(),
  url: () => runAPI(ROOT, ID),
  render,
  // A run in progress changes; a finished one too, rarely (the nightly cleanup).
  intervalMs: REFRESH_MS,
});
