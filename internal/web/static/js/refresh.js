// refresh.js: the loop that keeps a page's figures current. Every interval it asks all
// the page's sources (API endpoints) at once and hands each answer to the page as it is;
// a source that fails keeps its last answer on the page, and the page is told, so it can
// say so (freshness.js decides what to say).
//
// While the tab is hidden nothing is fetched: a forgotten background tab costs the
// warehouse no queries. When it shows again, a refresh that is due runs at once.

import { fetchJSON, reasonOf } from "./api.js";

/**
 * createRefresher makes the loop of one page.
 *
 *   sources      [{ name, label, url }]: url(byViewer) is the endpoint to ask, relative
 *                to the page; byViewer is true when the viewer asked for the refresh;
 *   intervalMs   how often to refresh;
 *   timeoutMs    how long one request may take;
 *   onAnswer     (name, answer): show a source's new answer;
 *   onUnavailable (name, reason): a source failed and the page has nothing of it to
 *                show: say so in its place;
 *   onRound      (): after the first figures are in and after every refresh, when the
 *                page says how fresh its figures are (see sources());
 *   onBusy       (busy): a refresh started or ended.
 *
 * A section's onAnswer that throws is reported on the console and does not stop the
 * other sections from showing theirs.
 */
export function createRefresher({ sources, intervalMs, timeoutMs, onAnswer, onUnavailable, onRound, onBusy }) {
  const state = new Map(sources.map((s) => [s.name, {
    name: s.name, label: s.label, url: s.url, answer: null, receivedAt: 0, failure: null,
  }]));
  let lastGood = 0; // when every source last answered in one refresh
  let lastAttempt = 0;
  let inFlight = null;
  let timer = 0;
  const noop = () => {};
  const busy = onBusy || noop;
  const round = onRound || noop;

  function show(name, fn, arg) {
    try {
      fn(name, arg);
    } catch (err) {
      // One section's surprise must not blank the others; the console tells developers.
      console.warn("syncwatch: cannot show " + name, err);
    }
  }

  function accept(name, answer, now) {
    const s = state.get(name);
    s.answer = answer;
    s.receivedAt = now;
    s.failure = null;
    show(name, onAnswer, answer);
  }

  function reject(name, reason, now) {
    const s = state.get(name);
    s.failure = { reason, at: now };
    if (!s.answer) show(name, onUnavailable || noop, reason);
  }

  /**
   * start shows the answers the page came with (initial: name → answer or null) and
   * starts the loop: at once when a source is missing, else one interval from now.
   */
  function start(initial) {
    const now = Date.now();
    let complete = true;
    for (const name of state.keys()) {
      // A source the page came without keeps its placeholder until it is fetched.
      if (initial && initial[name]) accept(name, initial[name], now);
      else complete = false;
    }
    lastAttempt = now;
    if (complete) lastGood = now;
    round();
    document.addEventListener("visibilitychange", onVisibility);
    if (complete) schedule(intervalMs);
    else refresh(false);
  }

  /** refresh asks every source now (one refresh at a time) and resolves when done. */
  function refresh(byViewer) {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    lastAttempt = Date.now();
    busy(true);
    inFlight = (async () => {
      const list = [...state.values()];
      const results = await Promise.allSettled(
        list.map((s) => fetchJSON(s.url(Boolean(byViewer)), { timeoutMs })));
      const now = Date.now();
      results.forEach((r, i) => {
        if (r.status === "fulfilled") accept(list[i].name, r.value, now);
        else reject(list[i].name, reasonOf(r.reason), now);
      });
      if (results.every((r) => r.status === "fulfilled")) lastGood = now;
    })().finally(() => {
      inFlight = null;
      busy(false);
      round();
      schedule(intervalMs);
    });
    round();
    return inFlight;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(onTimer, ms);
  }

  function onTimer() {
    if (!document.hidden) refresh(false);
  }

  function onVisibility() {
    if (document.hidden) {
      clearTimeout(timer);
      return;
    }
    const due = lastAttempt + intervalMs - Date.now();
    if (due <= 0) refresh(false);
    else schedule(due);
  }

  return {
    start,
    refresh,
    /** sources is every source's state, in the page's order (see freshness.js). */
    sources: () => [...state.values()].map((s) => ({ ...s })),
    /** answer is the answer a source's figures on the page come from, or null. */
    answer: (name) => state.get(name).answer,
    /** lastGood is when every source last answered in one refresh (0: never). */
    lastGood: () => lastGood,
    inFlight: () => inFlight !== null,
    /** failing tells whether a source failed in the latest refresh. */
    failing: () => [...state.values()].some((s) => s.failure !== null),
  };
}
