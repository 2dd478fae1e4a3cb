// Unit tests of the pure parts of the alerts section.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import "./env.js";
import { alertTitle, alertsHint, channelNotes, crmPage, firingByCRM } from "../static/js/section-alerts.js";

const failing = { name: "sync_failing", labels: { crm: "hubspot", sync_type: "contacts" }, crm: "hubspot", severity: "critical" };
const stuck = { name: "sync_stuck", labels: { crm: "hubspot", sync_type: "deals", run_id: "42" }, crm: "hubspot" };
const workers = { name: "workers_down", labels: {}, crm: null, severity: "critical" };

describe("alerts", () => {
  test("a title says the rule in words and what it is about", () => {
    assert.equal(alertTitle(failing), "Sync failing: hubspot · contacts");
    assert.equal(alertTitle(stuck), "Sync stuck: hubspot · deals · run 42");
    assert.equal(alertTitle(workers), "Celery workers down");
    assert.equal(alertTitle({ name: "queue_backlog", labels: { queue: "dw-production" } }), "Queue backlog: dw-production");
    assert.equal(alertTitle({ name: "new_rule", labels: {} }), "new_rule");
  });

  test("a CRM's page is relative, its name escaped", () => {
    assert.equal(crmPage("hubspot"), "crm/hubspot/");
    assert.equal(crmPage("a/b?c"), "crm/a%2Fb%3Fc/");
  });

  test("firing alerts are grouped by their CRM; the machinery's have none", () => {
    const m = firingByCRM({ firing: [failing, stuck, workers] });
    assert.deepEqual([...m.keys()], ["hubspot"]);
    assert.deepEqual(m.get("hubspot"), ["Sync failing: hubspot · contacts", "Sync stuck: hubspot · deals · run 42"]);
    assert.equal(firingByCRM(null).size, 0);
  });

  test("a failing channel and one held back by the cap are said", () => {
    const notes = channelNotes({ channels: [
      { id: "slack", kind: "slack", target: "https://hooks.slack.com", failing: true,
        last_error: "slack https://hooks.slack.com: HTTP 500\nmore", last_error_at: "2025-10-09T10:00:00Z", held_back: 0 },
      { id: "email", kind: "email", target: "smtp://mail:25", failing: false, held_back: 3 },
      { id: "webhook-1", kind: "webhook", target: "https://x", failing: false, held_back: 0 },
    ] });
    assert.deepEqual(notes.map((n) => [n.tone, n.channel]), [["danger", "slack"], ["warning", "email"]]);
    assert.equal(notes[0].text, "slack (https://hooks.slack.com) cannot deliver: slack https://hooks.slack.com: HTTP 500");
    assert.equal(notes[1].text, "email (smtp://mail:25): 3 messages held back by the hourly cap");
  });

  test("the hint counts what fires, what waits and the channels", () => {
    assert.equal(alertsHint({ enabled: false }), "alerts are off");
    assert.equal(alertsHint({ firing: [], pending: [], channels: [] }), "nothing firing · no channel configured");
    assert.equal(alertsHint({ firing: [failing, workers], pending: [stuck], channels: [{}], sender: true }), "2 firing · 1 pending · 1 channel");
    assert.equal(alertsHint({ firing: [], pending: [], channels: [{}, {}], sender: false }), "nothing firing · 2 channels · another replica sends");
  });
});
