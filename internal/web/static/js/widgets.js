// widgets.js: the pieces every syncwatch page shows runs with: status badges, number and
// duration cells, and error messages that open to their full text. Built with dom.js, so
// everything from the API goes in as text.

import { cut, fmtDuration, fmtInt, fmtRate, headline, isNum } from "./format.js";
import { el, icon, nullMark, spinner } from "./dom.js";

/** statusBadge shows a status (from statuses.js) as icon and word, in its tone. */
export function statusBadge(st, extra) {
  const mark = st.icon === "spinner" ? spinner() : icon(st.icon);
  return el("span", { className: "sw-status sw-tone-" + st.tone, dataset: { status: st.label } },
    mark, el("span", null, st.label), extra || null);
}

/**
 * numCell is a right-aligned count, with its exact value in data-value (empty when it
 * cannot be computed) for the browser tests and for anyone reading the DOM.
 */
export function numCell(field, v) {
  return el("td", {
    className: "text-end sw-num",
    dataset: { field, value: isNum(v) ? v : "" },
  }, isNum(v) ? fmtInt(v) : nullMark());
}

/** durationCell shows a run's duration, with its throughput under it when known. */
export function durationCell(sec, rps) {
  return el("td", {
    className: "text-end sw-num",
    dataset: { field: "duration_seconds", value: isNum(sec) ? sec : "" },
  },
  isNum(sec) ? fmtDuration(sec) : nullMark(),
  isNum(rps) ? el("div", { className: "sw-sub" }, fmtRate(rps)) : null);
}

/** recordsCell shows the records a run processed, with what became of them under it. */
export function recordsCell(run) {
  const td = numCell("records_processed", run.records_processed);
  const parts = [];
  if (isNum(run.records_created)) parts.push(fmtInt(run.records_created) + " new");
  if (isNum(run.records_updated)) parts.push(fmtInt(run.records_updated) + " upd");
  if (run.records_failed > 0) parts.push(fmtInt(run.records_failed) + " failed");
  if (parts.length) td.append(el("div", { className: "sw-sub" }, parts.join(" · ")));
  return td;
}

// A message is shown cut to its headline's first characters in the list.
const MESSAGE_PREVIEW = 140;

/**
 * createMessages makes the error messages of one page. Each message is cut to its
 * headline, with the full text one click away in a <details> element (no script needed
 * to open it, and keyboard-accessible). It remembers which messages the viewer opened,
 * so a refresh that rebuilds a list does not close them, and keepFocus gives the focus
 * back to the message that had it.
 */
export function createMessages() {
  const open = new Set();

  function details(key, message, type) {
    const line = headline(message);
    const short = cut(line, MESSAGE_PREVIEW);
    const longer = short !== message;
    const node = el("details", { className: "sw-message", dataset: { key } },
      el("summary", null,
        type ? el("span", { className: "sw-type" }, type) : null,
        el("span", { className: "sw-message-short" }, short),
        longer ? el("span", { className: "sw-more" }, "full message") : null),
      el("pre", { className: "sw-message-full" }, message));
    node.open = open.has(key);
    node.addEventListener("toggle", () => {
      if (node.open) open.add(key);
      else open.delete(key);
    });
    return node;
  }

  // keepFocus runs a re-render that may replace the focused message, and focuses the
  // same message (by its key) afterwards, so a keyboard user is not thrown to the top
  // of the page by a refresh.
  function keepFocus(rerender) {
    const active = document.activeElement;
    const had = active && active.closest ? active.closest("details[data-key]") : null;
    rerender();
    if (!had) return;
    for (const d of document.querySelectorAll("details[data-key]")) {
      if (d.dataset.key === had.dataset.key) d.querySelector("summary").focus();
    }
  }

  return { details, keepFocus };
}

/** noMessage stands for a failure that recorded no message. */
export function noMessage() {
  return el("div", { className: "sw-null" }, "No message was recorded.");
}
