// section-crms.js: the dashboard's CRM sync status table (api/crm-status/): one row per
// CRM with its status, last sync and success, next scheduled run and last run's figures.

import { DASH, fmtExact, fmtSpan, parseTime } from "./format.js";
import { byId, el, emptyRow, icon, labelled, nullMark, timeEl } from "./dom.js";
import { durationCell, numCell, statusBadge } from "./widgets.js";
import { runStatus } from "./statuses.js";
import { unavailableText } from "./freshness.js";
import { crmURL } from "./links.js";

// A CRM with rows whose last success is older than this (or that never succeeded) is
// marked "no success for …": a day covers every schedule the warehouse uses (hourly to
// daily), so a CRM past it has missed at least one whole cycle.
const NO_SUCCESS_MS = 24 * 3600 * 1000;
const COLUMNS = 9;

/**
 * noSuccessFor is how long a CRM with rows has gone without a success (ms), or null when
 * it succeeded within NO_SUCCESS_MS or has no rows at all. Infinity: never succeeded.
 */
export function noSuccessFor(c, now) {
  if (c.status === "never") return null;
  const last = parseTime(c.last_success);
  if (!last) return Infinity;
  const gap = now - last.getTime();
  return gap > NO_SUCCESS_MS ? gap : null;
}

/** scheduleSummary lists a CRM's schedules, for the hover text of its next sync. */
export function scheduleSummary(schedules) {
  return schedules.map((s) => {
    const parts = [s.name + (s.mode ? " (" + s.mode + ")" : "") + ": " + (s.recurrence || "")];
    if (s.state && s.state !== "enabled") parts.push(s.state);
    const next = parseTime(s.next_run);
    if (next) parts.push("next " + fmtExact(next));
    if (s.overdue) parts.push("overdue");
    if (s.note) parts.push(s.note);
    return parts.join(" · ");
  }).join("\n");
}

function statusCell(c) {
  const wrap = el("div", { className: "sw-status-stack" });
  wrap.append(statusBadge(runStatus(c.status, false)));
  if (c.running > 0 && c.status !== "running") wrap.append(statusBadge(runStatus("running", false)));
  if (c.running > 1) wrap.append(el("span", { className: "sw-sub" }, c.running + " running"));
  if (c.stuck > 0) {
    wrap.append(el("span", { className: "sw-flag sw-tone-danger", title: "A run has been going longer than the stuck threshold; it will not finish by itself." },
      icon("warn"), c.stuck + " stuck"));
  }
  return wrap;
}

function lastSyncCell(c) {
  if (c.status === "running" && !c.last_sync) {
    return el("span", { className: "sw-sub-inline" }, "started ", timeEl(c.last_start));
  }
  return timeEl(c.last_sync);
}

function lastSuccessCell(c, gap) {
  if (c.status === "never") return nullMark();
  if (gap === null) return timeEl(c.last_success);
  const label = gap === Infinity ? "Never succeeded" : "No success for " + fmtSpan(gap);
  return el("div", { className: "sw-no-success" },
    el("span", { className: "sw-flag sw-tone-danger" }, icon("warn"), label),
    c.last_success ? el("div", { className: "sw-sub" }, "last ", timeEl(c.last_success)) : null);
}

/**
 * noNextRunLabel says why a CRM has no next run: its schedules are all disabled (a CRM
 * configured but inactive), ended or not started yet, or their next run is unknown (a
 * schedule's note says why); "not scheduled" without any schedule.
 */
export function noNextRunLabel(schedules) {
  if (!schedules.length) return "not scheduled";
  const states = new Set(schedules.map((s) => s.state));
  if (states.size === 1) {
    const only = [...states][0];
    if (only === "disabled") return "disabled";
    if (only === "ended") return "ended";
    if (only === "not_started") return "not started";
  }
  return "unknown";
}

function nextSyncCell(c) {
  const schedules = Array.isArray(c.schedules) ? c.schedules : [];
  const wrap = el("div", { className: "sw-next", title: scheduleSummary(schedules) });
  const next = parseTime(c.next_sync);
  // A next run already past is due: beat sends it at its next tick.
  if (next && next.getTime() < Date.now()) wrap.append(el("span", { className: "sw-sub-inline" }, "due ", timeEl(c.next_sync)));
  else if (next) wrap.append(timeEl(c.next_sync));
  else wrap.append(nullMark(noNextRunLabel(schedules)));
  if (c.overdue) {
    wrap.append(el("span", { className: "sw-flag sw-tone-warning" }, icon("clock"), "Overdue"));
  }
  const invalid = schedules.filter((s) => s.invalid);
  if (invalid.length > 0) {
    wrap.append(el("span", { className: "sw-flag sw-tone-danger", title: invalid.map((s) => s.name + ": " + s.invalid).join("\n") },
      icon("warn"), invalid.length === 1 ? "Invalid schedule" : invalid.length + " invalid schedules"));
  }
  return wrap;
}

function crmRow(c, now) {
  const gap = noSuccessFor(c, now);
  const tr = el("tr", { dataset: { source: c.source, status: c.status } });
  if (gap !== null) tr.classList.add("sw-row-alert");
  if (c.status === "never") tr.classList.add("sw-row-quiet");
  tr.append(
    el("th", { attrs: { scope: "row" } },
      el("a", { className: "sw-crm-name sw-crm-link", attrs: { href: crmURL("", c.source) } }, c.name || c.source),
      c.sync_type ? el("div", { className: "sw-sub" }, c.sync_type) : null),
    el("td", { className: "sw-c-status" }, statusCell(c)),
    el("td", { dataset: { field: "last_sync", label: "Last sync" } }, lastSyncCell(c)),
    el("td", { dataset: { field: "last_success", label: "Last success" } }, lastSuccessCell(c, gap)),
    el("td", { dataset: { field: "next_sync", label: "Next sync" } }, nextSyncCell(c)),
    labelled(numCell("records_processed", c.records_processed), "Processed"),
    labelled(numCell("records_created", c.records_created), "Created"),
    labelled(numCell("records_updated", c.records_updated), "Updated"),
    labelled(durationCell(c.duration_seconds, c.records_per_second), "Duration"),
  );
  return tr;
}

/** crmSection fills the CRM table (#crm-rows) and its hint (#crm-hint). */
export function crmSection() {
  function render(resp) {
    const crms = (resp && resp.crms) || [];
    const now = Date.now();
    byId("crm-rows").replaceChildren(...(crms.length === 0
      ? [emptyRow(COLUMNS, "No CRM has synced yet.")]
      : crms.map((c) => crmRow(c, now))));
    const alerts = crms.filter((c) => noSuccessFor(c, now) !== null).length;
    byId("crm-hint").textContent = alerts > 0
      ? alerts + (alerts === 1 ? " CRM has" : " CRMs have") + " not succeeded in 24 h"
      : crms.length + " CRMs";
  }

  function unavailable(reason) {
    byId("crm-rows").replaceChildren(emptyRow(COLUMNS, unavailableText("CRM status", reason), "sw-unavailable"));
    byId("crm-hint").textContent = DASH;
  }

  return { render, unavailable };
}
