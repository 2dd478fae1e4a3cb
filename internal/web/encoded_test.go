package web_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/storetest"
)

// TestAnswersFollowTheirFigures checks the encoded answers kept between refreshes: the
// same figures give the same bytes, and new figures new bytes.
func TestAnswersFollowTheirFigures(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{refresh: time.Second, run: true})
	body := func(path string) []byte {
		resp, b := get(t, s.ts.URL+basePath+path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return []byte(b)
	}
	// Two answers of the figures of one computation are the same bytes (a refresh in
	// between gives another timestamp, and then may differ).
	first, again := body("api/stats/"), body("api/stats/")
	stamp := func(b []byte) string {
		var v struct{ Timestamp string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.Timestamp
	}
	if stamp(first) == stamp(again) && !bytes.Equal(first, again) {
		t.Errorf("the same figures gave two answers:\n%s\n%s", first, again)
	}
	// The same path with other parameters is another answer.
	if a, b := body("api/performance-charts/?days=2"), body("api/performance-charts/?days=3"); bytes.Equal(a, b) {
		t.Errorf("days=2 and days=3 gave the same answer: %s", a)
	}
	now := time.Now()
	end := now.Add(-time.Second)
	s.db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: now.Add(-time.Minute), End: &end})
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Contains(body("api/stats/"), []byte(`"completed_today":1`)) {
		if time.Now().After(deadline) {
			t.Fatalf("the stats never showed the new row: %s", body("api/stats/"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
