package web

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

func TestRecentParams(t *testing.T) {
	cases := []struct {
		query   string
		want    dashboard.RecentQuery
		badName string // the parameter a 400 must name; "" for a good query
	}{
		{"", dashboard.RecentQuery{Limit: 20}, ""},
		{"limit=1&crm=hubspot&status=success", dashboard.RecentQuery{Limit: 1, CRMSource: "hubspot", Status: "success"}, ""},
		{"limit=200", dashboard.RecentQuery{Limit: 200}, ""},
		{"status=completed", dashboard.RecentQuery{Limit: 20, Status: "success"}, ""},
		{"status=in_progress", dashboard.RecentQuery{Limit: 20, Status: "running"}, ""},
		{"status=skipped", dashboard.RecentQuery{Limit: 20, Status: "skipped"}, ""},
		{"crm=", dashboard.RecentQuery{Limit: 20}, ""},
		{"unknown=1", dashboard.RecentQuery{Limit: 20}, ""},
		{"limit=abc", dashboard.RecentQuery{}, "limit"},
		{"limit=0", dashboard.RecentQuery{}, "limit"},
		{"limit=201", dashboard.RecentQuery{}, "limit"},
		{"limit=100000", dashboard.RecentQuery{}, "limit"},
		{"limit=-1", dashboard.RecentQuery{}, "limit"},
		{"limit=1e2", dashboard.RecentQuery{}, "limit"},
		{"limit=99999999999999999999", dashboard.RecentQuery{}, "limit"},
		{"limit=1&limit=2", dashboard.RecentQuery{}, "limit"},
		{"crm=%27%20OR%201%3D1--", dashboard.RecentQuery{}, "crm"},
		{"crm=" + strings.Repeat("a", 51), dashboard.RecentQuery{}, "crm"},
		{"crm=%3Cscript%3E", dashboard.RecentQuery{}, "crm"},
		{"crm=hub%00spot", dashboard.RecentQuery{}, "crm"},
		{"status=FAILED", dashboard.RecentQuery{Limit: 20, Status: "failed"}, ""},
		{"status=Completed", dashboard.RecentQuery{Limit: 20, Status: "success"}, ""},
		{"crm=HubSpot", dashboard.RecentQuery{Limit: 20, CRMSource: "hubspot"}, ""},
		{"crm=GENIUS", dashboard.RecentQuery{Limit: 20, CRMSource: "genius"}, ""},
		{"crm=Google%20Sheets", dashboard.RecentQuery{Limit: 20, CRMSource: "gsheet"}, ""},
		{"crm=acme", dashboard.RecentQuery{Limit: 20, CRMSource: "acme"}, ""},
		{"status=timed-out", dashboard.RecentQuery{Limit: 20, Status: "timed-out"}, ""},
		{"status=fa%20iled", dashboard.RecentQuery{}, "status"},
		{"status=" + strings.Repeat("a", 21), dashboard.RecentQuery{}, "status"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		got, err := recentParams(q)
		var bad *badParam
		switch {
		case c.badName == "" && err != nil:
			t.Errorf("%q: got error %v, want %+v", c.query, err, c.want)
		case c.badName == "" && got != c.want:
			t.Errorf("%q: got %+v, want %+v", c.query, got, c.want)
		case c.badName != "" && (!errors.As(err, &bad) || !strings.HasPrefix(bad.msg, c.badName)):
			t.Errorf("%q: got %v, want a bad parameter naming %s", c.query, err, c.badName)
		}
	}
}

func TestDaysParam(t *testing.T) {
	for query, want := range map[string]int{"": 7, "days=1": 1, "days=90": 90, "days=30&x=1": 30} {
		q, _ := url.ParseQuery(query)
		if got, err := daysParam(q, 7); err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", query, got, err, want)
		}
	}
	for _, query := range []string{"days=0", "days=91", "days=-1", "days=x", "days=7&days=8", "days= 7"} {
		q, _ := url.ParseQuery(query)
		if _, err := daysParam(q, 7); err == nil || !strings.HasPrefix(err.Error(), "days") {
			t.Errorf("%q: got %v, want an error naming days", query, err)
		}
	}
}

// FuzzQueryParams feeds any query string to the parsers: they never panic, accept only
// values inside their bounds, and answer only fixed messages, which never echo a value.
func FuzzQueryParams(f *testing.F) {
	messages := map[string]bool{}
	for _, bad := range []string{"limit=x", "limit=1&limit=2", "crm=<", "crm=a&crm=b", "status=1", "status=a&status=b",
		"days=x", "days=1&days=2"} {
		q, _ := url.ParseQuery(bad)
		if _, err := recentParams(q); err != nil {
			messages[err.Error()] = true
		}
		if _, err := daysParam(q, 7); err != nil {
			messages[err.Error()] = true
		}
	}
	for _, s := range []string{"", "limit=5", "limit=abc&crm=x", "crm=%00", "days=90", "status=%E2%80%AE",
		"limit=1&limit=2", "crm=" + strings.Repeat("z", 60), "%zz=1", "limit=%zz", "crm=HubSpot&status=SUCCESS"} {
		f.Add(s)
	}
	known := []string{"limit", "crm", "status", "days"}
	for _, name := range known {
		if _, err := parseQuery(name+"=%zz", known); err != nil {
			messages[err.Error()] = true
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw, known)
		if err != nil {
			if !messages[err.Error()] {
				t.Fatalf("%q: got the message %q, want one of the fixed messages", raw, err)
			}
			return
		}
		rq, err := recentParams(q)
		if err == nil {
			if rq.Limit < 1 || rq.Limit > dashboard.MaxRecentLimit {
				t.Fatalf("%q: limit %d accepted", raw, rq.Limit)
			}
			if rq.CRMSource != "" && !sourcePattern.MatchString(rq.CRMSource) {
				t.Fatalf("%q: crm %q accepted", raw, rq.CRMSource)
			}
			if rq.Status != "" && !statusPattern.MatchString(rq.Status) {
				t.Fatalf("%q: status %q accepted", raw, rq.Status)
			}
		} else if !messages[err.Error()] {
			t.Fatalf("%q: got the message %q, want one of the fixed messages", raw, err)
		}
		days, err := daysParam(q, 7)
		if err == nil && (days < 1 || days > dashboard.MaxDays) {
			t.Fatalf("%q: days %d accepted", raw, days)
		}
		if err != nil && !messages[err.Error()] {
			t.Fatalf("%q: got the message %q, want one of the fixed messages", raw, err)
		}
	})
}
