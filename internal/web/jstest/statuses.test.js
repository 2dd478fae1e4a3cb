// Unit tests of statuses.js and of the pure parts of the CRM table.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { at, plain } from "./env.js";
import { healthStatus, runStatus } from "../static/js/statuses.js";
import { noNextRunLabel, noSuccessFor, scheduleSummary } from "../static/js/section-crms.js";

describe("statuses", () => {
  test("every run status has a word, an icon and a tone; stuck runs are called so", () => {
    assert.deepEqual(runStatus("success"), { label: "Success", icon: "check", tone: "success" });
    assert.deepEqual(runStatus("failed"), { label: "Failed", icon: "cross", tone: "danger" });
    assert.deepEqual(runStatus("partial"), { label: "Partial", icon: "bang", tone: "warning" });
    assert.deepEqual(runStatus("running"), { label: "Running", icon: "spinner", tone: "info" });
    assert.deepEqual(runStatus("running", true), { label: "Stuck", icon: "warn", tone: "danger" });
    assert.deepEqual(runStatus("success", true), runStatus("success"));
    assert.deepEqual(runStatus("never"), { label: "Never run", icon: "minus", tone: "muted" });
  });

  test("an unknown status is shown as stored, in grey", () => {
    assert.deepEqual(runStatus("cancelled"), { label: "cancelled", icon: "question", tone: "muted" });
    assert.equal(runStatus("<b>x</b>").label, "<b>x</b>");
    assert.equal(runStatus(null).label, "unknown");
  });

  test("health statuses", () => {
    assert.equal(healthStatus({ status: "healthy" }).label, "Healthy");
    assert.equal(healthStatus({ status: "degraded" }).tone, "warning");
    assert.equal(healthStatus({ status: "unhealthy" }).icon, "cross");
    assert.equal(healthStatus({ status: "not_configured" }).label, "Not configured");
    assert.equal(healthStatus({ status: "healthy", pending: true }).label, "Checking…");
    assert.equal(healthStatus(null).label, "Unknown");
    assert.equal(healthStatus({ status: "bogus" }).label, "Unknown");
  });
});

describe("CRM table", () => {
  const now = at("2026-11-30T14:00:00Z");
  const hour = 3600e3;

  test("noSuccessFor flags a CRM without a success for a day", () => {
    assert.equal(noSuccessFor({ status: "success", last_success: "2026-11-30T13:00:00Z" }, now), null);
    assert.equal(noSuccessFor({ status: "failed", last_success: "2026-11-29T14:00:00Z" }, now), null, "exactly a day");
    assert.equal(noSuccessFor({ status: "failed", last_success: "2026-11-27T14:00:00Z" }, now), 72 * hour);
    assert.equal(noSuccessFor({ status: "failed", last_success: null }, now), Infinity);
    assert.equal(noSuccessFor({ status: "never", last_success: null }, now), null, "no rows at all");
  });

  test("scheduleSummary lists the schedules for the hover text", () => {
    const text = scheduleSummary([
      { name: "hourly", mode: "delta", recurrence: "every hour at :05", state: "enabled", next_run: "2026-11-30T15:05:00Z" },
      { name: "nightly", mode: "", recurrence: "daily at 02:00", state: "disabled", overdue: true, note: "last run 3 days ago" },
    ]);
    assert.equal(plain(text), "hourly (delta): every hour at :05 · next Mon, Nov 30, 2026, 03:05:00 PM UTC\n" +
      "nightly: daily at 02:00 · disabled · overdue · last run 3 days ago");
    assert.equal(scheduleSummary([]), "");
  });
});

describe("a CRM without a next run", () => {
  test("says why: disabled, ended, not started, unknown or not scheduled", () => {
    assert.equal(noNextRunLabel([]), "not scheduled");
    assert.equal(noNextRunLabel([{ state: "disabled" }]), "disabled");
    assert.equal(noNextRunLabel([{ state: "disabled" }, { state: "disabled" }]), "disabled");
    assert.equal(noNextRunLabel([{ state: "ended" }]), "ended");
    assert.equal(noNextRunLabel([{ state: "not_started" }]), "not started");
    assert.equal(noNextRunLabel([{ state: "scheduled", note: "no last run known" }]), "unknown");
    assert.equal(noNextRunLabel([{ state: "disabled" }, { state: "invalid" }]), "unknown");
  });
});
