package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// requestTimeout bounds how long a request waits for figures that have never been
// computed; afterwards figures come from memory at once.
const requestTimeout = 20 * time.Second

// answer serves one of the dashboard's answers: get reads the request's parameters (a bad
// one is a 400) and the figures, which it waits for at most requestTimeout.
func (s *Server) answer(get func(ctx context.Context, q url.Values) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		resp, err := get(ctx, r.URL.Query())
		if err != nil {
			writeError(w, r, s.cfg.Logger, err)
			return
		}
		if st, ok := resp.(interface{ FiguresMeta() dashboard.Meta }); ok {
			s.writeEncoded(w, r.URL.Path+"?"+r.URL.RawQuery, st.FiguresMeta(), resp)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// writeEncoded writes an answer whose figures are those of meta, encoding it only when
// they changed since the last request for the same URL: between two refreshes every
// viewer gets the same bytes, and encoding them again and again was most of the cost of
// serving from memory.
func (s *Server) writeEncoded(w http.ResponseWriter, key string, meta dashboard.Meta, resp any) {
	s.encodedMu.Lock()
	e, ok := s.encoded[key]
	s.encodedMu.Unlock()
	if !ok || !sameFigures(e.meta, meta) {
		body, err := json.Marshal(resp)
		if err != nil {
			writeJSON(w, http.StatusOK, resp)
			return
		}
		e = encodedAnswer{meta: meta, body: append(body, '\n')}
		s.encodedMu.Lock()
		if len(s.encoded) >= maxEncoded {
			clear(s.encoded) // a viewer walking through parameters; start again
		}
		s.encoded[key] = e
		s.encodedMu.Unlock()
	}
	startJSON(w, http.StatusOK)
	_, _ = w.Write(e.body)
}

// maxEncoded bounds the encoded answers kept, whatever the parameters asked.
const maxEncoded = 64

type encodedAnswer struct {
	meta dashboard.Meta
	body []byte
}

func sameFigures(a, b dashboard.Meta) bool {
	return a.Timestamp.Equal(b.Timestamp) && a.Stale == b.Stale &&
		(a.StaleSince == nil) == (b.StaleSince == nil) && (a.StaleSince == nil || a.StaleSince.Equal(*b.StaleSince))
}

// handleStats serves GET {base}api/stats/.
func (s *Server) handleStats() http.Handler {
	return s.answer(func(ctx context.Context, _ url.Values) (any, error) {
		return s.cfg.Dashboard.Stats(ctx)
	})
}

// handleCRMStatus serves GET {base}api/crm-status/.
func (s *Server) handleCRMStatus() http.Handler {
	return s.answer(func(ctx context.Context, _ url.Values) (any, error) {
		return s.cfg.Dashboard.CRMStatus(ctx)
	})
}

// handleRecentSyncs serves GET {base}api/recent-syncs/?limit=&crm=&status=.
func (s *Server) handleRecentSyncs() http.Handler {
	return s.answer(func(ctx context.Context, q url.Values) (any, error) {
		rq, err := recentParams(q)
		if err != nil {
			return nil, err
		}
		return s.cfg.Dashboard.RecentSyncs(ctx, rq)
	})
}

// handleCharts serves GET {base}api/performance-charts/?days=.
func (s *Server) handleCharts() http.Handler {
	return s.answer(func(ctx context.Context, q url.Values) (any, error) {
		days, err := daysParam(q, s.cfg.Dashboard.DefaultDays())
		if err != nil {
			return nil, err
		}
		return s.cfg.Dashboard.Charts(ctx, days)
	})
}

// handleErrors serves GET {base}api/errors/?days=.
func (s *Server) handleErrors() http.Handler {
	return s.answer(func(ctx context.Context, q url.Values) (any, error) {
		days, err := daysParam(q, s.cfg.Dashboard.DefaultDays())
		if err != nil {
			return nil, err
		}
		return s.cfg.Dashboard.Errors(ctx, days)
	})
}

// handleSystemHealth serves GET {base}api/system-health/: the latest background checks,
// or with ?check=now checks run now (coalesced by the monitor).
func (s *Server) handleSystemHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		check, _, err := single(r.URL.Query(), "check")
		switch {
		case err != nil:
			writeError(w, r, s.cfg.Logger, err)
		case check == "":
			writeJSON(w, http.StatusOK, s.cfg.Dashboard.SystemHealth())
		case check == "now":
			writeJSON(w, http.StatusOK, s.cfg.Dashboard.CheckHealthNow(r.Context()))
		default:
			writeError(w, r, s.cfg.Logger, badParamf("check must be now"))
		}
	})
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
			s.cfg.Logger.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
