package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// shortNumbers checks that every number of every answer is written as the shortest
// decimal of a correctly rounded value: no figure syncwatch computes has more than six
// decimals (durations are whole microseconds; rates, means and speeds are rounded to one
// or two), so a longer one is floating-point noise such as 1.3165149999999999 for a
// duration of 1.316515 s.
func shortNumbers(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	rows := newHistoryGen(1316515, time.UTC).rows()
	// The duration the issue was found with, and its neighbours.
	for _, micros := range []int64{1_316_515, 2_316_515, 1, 999_999, 3_000_001} {
		end := at(-time.Hour)
		rows = append(rows, Row{CRMSource: "hubspot", Start: end.Add(-time.Duration(micros) * time.Microsecond), End: &end, RecordsProcessed: 7})
	}
	fx.Insert(t, rows...)
	c := ctx(t)
	answers := map[string]func(context.Context) ([]byte, error){
		"stats":      d.StatsJSON,
		"crm-status": d.CRMStatusJSON,
		"recent-syncs": func(c context.Context) ([]byte, error) {
			return d.RecentSyncsJSON(c, dashboard.RecentQuery{Limit: 200})
		},
		"failed recent-syncs": func(c context.Context) ([]byte, error) {
			return d.RecentSyncsJSON(c, dashboard.RecentQuery{Limit: 200, Status: "failed"})
		},
		"charts 30 days": func(c context.Context) ([]byte, error) { return d.ChartsJSON(c, 30) },
		"errors 30 days": func(c context.Context) ([]byte, error) { return d.ErrorsJSON(c, 30) },
	}
	for name, answer := range answers {
		body, err := answer(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checked := 0
		walkNumbers(v, "", func(path string, n json.Number) {
			checked++
			if _, frac, ok := strings.Cut(strings.ToLower(n.String()), "."); ok && len(strings.TrimRight(frac, "e0123456789")) == 0 {
				digits, _, _ := strings.Cut(frac, "e")
				if len(digits) > 6 {
					t.Errorf("%s: %s = %s, want at most six decimals", name, path, n)
				}
			}
		})
		if checked == 0 {
			t.Errorf("%s: no number to check", name)
		}
	}
}

func walkNumbers(v any, path string, f func(string, json.Number)) {
	switch v := v.(type) {
	case json.Number:
		f(path, v)
	case map[string]any:
		for k, e := range v {
			walkNumbers(e, path+"."+k, f)
		}
	case []any:
		for _, e := range v {
			walkNumbers(e, path+"[]", f)
		}
	}
}
