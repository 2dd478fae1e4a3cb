// section-errors.js: the dashboard's errors (api/errors/): the latest failures with their
// messages, the share of each error type (a doughnut with its legend in HTML), and the
// CRMs that fail most.

import { fmtInt, fmtPercent, isNum } from "./format.js";
import { byId, el, emptyRow, icon, timeEl } from "./dom.js";
import { numCell, noMessage } from "./widgets.js";
import { doughnutChart, errorTypeColours, setChartNote, setSeries } from "./charts.js";
import { unavailableText } from "./freshness.js";
import { crmURL, historyURL, runURL } from "./links.js";

function errorItem(e, messages) {
  const msg = typeof e.error_message === "string" && e.error_message !== ""
    ? messages.details("error-" + e.id, e.error_message, null)
    : noMessage();
  return el("li", { className: "list-group-item sw-error-item", dataset: { id: e.id } },
    el("div", { className: "sw-error-head" },
      el("span", { className: "sw-status sw-tone-danger" }, icon("cross")),
      el("a", { className: "sw-crm-name sw-crm-link", attrs: { href: crmURL("", e.crm_source) } }, e.name || e.crm_source),
      el("span", { className: "sw-sub-inline" }, e.sync_type),
      el("a", { className: "sw-type sw-type-link", attrs: { href: historyURL("", { error_type: e.error_type || "unknown" }) } }, e.error_type || "unknown"),
      el("a", { className: "sw-error-time sw-run-link", dataset: { field: "failed_at" }, attrs: { href: runURL("", e.id) } }, timeEl(e.failed_at, "clock"))),
    msg);
}

// failedCell is a CRM's failed count, leading to its failures in the history since the
// start of the shown days (the history filters by start, the count by finish: a run that
// started before those days and failed in them is counted, not listed).
function failedCell(c, since) {
  const td = numCell("failed", c.failed);
  const text = td.textContent;
  td.replaceChildren(el("a", { attrs: { href: historyURL("", { crm: [c.source], status: ["failed"], from: since }) } }, text));
  return td;
}

function problemRow(c, since) {
  const bar = el("span", { className: "sw-bar-fill" });
  bar.style.width = Math.max(0, Math.min(100, c.failure_rate)) + "%";
  return el("tr", { dataset: { source: c.source } },
    el("th", { attrs: { scope: "row" } }, el("a", { className: "sw-crm-link", attrs: { href: crmURL("", c.source) } }, c.name || c.source)),
    failedCell(c, since),
    numCell("total", c.total),
    el("td", { className: "sw-rate-col", dataset: { field: "failure_rate", value: c.failure_rate } },
      el("div", { className: "sw-bar" },
        el("span", { className: "sw-bar-track" }, bar),
        el("span", { className: "sw-num" }, fmtPercent(c.failure_rate)))));
}

// legendItem is one error type of the legend: its colour, its name and its count.
function legendItem(label, value, colour, since) {
  const swatch = el("span", { className: "sw-swatch", attrs: { "aria-hidden": "true" } });
  swatch.style.backgroundColor = colour;
  return el("li", { dataset: { type: label } },
    swatch, el("a", { className: "sw-legend-label", attrs: { href: historyURL("", { error_type: label, from: since }) } }, label),
    el("span", { className: "sw-legend-value sw-num" }, fmtInt(value)));
}

/**
 * errorsSection fills the error list (#error-list), the error types chart and its legend
 * (#chart-error-types, #error-types-legend) and the problematic CRMs (#problem-rows);
 * messages is the page's createMessages().
 */
export function errorsSection(messages) {
  const typesChart = doughnutChart("chart-error-types", fmtInt);

  // since is the start of the shown days: the links lead to the history of those days.
  function renderTypes(dist, since) {
    const labels = Array.isArray(dist.labels) ? dist.labels : [];
    const data = Array.isArray(dist.data) ? dist.data : [];
    const colours = errorTypeColours(labels);
    setSeries(typesChart, labels, data, colours);
    byId("error-types-legend").replaceChildren(...labels.map((l, i) => legendItem(l, data[i], colours[i], since)));
  }

  function renderProblems(crms, since) {
    byId("problem-rows").replaceChildren(...(crms.length === 0
      ? [emptyRow(4, "No CRM failed in these days.")]
      : crms.map((c) => problemRow(c, since))));
  }

  function render(resp) {
    const r = resp || {};
    const errors = r.recent_errors || [];
    const list = byId("error-list");
    if (errors.length === 0) {
      list.replaceChildren(el("li", { className: "list-group-item sw-empty-row" },
        icon("check"), " No failed sync on record."));
    } else {
      messages.keepFocus(() => list.replaceChildren(...errors.map((e) => errorItem(e, messages))));
    }
    const since = typeof r.since === "string" ? r.since : "";
    renderTypes(r.error_distribution || {}, since);
    renderProblems(r.problematic_crms || [], since);
    const days = isNum(r.days) ? r.days : Number(document.body.dataset.days);
    byId("analysis-hint").textContent = "last " + days + " days";
  }

  function unavailable(reason) {
    byId("error-list").replaceChildren(el("li", { className: "list-group-item sw-empty-row sw-unavailable" },
      unavailableText("recent errors", reason)));
    setChartNote("chart-error-types", unavailableText("error types", reason));
    byId("error-types-legend").replaceChildren();
    byId("problem-rows").replaceChildren(emptyRow(4, unavailableText("the most problematic CRMs", reason), "sw-unavailable"));
  }

  return { render, unavailable };
}
