// dashboard.js: the entry point of the dashboard page. It paints the figures the page came
// with (the initial-data block), then keeps them current through refresh.js, one section
// module per part of the page.
//
// Rules every module of the page keeps:
//   - every text that comes from the API goes into the DOM as text (dom.js), never
//     through innerHTML;
//   - URLs are relative, so the page works under any base path behind a proxy;
//   - null means "cannot be computed" and is shown as "—", never as 0;
//   - status is never told by colour alone: every status has an icon shape and a word.

import { byId, tickRelative } from "./dom.js";
import { createMessages } from "./widgets.js";
import { setupCharts } from "./charts.js";
import { createRefresher } from "./refresh.js";
import { showBanner, showUpdated } from "./banner.js";
import { overviewSection } from "./section-overview.js";
import { crmSection } from "./section-crms.js";
import { recentSection } from "./section-recent.js";
import { chartsSection } from "./section-charts.js";
import { errorsSection } from "./section-errors.js";
import { healthSection } from "./section-health.js";
import { alertsSection } from "./section-alerts.js";

const body = document.body;
const REFRESH_MS = Math.max(1, Number(body.dataset.refreshSeconds) || 30) * 1000;
const FETCH_TIMEOUT_MS = Math.max(10000, REFRESH_MS);

// readInitial reads the figures the page came with: the answer of each endpoint under
// the names below, or null for one the server could not compute in time (page.go).
function readInitial() {
  const node = document.getElementById("initial-data");
  if (!node) return {};
  try {
    return JSON.parse(node.textContent) || {};
  } catch (err) {
    console.warn("syncwatch: the page's first figures cannot be read", err);
    return {};
  }
}

function start() {
  if (!setupCharts()) console.warn("syncwatch: Chart.js did not load; charts are left empty");
  byId("viewer-zone").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";

  const messages = createMessages();
  const alerts = alertsSection();
  // The page's sources, in the order the banner names them: the endpoint each asks,
  // and the section that shows it. A refresh the viewer asked for also asks the server
  // to check the services now (it coalesces such checks, so many viewers pressing the
  // button cost one round).
  const parts = [
    { name: "alerts", label: "alerts", url: () => "api/alerts/", section: alerts },
    { name: "stats", label: "overview", url: () => "api/stats/", section: overviewSection() },
    { name: "crm_status", label: "CRM status", url: () => "api/crm-status/", section: crmSection() },
    { name: "recent_syncs", label: "recent activity", url: () => "api/recent-syncs/?limit=20", section: recentSection(messages) },
    { name: "charts", label: "charts", url: () => "api/performance-charts/", section: chartsSection() },
    { name: "errors", label: "errors", url: () => "api/errors/", section: errorsSection(messages) },
    {
      name: "system_health", label: "system health", section: healthSection(),
      url: (byViewer) => "api/system-health/" + (byViewer ? "?check=now" : ""),
    },
  ];
  const sections = new Map(parts.map((p) => [p.name, p.section]));

  const button = byId("refresh-now");
  const bannerNode = byId("banner");
  const updatedNode = byId("updated");
  let figuresAt = 0; // when the server computed the overview shown

  const facts = () => ({
    inFlight: loop.inFlight(), lastGood: loop.lastGood(), figuresAt, failing: loop.failing(),
  });

  const loop = createRefresher({
    sources: parts,
    intervalMs: REFRESH_MS,
    timeoutMs: FETCH_TIMEOUT_MS,
    onAnswer: (name, answer) => {
      if (name === "stats") {
        const at = Date.parse(answer.timestamp);
        if (!Number.isNaN(at)) figuresAt = Math.min(at, Date.now());
      }
      sections.get(name).render(answer);
      // The CRM table is rebuilt at each refresh: mark again the CRMs whose alerts fire.
      if (name === "crm_status") alerts.markCRMs();
    },
    onUnavailable: (name, reason) => sections.get(name).unavailable(reason),
    onBusy: (busy) => {
      button.disabled = busy;
      body.classList.toggle("sw-refreshing", busy);
      if (!busy) body.dataset.refreshes = String(Number(body.dataset.refreshes || 0) + 1);
    },
    onRound: () => {
      showBanner(bannerNode, loop.sources(), REFRESH_MS);
      body.classList.toggle("sw-is-stale", bannerNode.dataset.tone !== "");
      showUpdated(updatedNode, facts());
    },
  });

  loop.start(readInitial());
  body.dataset.state = "ready";
  // How long after navigation began the page stood with its figures, for the
  // performance report (internal/perf's BenchmarkPageReady reads it).
  body.dataset.readyMs = String(Math.round(performance.now()));

  button.addEventListener("click", () => loop.refresh(true));
  setInterval(() => showUpdated(updatedNode, facts()), 1000);
  setInterval(tickRelative, 15000);
}

start();
