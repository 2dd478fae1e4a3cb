// section-recent.js: the dashboard's recent activity (api/recent-syncs/): the latest runs,
// newest first, each failure's message under its run.

import { byId, el, emptyRow, labelled, timeEl } from "./dom.js";
import { durationCell, recordsCell, statusBadge } from "./widgets.js";
import { runStatus } from "./statuses.js";
import { unavailableText } from "./freshness.js";
import { crmURL, runURL } from "./links.js";

const COLUMNS = 5;

function runRow(run) {
  const tr = el("tr", { dataset: { id: run.id, status: run.status } });
  if (run.error_message) tr.classList.add("sw-has-error");
  tr.append(
    el("td", { dataset: { field: "start_time" } },
      el("a", { className: "sw-run-link", attrs: { href: runURL("", run.id) } }, timeEl(run.start_time, "clock"))),
    // A source or entity is up to 100 characters from the database: it wraps, so a long
    // one never widens the table past the page.
    el("td", { className: "sw-c-entity" },
      el("div", { className: "sw-break" },
        el("a", { className: "sw-crm-name sw-crm-link", attrs: { href: crmURL("", run.crm_source) } }, run.name || run.crm_source)),
      el("div", { className: "sw-sub sw-break" }, run.sync_type)),
    el("td", { className: "sw-c-status" }, statusBadge(runStatus(run.status, run.stuck))),
    labelled(recordsCell(run), "Records"),
    labelled(run.status === "running"
      ? el("td", { className: "text-end sw-num", dataset: { field: "duration_seconds", value: "" } },
        el("span", { className: "sw-sub-inline" }, "running"))
      : durationCell(run.duration_seconds, run.records_per_second), "Duration"),
  );
  return tr;
}

/**
 * recentSection fills the recent activity table (#recent-rows); messages is the page's
 * createMessages(), which keeps opened messages open across refreshes.
 */
export function recentSection(messages) {
  function render(resp) {
    const runs = (resp && resp.syncs) || [];
    const tbody = byId("recent-rows");
    if (runs.length === 0) {
      tbody.replaceChildren(emptyRow(COLUMNS, "No sync has run yet."));
      return;
    }
    const rows = [];
    for (const run of runs) {
      rows.push(runRow(run));
      if (typeof run.error_message === "string" && run.error_message !== "") {
        rows.push(el("tr", { className: "sw-error-row", dataset: { errorFor: run.id } },
          el("td", { attrs: { colspan: COLUMNS } },
            messages.details("run-" + run.id, run.error_message, run.error_type))));
      }
    }
    messages.keepFocus(() => tbody.replaceChildren(...rows));
  }

  function unavailable(reason) {
    byId("recent-rows").replaceChildren(emptyRow(COLUMNS, unavailableText("recent activity", reason), "sw-unavailable"));
  }

  return { render, unavailable };
}
