// Unit tests of links.js, run by Node's test runner (see internal/web/jstest_test.go).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import "./env.js";
import {
  FILTERS, crmAPI, crmURL, csvURL, emptyFilters, filterQuery, filtersFromQuery, historyAPI, historyURL,
  instantFromInput, localInputValue, runAPI, runURL,
} from "../static/js/links.js";

describe("pages and API", () => {
  test("are relative to the page, under any base path", () => {
    assert.equal(crmURL("", "genius"), "crm/genius/");
    assert.equal(crmURL("../../", "genius"), "../../crm/genius/");
    assert.equal(runURL("../", 42), "../runs/42/");
    assert.equal(crmAPI("../../", "genius", 30), "../../api/crms/genius/?days=30");
    assert.equal(runAPI("../../", 7), "../../api/runs/7/");
  });

  test("escape what the database holds", () => {
    // A source is one path segment, whatever it holds: no traversal, no query.
    assert.equal(crmURL("", "../api/x?y=1#z"), "crm/..%2Fapi%2Fx%3Fy%3D1%23z/");
    assert.equal(crmURL("", "Google Sheets"), "crm/Google%20Sheets/");
  });
});

describe("the history's filters in a URL", () => {
  test("nothing set is the plain history", () => {
    assert.equal(historyURL("../", emptyFilters()), "../history/");
    assert.equal(historyURL("", {}), "history/");
    assert.equal(filterQuery(null), "");
  });

  test("are written in a fixed order, lists comma-separated", () => {
    const f = {
      q: "api_key=*** rejected", status: ["failed", "partial"], crm: ["genius", "hubspot"], cursor: "1_2",
      limit: "25", sync_type: "job_change_orders", from: "2025-10-01T00:00:00Z", min_duration: "0", error_type: "",
    };
    assert.equal(filterQuery(f),
      "crm=genius%2Chubspot&sync_type=job_change_orders&status=failed%2Cpartial&from=2025-10-01T00%3A00%3A00Z" +
      "&min_duration=0&q=api_key%3D***+rejected&limit=25&cursor=1_2");
  });

  test("read back as written, from either spelling of a list", () => {
    const f = emptyFilters();
    Object.assign(f, { crm: ["genius", "hubspot"], status: ["failed"], q: "a&b=c, d", from: "2025-10-01T00:00:00Z", cursor: "5_6" });
    assert.deepEqual(filtersFromQuery("?" + filterQuery(f)), f);
    const repeated = filtersFromQuery("crm=genius&crm=hubspot,%20acme&status=failed&status=&limit=50");
    assert.deepEqual(repeated.crm, ["genius", "hubspot", "acme"]);
    assert.deepEqual(repeated.status, ["failed"]);
    assert.equal(repeated.limit, "50");
    assert.equal(repeated.sync_type, "");
    assert.deepEqual(Object.keys(repeated), FILTERS);
  });

  test("the CSV exports every row of the filters, from the newest", () => {
    const f = { crm: ["genius"], status: ["failed"], limit: "25", cursor: "5_6" };
    assert.equal(csvURL("../", f), "../api/history.csv?crm=genius&status=failed");
    assert.equal(historyAPI("../", f), "../api/history/?crm=genius&status=failed&limit=25&cursor=5_6");
    assert.equal(csvURL("", {}), "api/history.csv");
  });
});

describe("times in the form", () => {
  test("an instant shows in the viewer's zone and reads back in UTC", () => {
    // env.js runs the tests in UTC.
    assert.equal(localInputValue("2025-10-09T10:30:05Z"), "2025-10-09T10:30:05");
    assert.equal(localInputValue("2025-10-09T12:30:05+02:00"), "2025-10-09T10:30:05");
    assert.equal(instantFromInput("2025-10-09T10:30:05"), "2025-10-09T10:30:05Z");
    assert.equal(instantFromInput("2025-10-09T10:30"), "2025-10-09T10:30:00Z");
  });

  test("nothing and nonsense are empty", () => {
    for (const v of ["", null, undefined, "yesterday"]) {
      assert.equal(localInputValue(v), "", String(v));
      assert.equal(instantFromInput(v), "", String(v));
    }
  });
});
