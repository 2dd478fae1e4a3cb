package web

import "net/http"

// routes is the whole route table.
func (s *Server) routes() {
	base := s.cfg.BasePath
	s.mux.Handle("GET /healthz", handleHealthz())
	s.mux.Handle("GET /readyz", s.handleReadyz())
	if base != "/" {
		s.mux.Handle("GET /{$}", http.RedirectHandler(base, http.StatusFound))
	}
	s.mux.Handle("GET "+base+"{$}", s.handlePage())
	s.mux.Handle("GET "+base+"static/{file}", s.handleStatic())
	s.mux.Handle("GET "+base+"api/stats/{$}", s.handleStats())
	s.mux.Handle("GET "+base+"api/crm-status/{$}", s.handleCRMStatus())
	s.mux.Handle("GET "+base+"api/recent-syncs/{$}", s.handleRecentSyncs())
	s.mux.Handle("GET "+base+"api/performance-charts/{$}", s.handleCharts())
	s.mux.Handle("GET "+base+"api/errors/{$}", s.handleErrors())
	s.mux.Handle("GET "+base+"api/system-health/{$}", s.handleSystemHealth())
	if s.cfg.Drilldown != nil {
		s.mux.Handle("GET "+base+"crm/{source}/{$}", s.handleCRMPage())
		s.mux.Handle("GET "+base+"history/{$}", s.handleHistoryPage())
		s.mux.Handle("GET "+base+"runs/{id}/{$}", s.handleRunPage())
		s.mux.Handle("GET "+base+"api/crms/{source}/{$}", s.handleCRM())
		s.mux.Handle("GET "+base+"api/history/{$}", s.handleHistory())
		s.mux.Handle("GET "+base+"api/history.csv", s.handleHistoryCSV())
		s.mux.Handle("GET "+base+"api/runs/{id}/{$}", s.handleRun())
	}
	s.mux.Handle("GET "+base+"api/alerts/{$}", s.handleAlerts())
	s.mux.Handle(base+"api/", handleAPINotFound())
	if s.cfg.Metrics != nil {
		// At the root too: that is where scrapers look by default.
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
		if base != "/" {
			s.mux.Handle("GET "+base+"metrics", s.cfg.Metrics)
		}
	}
}
