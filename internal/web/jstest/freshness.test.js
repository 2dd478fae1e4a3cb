// Unit tests of freshness.js: the page's one banner, decided from every source at once.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { at, plain } from "./env.js";
import { banner, stateOf, unavailableText, updatedNote } from "../static/js/freshness.js";

const REFRESH = 30000;
const LABELS = ["overview", "CRM status", "recent activity", "charts", "errors", "system health"];
const NOW = at("2026-11-30T14:32:05Z");
const DB_DOWN = "the sync history database cannot be reached and no earlier figures exist";

// source builds a source in one of freshness.js's states.
function source(label, state, reason = "the server cannot be reached") {
  const fresh = { timestamp: "2026-11-30T14:31:40Z", stale: false };
  const stale = { timestamp: "2026-11-30T14:29:00Z", stale: true, stale_since: "2026-11-30T14:30:00Z" };
  const answer = { fresh, stale, kept: fresh, missing: null, pending: null }[state];
  return {
    label,
    answer,
    receivedAt: answer ? at("2026-11-30T14:31:41Z") : 0,
    failure: state === "kept" || state === "missing" ? { reason, at: NOW } : null,
  };
}
const page = (...states) => states.map((st, i) => source(LABELS[i], st));
const say = (b) => plain(b.lead + b.text);

describe("banner", () => {
  test("says nothing while every figure is fresh or still to come", () => {
    for (const states of [["fresh"], ["pending"], ["fresh", "pending", "fresh"]]) {
      assert.deepEqual(banner(page(...states), REFRESH), { tone: null, lead: "", text: "" });
    }
  });

  test("stale figures: yellow, since when and from when", () => {
    const b = banner(page("stale", "stale", "fresh"), REFRESH);
    assert.equal(b.tone, "warning");
    assert.equal(say(b), "Showing figures from 02:29 PM; the sync history database cannot be reached since 02:30 PM. They will update as soon as it answers.");
  });

  test("the outage of issue 16: figures kept stale, but recent activity was never computed", () => {
    // The database went away before anyone asked for the recent runs: every other
    // figure is served stale, the recent runs answer 503.
    const sources = [
      source("overview", "stale"), source("CRM status", "stale"),
      source("recent activity", "missing", DB_DOWN),
      source("charts", "stale"), source("errors", "stale"), source("system health", "stale"),
    ];
    const b = banner(sources, REFRESH);
    assert.equal(b.tone, "danger");
    assert.equal(say(b), "Refresh failed at 02:32:05 PM. Recent activity could not be loaded: " + DB_DOWN +
      ". The other figures are from 02:29 PM: the sync history database cannot be reached since 02:30 PM. Trying again every 30 s.");
    assert.doesNotMatch(say(b), /No figures could be loaded/);
  });

  test("nothing shown at all: no figures could be loaded yet", () => {
    const b = banner(page("missing", "missing", "missing"), REFRESH);
    assert.equal(b.tone, "danger");
    assert.equal(say(b), "Refresh failed at 02:32:05 PM. No figures could be loaded yet: the server cannot be reached. Trying again every 30 s.");
  });

  test("the server went away after a good refresh: the figures below are kept", () => {
    const b = banner(page("kept", "kept", "kept"), REFRESH);
    assert.equal(say(b), "Refresh failed at 02:32:05 PM. The server cannot be reached; the figures below are from 02:31:41 PM. Trying again every 30 s.");
  });

  test("one part failed, the rest fresh: the part is named, with what it shows", () => {
    assert.equal(say(banner(page("fresh", "fresh", "fresh", "kept"), REFRESH)),
      "Refresh failed at 02:32:05 PM. Charts could not be refreshed: the server cannot be reached; it shows figures from 02:31:41 PM. Trying again every 30 s.");
    assert.equal(say(banner(page("fresh", "missing", "fresh", "missing"), REFRESH)),
      "Refresh failed at 02:32:05 PM. CRM status and charts could not be loaded: the server cannot be reached. Trying again every 30 s.");
  });

  test("stale figures beside fresh ones are named, not called 'the other figures'", () => {
    assert.equal(say(banner(page("stale", "fresh", "missing"), REFRESH)),
      "Refresh failed at 02:32:05 PM. Recent activity could not be loaded: the server cannot be reached. " +
      "Overview shows figures from 02:29 PM: the sync history database cannot be reached since 02:30 PM. Trying again every 30 s.");
  });

  test("different reasons are each said once, with the parts they hit", () => {
    const sources = [source("overview", "missing", "a"), source("charts", "missing", "b"), source("errors", "missing", "a")];
    assert.match(say(banner(sources, REFRESH)), /Overview and errors could not be loaded: a\. Charts could not be loaded: b\./);
  });

  // Every mix of states for six sources: the banner never contradicts itself or the page.
  test("never contradicts itself, whatever the mix of states", () => {
    const states = ["fresh", "stale", "kept", "missing", "pending"];
    let mixes = 0;
    const pick = (n, prefix) => {
      if (prefix.length === n) {
        check(prefix);
        mixes++;
        return;
      }
      for (const s of states) pick(n, [...prefix, s]);
    };
    const check = (mix) => {
      const sources = page(...mix);
      const b = banner(sources, REFRESH);
      const text = say(b);
      const what = mix.join(",") + " → " + text;
      const failed = mix.filter((s) => s === "kept" || s === "missing");
      const shown = mix.filter((s) => s === "fresh" || s === "stale" || s === "kept");
      // One tone, from all the answers.
      assert.equal(b.tone, failed.length ? "danger" : mix.includes("stale") ? "warning" : null, what);
      // "No figures" only when every part failed with nothing to show, and then nothing
      // claims to be shown.
      assert.equal(/No figures could be loaded/.test(text), mix.every((s) => s === "missing"), what);
      if (shown.length === 0) assert.doesNotMatch(text, /figures below|are from|shows? figures/, what);
      // "The figures below" only when every part is kept.
      assert.equal(/the figures below are from/.test(text), mix.every((s) => s === "kept"), what);
      // "Showing figures from" (the yellow banner's words) never in a red banner.
      if (b.tone === "danger") assert.doesNotMatch(text, /Showing figures from/, what);
      // Every part that failed is named, unless every part failed for one reason.
      if (failed.length && failed.length < mix.length) {
        mix.forEach((s, i) => {
          if (s === "kept" || s === "missing") assert.match(text.toLowerCase(), new RegExp(LABELS[i].toLowerCase()), what);
        });
      }
      // A part that is missing is never said to show figures, and a kept one never said missing.
      mix.forEach((s, i) => {
        const label = LABELS[i].toLowerCase();
        if (s === "missing" && failed.length < mix.length) assert.match(text.toLowerCase(), new RegExp(label + "[^.]*could not be loaded"), what);
        if (s === "kept" && failed.length < mix.length) assert.match(text.toLowerCase(), new RegExp(label + "[^.]*could not be refreshed"), what);
      });
    };
    for (let n = 1; n <= 4; n++) pick(n, []);
    assert.ok(mixes > 700, "tried " + mixes + " mixes");
  });
});

describe("states", () => {
  test("stateOf", () => {
    assert.equal(stateOf(source("x", "fresh")), "fresh");
    assert.equal(stateOf(source("x", "stale")), "stale");
    assert.equal(stateOf(source("x", "kept")), "kept");
    assert.equal(stateOf(source("x", "missing")), "missing");
    assert.equal(stateOf(source("x", "pending")), "pending");
  });

  test("unavailableText names the part and the reason", () => {
    assert.equal(unavailableText("recent activity", DB_DOWN), "Recent activity could not be loaded: " + DB_DOWN);
  });
});

describe("updatedNote", () => {
  const now = at("2026-11-30T14:32:05Z");
  test("counts the age of the figures from when the server computed them", () => {
    const n = updatedNote({ inFlight: false, lastGood: now - 2000, figuresAt: now - 12000, failing: false }, now);
    assert.equal(n.text, "Updated 12 s ago");
    assert.equal(n.danger, false);
    assert.match(plain(n.title), /^Figures computed at Mon, Nov 30, 2026, 02:31:53 PM UTC; received at .*02:32:03 PM UTC$/);
  });
  test("says what it can while loading, updating and failing", () => {
    assert.equal(updatedNote({ inFlight: true, lastGood: 0, figuresAt: 0, failing: false }, now).text, "Updating…");
    assert.equal(updatedNote({ inFlight: false, lastGood: 0, figuresAt: 0, failing: false }, now).text, "Loading…");
    const never = updatedNote({ inFlight: false, lastGood: 0, figuresAt: 0, failing: true }, now);
    assert.deepEqual([never.text, never.danger], ["Not updated", true]);
    const old = updatedNote({ inFlight: false, lastGood: now - 185000, figuresAt: 0, failing: true }, now);
    assert.deepEqual([old.text, old.danger], ["Last updated 3 min 05 s ago", true]);
  });
});
