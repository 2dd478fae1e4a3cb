// freshness.js: what a page says about the age of its figures, decided from every source
// at once. Pure functions, no DOM (banner.js shows the result), so Node's tests can try
// every mix of fresh, stale, kept and missing figures.
//
// A page reads several API endpoints ("sources"). After each refresh, a source is in one
// of these states:
//   - fresh: it answered, with figures computed now;
//   - stale: it answered, but with figures the server kept because the sync history
//     database cannot be reached (the answer says stale: true, since stale_since);
//   - kept: it did not answer, and the page still shows its earlier answer;
//   - missing: it did not answer, and the page has never had an answer to show;
//   - pending: not asked yet.
// The page has ONE banner, so two messages can never be shown at once or contradict each
// other; it is red when any source failed, yellow when all answered but some with stale
// figures, and hidden otherwise.

import { capitalize, fmtAgoSeconds, fmtClockSeconds, fmtClockShort, fmtExact, listWords, parseTime } from "./format.js";

/**
 * Source is what the refresh loop knows of one endpoint:
 *   label      how sentences name it ("recent activity");
 *   answer     the answer the page shows, or null;
 *   receivedAt when that answer arrived (ms since the epoch), or 0;
 *   failure    { reason, at } when the latest request for it failed, else null.
 */

/** stateOf says which state (see above) a source is in. */
export function stateOf(src) {
  if (src.failure) return src.answer ? "kept" : "missing";
  if (!src.answer) return "pending";
  return src.answer.stale ? "stale" : "fresh";
}

/** unavailableText is what a section says in place of the figures it could not load. */
export function unavailableText(label, reason) {
  return capitalize(label) + " could not be loaded: " + reason;
}

const earliest = (times) => times.filter(Boolean).sort((a, b) => a - b)[0] || null;
const labels = (sources) => sources.map((s) => s.label);

// groupByReason keeps the order in which reasons first appear.
function groupByReason(sources) {
  const groups = new Map();
  for (const s of sources) {
    const reason = s.failure.reason || "unknown error";
    if (!groups.has(reason)) groups.set(reason, []);
    groups.get(reason).push(s);
  }
  return [...groups];
}

// staleClause says since when the stale figures are kept.
function staleClause(stale) {
  const asOf = earliest(stale.map((s) => parseTime(s.answer.timestamp)));
  const since = earliest(stale.map((s) => parseTime(s.answer.stale_since)));
  return {
    asOf: asOf ? fmtClockShort(asOf) : "earlier",
    why: "the sync history database cannot be reached" + (since ? " since " + fmtClockShort(since) : ""),
  };
}

/**
 * banner decides the page's one banner from every source (in the page's order):
 * { tone: null } when there is nothing to say, else { tone: "warning" | "danger",
 * lead, text }, lead being the banner's first words (shown in bold).
 * refreshMs is how often the page tries again.
 */
export function banner(sources, refreshMs) {
  const by = { fresh: [], stale: [], kept: [], missing: [], pending: [] };
  for (const s of sources) by[stateOf(s)].push(s);
  const failed = [...by.kept, ...by.missing];

  if (failed.length === 0) {
    if (by.stale.length === 0) return { tone: null, lead: "", text: "" };
    const c = staleClause(by.stale);
    return {
      tone: "warning",
      lead: "Showing figures from " + c.asOf + "; ",
      text: c.why + ". They will update as soon as it answers.",
    };
  }

  const sentences = [];
  for (const [reason, group] of groupByReason(by.missing)) {
    sentences.push(group.length === sources.length
      ? "No figures could be loaded yet: " + reason + "."
      : capitalize(listWords(labels(group))) + " could not be loaded: " + reason + ".");
  }
  for (const [reason, group] of groupByReason(by.kept)) {
    const received = earliest(group.map((s) => s.receivedAt));
    const asOf = received ? fmtClockSeconds(new Date(received)) : "earlier";
    sentences.push(group.length === sources.length
      ? capitalize(reason) + "; the figures below are from " + asOf + "."
      : capitalize(listWords(labels(group))) + " could not be refreshed: " + reason +
        "; " + (group.length === 1 ? "it shows" : "they show") + " figures from " + asOf + ".");
  }
  if (by.stale.length > 0) {
    const c = staleClause(by.stale);
    // "The other figures" only when no part of the page is fresh or still to come.
    const others = by.fresh.length === 0 && by.pending.length === 0;
    const named = by.stale.length === 1 ? " shows figures from " : " show figures from ";
    sentences.push((others ? "The other figures are from " : capitalize(listWords(labels(by.stale))) + named) +
      c.asOf + ": " + c.why + ".");
  }
  sentences.push("Trying again every " + Math.round(refreshMs / 1000) + " s.");
  const at = Math.max(...failed.map((s) => s.failure.at || 0));
  return {
    tone: "danger",
    lead: "Refresh failed at " + fmtClockSeconds(new Date(at)) + ". ",
    text: sentences.join(" "),
  };
}

/**
 * updatedNote is the small note of the top bar: how old the figures are, ticking every
 * second. lastGood is when every source last answered (0: never), figuresAt when the
 * server computed the figures shown (0: unknown), failing whether the latest refresh
 * failed in part. title is the exact times, for hovering.
 */
export function updatedNote({ inFlight, lastGood, figuresAt, failing }, now) {
  if (inFlight) return { text: "Updating…", danger: failing, title: null };
  if (!lastGood) return { text: failing ? "Not updated" : "Loading…", danger: failing, title: null };
  // The age of the figures themselves: the server computes them once per interval, so
  // figures fetched just now may be some seconds old.
  const since = figuresAt || lastGood;
  const text = (failing ? "Last updated " : "Updated ") + fmtAgoSeconds((now - since) / 1000);
  const title = "Figures computed at " + fmtExact(new Date(since)) + "; received at " + fmtExact(new Date(lastGood));
  return { text, danger: failing, title };
}
