// Unit tests of format.js, run by Node's test runner (see internal/web/jstest_test.go).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { at, plain } from "./env.js";
import {
  DASH, capitalize, cut, fmtAgo, fmtAgoSeconds, fmtClock, fmtClockSeconds, fmtClockShort,
  fmtCompact, fmtDuration, fmtExact, fmtInt, fmtMillis, fmtOne, fmtPercent, fmtRate, fmtSpan,
  headline, isNum, listWords, oneLine, parseTime,
} from "../static/js/format.js";

// Values that cannot be computed: every formatter writes them as DASH, never as 0.
const NOT_NUMBERS = [null, undefined, NaN, Infinity, -Infinity, "12", "", true, {}, []];

describe("numbers", () => {
  test("isNum accepts finite numbers only", () => {
    for (const v of [0, -1, 1.5, 1e21]) assert.equal(isNum(v), true, String(v));
    for (const v of NOT_NUMBERS) assert.equal(isNum(v), false, String(v));
  });

  const cases = {
    fmtInt: [fmtInt, [[0, "0"], [7, "7"], [1306, "1,306"], [1234567, "1,234,567"], [-42, "-42"], [2.5, "2.5"]]],
    fmtOne: [fmtOne, [[0, "0"], [1.84, "1.8"], [1.86, "1.9"], [12, "12"], [1234.56, "1,234.6"]]],
    fmtPercent: [fmtPercent, [[0, "0 %"], [96.381, "96.38 %"], [100, "100 %"], [33.335, "33.34 %"], [5.6, "5.6 %"]]],
    fmtCompact: [fmtCompact, [[0, "0"], [999, "999"], [12500, "12.5K"], [1200000, "1.2M"], [3e9, "3B"]]],
    fmtMillis: [fmtMillis, [[0.4, "0.4 ms"], [1.84, "1.8 ms"], [250, "250 ms"]]],
    fmtRate: [fmtRate, [[0.4, "0.4 rec/s"], [4.56, "4.6 rec/s"], [1234, "1,234 rec/s"]]],
  };
  for (const [name, [fn, pairs]] of Object.entries(cases)) {
    test(name, () => {
      for (const [v, want] of pairs) assert.equal(fn(v), want, name + "(" + v + ")");
      for (const v of NOT_NUMBERS) assert.equal(fn(v), DASH, name + "(" + String(v) + ")");
    });
  }
});

describe("durations", () => {
  test("fmtDuration writes seconds as people read them", () => {
    const pairs = [
      [0, "0 s"], [0.04, "0 s"], [1.25, "1.3 s"], [8.54, "8.5 s"], [9.94, "9.9 s"],
      [10, "10 s"], [45.4, "45 s"], [59.4, "59 s"],
      [60, "1m 00s"], [125, "2m 05s"], [3599, "59m 59s"],
      [3600, "1h 00m"], [3720, "1h 02m"], [86399, "23h 59m"],
      [86400, "1d 0h"], [273600, "3d 4h"], [-5, "-5 s"],
    ];
    for (const [sec, want] of pairs) assert.equal(fmtDuration(sec), want, "fmtDuration(" + sec + ")");
  });

  test("fmtDuration rounds before it chooses the unit: never 10.0 s, 60 s or 60m", () => {
    assert.equal(fmtDuration(9.96), "10 s");
    assert.equal(fmtDuration(59.6), "1m 00s");
    assert.equal(fmtDuration(3599.6), "1h 00m");
    assert.equal(fmtDuration(86399.7), "1d 0h");
    for (let tenth = 0; tenth < 100000; tenth += 7) {
      const text = fmtDuration(tenth / 10);
      assert.doesNotMatch(text, /^(60 s|10\.0 s)$|(^|\D)60[ms]|(^|\D)24h/, "fmtDuration(" + tenth / 10 + ") = " + text);
    }
  });

  test("fmtDuration writes what cannot be computed as a dash", () => {
    for (const v of NOT_NUMBERS) assert.equal(fmtDuration(v), DASH, String(v));
  });

  test("fmtSpan writes long stretches in words", () => {
    const hour = 3600e3;
    assert.equal(fmtSpan(hour), "1 hour");
    assert.equal(fmtSpan(26 * hour + 59 * 60e3), "26 hours");
    assert.equal(fmtSpan(47 * hour), "47 hours");
    assert.equal(fmtSpan(48 * hour), "2 days");
    assert.equal(fmtSpan(80 * hour), "3 days");
    assert.equal(fmtSpan(null), DASH);
  });
});

describe("relative times", () => {
  const now = at("2026-11-30T14:00:00Z");
  const ago = (ms) => fmtAgo(now - ms, now);

  test("fmtAgo picks the unit a person would", () => {
    const s = 1000, min = 60 * s, h = 60 * min, d = 24 * h;
    const pairs = [
      [0, "just now"], [4.9 * s, "just now"], [5 * s, "5 s ago"], [45 * s, "45 s ago"],
      [3 * min, "3 min ago"], [59 * min, "59 min ago"], [5 * h, "5 h ago"],
      [26 * h, "26 h ago"], [47 * h, "47 h ago"], [3 * d, "3 d ago"], [40 * d, "40 d ago"],
    ];
    for (const [ms, want] of pairs) assert.equal(ago(ms), want, ms + " ms ago");
  });

  test("fmtAgo rounds before it chooses the unit: never 60 s, 60 min or 48 h", () => {
    assert.equal(ago(59.6e3), "1 min ago");
    assert.equal(ago(59.6 * 60e3), "1 h ago");
    assert.equal(ago(47.6 * 3600e3), "2 d ago");
    for (let ms = 0; ms < 5 * 86400e3; ms += 7919) {
      assert.doesNotMatch(ago(ms), /^(60 s|60 min|48 h) /, ms + " ms");
    }
  });

  test("fmtAgo writes the future as 'in …'", () => {
    assert.equal(fmtAgo(now + 2 * 3600e3, now), "in 2 h");
    assert.equal(fmtAgo(now + 90e3, now), "in 2 min");
    assert.equal(fmtAgo(now + 2e3, now), "just now");
  });

  test("fmtAgo takes Dates and milliseconds alike, and refuses nonsense", () => {
    assert.equal(fmtAgo(new Date(now - 180e3), new Date(now)), "3 min ago");
    assert.equal(fmtAgo(NaN, now), DASH);
    assert.equal(fmtAgo(undefined, now), DASH);
  });

  test("fmtAgoSeconds ticks by the second while the age is short", () => {
    const pairs = [[0, "0 s ago"], [12, "12 s ago"], [12.4, "12 s ago"], [59, "59 s ago"],
      [60, "1 min 00 s ago"], [185, "3 min 05 s ago"], [3599, "59 min 59 s ago"],
      [3600, "1 h ago"], [7200, "2 h ago"], [-3, "0 s ago"]];
    for (const [secs, want] of pairs) assert.equal(fmtAgoSeconds(secs), want, String(secs));
    assert.equal(fmtAgoSeconds(null), DASH);
  });
});

describe("dates", () => {
  const d = new Date("2026-11-30T14:32:05Z");

  test("fmtClock writes today's times as a clock time, other days with their date", () => {
    assert.equal(plain(fmtClock(d, at("2026-11-30T23:59:00Z"))), "02:32 PM");
    assert.equal(plain(fmtClock(d, at("2026-12-01T00:10:00Z"))), "Nov 30, 02:32 PM");
  });

  test("clock and exact times", () => {
    assert.equal(plain(fmtClockShort(d)), "02:32 PM");
    assert.equal(plain(fmtClockSeconds(d)), "02:32:05 PM");
    assert.equal(plain(fmtExact(d)), "Mon, Nov 30, 2026, 02:32:05 PM UTC");
  });

  test("parseTime reads RFC 3339 and nothing else", () => {
    assert.equal(parseTime("2026-11-30T14:32:05.123456Z").getTime(), at("2026-11-30T14:32:05.123Z"));
    assert.equal(parseTime("2026-11-30T16:32:05+02:00").getTime(), d.getTime());
    for (const v of [null, undefined, "", "nonsense", 1764513125000, {}]) assert.equal(parseTime(v), null, String(v));
  });
});

describe("text", () => {
  test("headline is the line that says what went wrong", () => {
    assert.equal(headline("first line\nsecond"), "first line");
    assert.equal(headline("\n\n   spaced out  \n"), "spaced out");
    assert.equal(headline("Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad value\n"), "ValueError: bad value");
    assert.equal(headline(""), "");
    assert.equal(headline(null), "");
  });

  test("cut keeps text that fits and cuts the rest at a word, marked with …", () => {
    assert.equal(cut("short", 10), "short");
    assert.equal(cut("exactly10!", 10), "exactly10!");
    assert.equal(cut("connection refused by the server at once", 20), "connection refused…");
    assert.equal(cut("averyveryverylongwordwithoutspaces", 10), "averyvery…");
    assert.equal(Array.from(cut("x".repeat(500), 140)).length, 140);
  });

  test("cut never splits a character made of two UTF-16 units", () => {
    assert.equal(cut("😀😀😀😀😀😀", 4), "😀😀😀…");
    const text = "é".repeat(3) + "𝄞".repeat(200);
    for (let max = 1; max < 50; max++) {
      const got = cut(text, max);
      assert.ok(Array.from(got).length <= max, max + ": " + got);
      // Without the u flag the pattern sees UTF-16 units: a half of a pair alone.
      assert.doesNotMatch(got, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, "cut at " + max);
    }
  });

  test("oneLine makes a reason one short line", () => {
    assert.equal(oneLine("cannot connect to 127.0.0.1:5999:   connection\trefused"), "cannot connect to 127.0.0.1:5999: connection refused");
    assert.equal(oneLine("failed to connect to `user=postgres database=x`:\n\t127.0.0.1:5999 (127.0.0.1): dial error"), "failed to connect to `user=postgres database=x`:");
    const long = oneLine("word ".repeat(100), 160);
    assert.ok(long.length <= 160 && long.endsWith("…"), long);
    assert.equal(oneLine(undefined), "");
  });

  test("listWords and capitalize write sentences", () => {
    assert.equal(listWords([]), "");
    assert.equal(listWords(["charts"]), "charts");
    assert.equal(listWords(["overview", "charts"]), "overview and charts");
    assert.equal(listWords(["overview", "CRM status", "charts"]), "overview, CRM status and charts");
    assert.equal(capitalize("recent activity"), "Recent activity");
    assert.equal(capitalize("CRM status"), "CRM status");
    assert.equal(capitalize(""), "");
  });
});
