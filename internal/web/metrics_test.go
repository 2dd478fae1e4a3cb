package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/syncwatch/syncwatch/internal/web"
)

// scrapeHandler stands for internal/metrics' handler: it says who answered.
var scrapeHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte("syncwatch_test_metric 1\n"))
})

func TestMetricsAreServedAtTheRootAndUnderTheBasePathBehindTheSameAuth(t *testing.T) {
	t.Parallel()
	const token = "a-token-of-sixteen-chars"
	auth, err := web.NewAuth(nil, token)
	if err != nil {
		t.Fatal(err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	cases := []struct {
		name    string
		cfg     web.Config
		path    string
		header  http.Header
		status  int
		scraped bool
	}{
		{"at the root, with the token", web.Config{Metrics: scrapeHandler, Auth: auth}, "/metrics", bearer, 200, true},
		{"under the base path, with the token", web.Config{Metrics: scrapeHandler, Auth: auth}, basePath + "metrics", bearer, 200, true},
		{"at the root, without credentials", web.Config{Metrics: scrapeHandler, Auth: auth}, "/metrics", nil, 401, false},
		{"under the base path, without credentials", web.Config{Metrics: scrapeHandler, Auth: auth}, basePath + "metrics", nil, 401, false},
		{"a wrong token", web.Config{Metrics: scrapeHandler, Auth: auth}, "/metrics",
			http.Header{"Authorization": {"Bearer " + token + "x"}}, 401, false},
		{"without auth configured", web.Config{Metrics: scrapeHandler}, "/metrics", nil, 200, true},
		{"no metrics configured", web.Config{}, "/metrics", nil, 404, false},
		{"no metrics configured, under the base path", web.Config{}, basePath + "metrics", nil, 404, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.cfg.Ready = func(context.Context) error { return nil }
			h, _ := fakeServer(t, &fakeFigures{}, c.cfg)
			rec := do(h, "GET", c.path, c.header)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if got := rec.Body.String() == "syncwatch_test_metric 1\n"; got != c.scraped {
				t.Errorf("served the metrics: %v, want %v (body %q)", got, c.scraped, rec.Body)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("the security headers are missing: %v", rec.Header())
			}
		})
	}
}

// With the base path at the root, /metrics is one route, not two.
func TestMetricsWithTheBasePathAtTheRoot(t *testing.T) {
	t.Parallel()
	srv, err := web.NewServer(web.Config{BasePath: "/", Figures: &fakeFigures{}, Metrics: scrapeHandler})
	if err != nil {
		t.Fatal(err)
	}
	if rec := do(srv, "GET", "/metrics", nil); rec.Code != 200 || rec.Body.String() != "syncwatch_test_metric 1\n" {
		t.Errorf("got %d %q, want the metrics", rec.Code, rec.Body)
	}
}
