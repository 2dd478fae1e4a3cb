// Unit tests of api.js: what a page says when a request to the API gives no figures.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import "./env.js";
import { ApiError, errorFromAnswer, fetchJSON, reasonOf } from "../static/js/api.js";

// answer is a fake fetch that answers status with body (an object sent as JSON, or text).
const answer = (status, body) => async () => ({
  ok: status >= 200 && status < 300,
  status,
  json: async () => (typeof body === "string" ? JSON.parse(body) : body),
});

describe("errorFromAnswer", () => {
  test("takes the API's own message as the reason", () => {
    const e = errorFromAnswer(503, { error: { code: "unavailable", message: "the sync history database cannot be reached and no earlier figures exist" } });
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.message, e.status, e.code], ["the sync history database cannot be reached and no earlier figures exist", 503, "unavailable"]);
  });

  test("makes a long message one short line", () => {
    const message = "database health: data source unavailable: failed to connect to `user=postgres database=x`:\n\t127.0.0.1:5999 (127.0.0.1): dial error: connection refused";
    const e = errorFromAnswer(503, { error: { code: "unavailable", message } });
    assert.equal(e.message, "database health: data source unavailable: failed to connect to `user=postgres database=x`:");
    const e2 = errorFromAnswer(503, { error: { message: "x ".repeat(400) } });
    assert.ok(e2.message.length <= 160 && !e2.message.includes("\n"), e2.message);
  });

  test("falls back on the status when the body says nothing usable", () => {
    for (const body of [null, "text", {}, { error: null }, { error: { message: 42 } }, { error: { message: "" } }]) {
      assert.equal(errorFromAnswer(502, body).message, "the server answered 502", JSON.stringify(body));
    }
  });
});

describe("fetchJSON", () => {
  test("returns the decoded object of a success", async () => {
    assert.deepEqual(await fetchJSON("api/stats/", { fetchFn: answer(200, { overview: { active_syncs: 3 } }) }), { overview: { active_syncs: 3 } });
  });

  test("asks for JSON, never from a cache, with the page's credentials", async () => {
    let seen;
    await fetchJSON("api/x/", {
      fetchFn: async (url, init) => {
        seen = { url, init };
        return answer(200, {})();
      },
    });
    assert.equal(seen.url, "api/x/");
    assert.equal(seen.init.headers.Accept, "application/json");
    assert.equal(seen.init.cache, "no-store");
    assert.equal(seen.init.credentials, "same-origin");
  });

  const rejects = (fetchFn, opts = {}) => fetchJSON("api/x/", { fetchFn, ...opts }).then(
    () => assert.fail("fetchJSON succeeded"),
    (err) => {
      assert.ok(err instanceof ApiError, String(err));
      return err;
    });

  test("an error answer gives the API's reason and status", async () => {
    const err = await rejects(answer(503, { error: { code: "unavailable", message: "the figures are still being computed; try again shortly" } }));
    assert.deepEqual([err.message, err.status, err.code], ["the figures are still being computed; try again shortly", 503, "unavailable"]);
  });

  test("an error answer that is not JSON gives its status", async () => {
    const err = await rejects(answer(502, "<html>Bad Gateway</html>"));
    assert.deepEqual([err.message, err.status], ["the server answered 502", 502]);
  });

  test("a success that is not a JSON object is an error", async () => {
    for (const body of ["<html>login</html>", [1, 2], "null", "3"]) {
      const err = await rejects(answer(200, body));
      assert.equal(err.message, "the server's answer was not a JSON object", JSON.stringify(body));
    }
  });

  test("no connection", async () => {
    const err = await rejects(async () => {
      throw new TypeError("Failed to fetch");
    });
    assert.deepEqual([err.message, err.status], ["the server cannot be reached", 0]);
  });

  test("no answer in time: the request is aborted", async () => {
    let signal;
    // A server that never answers: the request ends only when it is aborted.
    const never = (url, init) => new Promise((_, reject) => {
      signal = init.signal;
      init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
    const err = await rejects(never, { timeoutMs: 0 });
    assert.equal(err.message, "no answer within 0 s");
    assert.equal(signal.aborted, true);
  });

  test("a body that stops coming in time is aborted too", async () => {
    const slowBody = (url, init) => Promise.resolve({
      ok: true, status: 200,
      json: () => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    });
    const err = await rejects(slowBody, { timeoutMs: 0 });
    assert.match(err.message, /^no answer within/);
  });
});

test("reasonOf gives one line for any error", () => {
  assert.equal(reasonOf(new ApiError("the server answered 500", 500)), "the server answered 500");
  assert.equal(reasonOf(new Error("first\nsecond")), "first");
  assert.equal(reasonOf("plain"), "plain");
  assert.equal(reasonOf(null), "null");
});
