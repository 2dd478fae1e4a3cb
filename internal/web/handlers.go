package web

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// requestTimeout bounds how long a request waits for figures that have never been
// computed; afterwards figures come from memory at once.
const requestTimeout = 20 * time.Second

// answer serves one of the dashboard's answers: get reads the request's parameters, whose
// names are params (a bad one is a 400), and the encoded figures, which it waits for at
// most requestTimeout.
func (s *Server) answer(params []string, get func(ctx context.Context, q url.Values) ([]byte, error)) http.Handler {
	return s.answerRequest(params, func(ctx context.Context, q url.Values, _ *http.Request) ([]byte, error) {
		return get(ctx, q)
	})
}

// answerRequest is answer for an endpoint that also reads its path.
func (s *Server) answerRequest(params []string, get func(ctx context.Context, q url.Values, r *http.Request) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		q, err := parseQuery(r.URL.RawQuery, params)
		if err != nil {
			writeError(w, r, s.cfg.Logger, err)
			return
		}
		body, err := get(ctx, q, r)
		if err != nil {
			writeError(w, r, s.cfg.Logger, err)
			return
		}
		startJSON(w, http.StatusOK)
		_, _ = w.Write(body)
	})
}

// handleStats serves GET {base}api/stats/.
func (s *Server) handleStats() http.Handler {
	return s.answer(nil, func(ctx context.Context, _ url.Values) ([]byte, error) {
		return s.cfg.Figures.StatsJSON(ctx)
	})
}

// handleCRMStatus serves GET {base}api/crm-status/.
func (s *Server) handleCRMStatus() http.Handler {
	return s.answer(nil, func(ctx context.Context, _ url.Values) ([]byte, error) {
		return s.cfg.Figures.CRMStatusJSON(ctx)
	})
}

// handleRecentSyncs serves GET {base}api/recent-syncs/?limit=&crm=&status=.
func (s *Server) handleRecentSyncs() http.Handler {
	return s.answer([]string{"limit", "crm", "status"}, func(ctx context.Context, q url.Values) ([]byte, error) {
		rq, err := recentParams(q)
		if err != nil {
			return nil, err
		}
		return s.cfg.Figures.RecentSyncsJSON(ctx, rq)
	})
}

// handleCharts serves GET {base}api/performance-charts/?days=.
func (s *Server) handleCharts() http.Handler {
	return s.answer([]string{"days"}, func(ctx context.Context, q url.Values) ([]byte, error) {
		days, err := daysParam(q, s.cfg.Figures.DefaultDays())
		if err != nil {
			return nil, err
		}
		return s.cfg.Figures.ChartsJSON(ctx, days)
	})
}

// handleErrors serves GET {base}api/errors/?days=.
func (s *Server) handleErrors() http.Handler {
	return s.answer([]string{"days"}, func(ctx context.Context, q url.Values) ([]byte, error) {
		days, err := daysParam(q, s.cfg.Figures.DefaultDays())
		if err != nil {
			return nil, err
		}
		return s.cfg.Figures.ErrorsJSON(ctx, days)
	})
}

// handleSystemHealth serves GET {base}api/system-health/: the latest background checks,
// or with ?check=now checks run now (coalesced by the monitor).
func (s *Server) handleSystemHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := parseQuery(r.URL.RawQuery, []string{"check"})
		var check string
		if err == nil {
			check, _, err = single(q, "check")
		}
		switch {
		case err != nil:
			writeError(w, r, s.cfg.Logger, err)
		case check == "":
			writeJSON(w, http.StatusOK, s.cfg.Figures.SystemHealth())
		case check == "now":
			writeJSON(w, http.StatusOK, s.cfg.Figures.CheckHealthNow(r.Context()))
		default:
			writeError(w, r, s.cfg.Logger, badParamf("check must be now"))
		}
	})
}

// handleAlerts serves GET {base}api/alerts/: the alerts' view, from memory. With the
// alerts off it answers the same shape, empty, with enabled false, so that the page and
// the warehouse's old template that polls this path keep working.
func (s *Server) handleAlerts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		startJSON(w, http.StatusOK)
		_, _ = w.Write(s.alertsJSON(time.Now()))
	})
}

// alertsOff is api/alerts/'s answer when the alerts are off.
func alertsOff(now time.Time) any {
	type stats struct {
		Total24h    int `json:"total_alerts_24h"`
		Active      int `json:"active_alerts"`
		Critical    int `json:"critical_alerts"`
		Resolved24h int `json:"resolved_alerts_24h"`
	}
	return struct {
		Enabled     bool       `json:"enabled"`
		Sender      bool       `json:"sender"`
		Firing      []struct{} `json:"firing"`
		Pending     []struct{} `json:"pending"`
		Resolved    []struct{} `json:"resolved"`
		Channels    []struct{} `json:"channels"`
		Evaluations int        `json:"evaluations"`
		EvaluatedAt *time.Time `json:"evaluated_at"`
		Alerts      []struct{} `json:"alerts"`
		AlertStats  stats      `json:"alert_stats"`
		Timestamp   time.Time  `json:"timestamp"`
	}{Firing: []struct{}{}, Pending: []struct{}{}, Resolved: []struct{}{}, Channels: []struct{}{},
		Alerts: []struct{}{}, Timestamp: now.UTC()}
}

// handleAPINotFound answers unknown API paths in JSON, like every API answer.
func handleAPINotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body apiError
		body.Error.Code, body.Error.Message = "not_found", "no such API endpoint"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			body.Error.Code, body.Error.Message = "method_not_allowed", "the API only answers GET"
			writeJSON(w, http.StatusMethodNotAllowed, body)
			return
		}
		writeJSON(w, http.StatusNotFound, body)
	})
}

// handleHealthz serves GET /healthz: the process is up.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz serves GET /readyz: the data source answers.
func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Ready == nil {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			if !s.notReady.Swap(true) {
				s.cfg.Logger.Warn("not ready", "err", err)
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		if s.notReady.Swap(false) {
			s.cfg.Logger.Info("ready again")
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
