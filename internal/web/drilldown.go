package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down: a CRM's page (crm/<source>/), the history (history/) and one run
// (runs/<id>/), and their API (api/crms/<source>/, api/history/, api/history.csv,
// api/runs/<id>/).

// errNoSuchPath is an API path that names a CRM or run that cannot exist.
var errNoSuchPath = fmt.Errorf("path: %w", dashboard.ErrNotFound)

// handleCRM serves GET {base}api/crms/{source}/?days=.
func (s *Server) handleCRM() http.Handler {
	return s.answerRequest([]string{"days"}, func(ctx context.Context, q url.Values, r *http.Request) ([]byte, error) {
		source, ok := pathSource(r.PathValue("source"))
		if !ok {
			return nil, errNoSuchPath
		}
		days, err := crmDaysParam(q)
		if err != nil {
			return nil, err
		}
		return s.cfg.Drilldown.CRMJSON(ctx, source, days)
	})
}

// handleHistory serves GET {base}api/history/?crm=&sync_type=&status=&error_type=&from=
// &to=&min_duration=&q=&limit=&cursor=.
func (s *Server) handleHistory() http.Handler {
	return s.answerRequest(historyParamNames, func(ctx context.Context, q url.Values, _ *http.Request) ([]byte, error) {
		hq, err := historyParams(q, false)
		if err != nil {
			return nil, err
		}
		return s.cfg.Drilldown.HistoryJSON(ctx, hq)
	})
}

// handleRun serves GET {base}api/runs/{id}/.
func (s *Server) handleRun() http.Handler {
	return s.answerRequest(nil, func(ctx context.Context, _ url.Values, r *http.Request) ([]byte, error) {
		id, ok := pathRunID(r.PathValue("id"))
		if !ok {
			return nil, errNoSuchPath
		}
		return s.cfg.Drilldown.RunDetailJSON(ctx, id)
	})
}

// writtenCounter counts what reaches the client, so that an error before the first byte
// can still be answered as an error.
type writtenCounter struct {
	http.ResponseWriter
	n int64
}

func (w *writtenCounter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// csvWriteGrace is how long a CSV export may take to write one batch to the viewer.
const csvWriteGrace = 30 * time.Second

// handleHistoryCSV serves GET {base}api/history.csv with the history's parameters: the
// rows as CSV, streamed, with limit (default and at most 100,000) the most rows.
func (s *Server) handleHistoryCSV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := parseQuery(r.URL.RawQuery, historyParamNames)
		if err != nil {
			writeError(w, r, s.cfg.Logger, err)
			return
		}
		hq, err := historyParams(q, true)
		if err != nil {
			writeError(w, r, s.cfg.Logger, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="sync-history-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodHead {
			// The headers say what a GET would send; the rows are read only for a GET.
			w.WriteHeader(http.StatusOK)
			return
		}
		out := &writtenCounter{ResponseWriter: w}
		rc := http.NewResponseController(w)
		// An export may outlast the server's write timeout; it gets csvWriteGrace from
		// its start and again at each batch, so only a viewer who stops reading is cut.
		_ = rc.SetWriteDeadline(time.Now().Add(csvWriteGrace))
		flush := func() {
			_ = rc.Flush()
			_ = rc.SetWriteDeadline(time.Now().Add(csvWriteGrace))
		}
		err = s.cfg.Drilldown.ExportHistoryCSV(r.Context(), out, flush, hq)
		switch {
		case err == nil:
		case out.n == 0:
			h.Del("Content-Disposition")
			writeError(w, r, s.cfg.Logger, err)
		case errors.Is(err, context.Canceled):
			// The viewer went away; the file says where it stopped.
		default:
			s.cfg.Logger.Warn("export stopped early", "err", err)
		}
	})
}

// drillPageData is what the drill-down's pages render.
type drillPageData struct {
	// Kind is the page: "crm", "history", "run" or "not_found".
	Kind string
	// Root leads from the page's URL back to the base path ("../../" from crm/x/).
	Root           string
	Title          string
	RefreshSeconds int
	Version        string
	// Source and RunID name the CRM or run of the page.
	Source string
	RunID  int64
	// Missing says, on a not-found page, what was not found.
	Missing string
	// Initial is the answer the page paints first; null when it could not be had at once
	// (the page's script asks the API, and shows its error).
	Initial json.RawMessage
}

func parseDrillPage(static *staticFiles) (*template.Template, error) {
	t, err := template.New("drill.html").Funcs(template.FuncMap{
		"static":   static.url,
		"preloads": static.preloads,
	}).ParseFS(templateFS, "templates/drill.html")
	if err != nil {
		return nil, fmt.Errorf("web: drill-down template: %w", err)
	}
	return t, nil
}

// renderDrill writes a drill-down page with the given status.
func (s *Server) renderDrill(w http.ResponseWriter, status int, data drillPageData) {
	data.RefreshSeconds = max(1, int(s.cfg.Figures.RefreshInterval().Round(time.Second).Seconds()))
	data.Version = s.cfg.Version
	if data.Initial == nil {
		data.Initial = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.drill.Execute(w, data); err != nil {
		s.cfg.Logger.Error("render drill-down page", "kind", data.Kind, "err", err)
	}
}

// first is the answer a page paints first, or nil when it could not be had in time.
func first(body []byte, err error) json.RawMessage {
	if err != nil {
		return nil
	}
	return body
}

// handleCRMPage serves GET {base}crm/{source}/: a CRM's page, or 404 for a CRM the
// warehouse does not know.
func (s *Server) handleCRMPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.PathValue("source")
		data := drillPageData{Kind: "crm", Root: "../../", Source: raw}
		source, ok := pathSource(raw)
		if !ok {
			s.notFoundPage(w, data, "CRM")
			return
		}
		data.Source = source
		// The charts' days live in the URL (?days=30), so a view can be shared.
		days := 7
		if q, err := parseQuery(r.URL.RawQuery, []string{"days"}); err == nil {
			if d, err := crmDaysParam(q); err == nil {
				days = d
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), firstPaintTimeout)
		defer cancel()
		body, err := s.cfg.Drilldown.CRMJSON(ctx, source, days)
		if errors.Is(err, dashboard.ErrNotFound) {
			s.notFoundPage(w, data, "CRM")
			return
		}
		data.Title = source
		data.Initial = first(body, err)
		s.renderDrill(w, http.StatusOK, data)
	})
}

// handleHistoryPage serves GET {base}history/ with the history's parameters in its URL.
func (s *Server) handleHistoryPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := drillPageData{Kind: "history", Root: "../", Title: "History"}
		if q, err := parseQuery(r.URL.RawQuery, historyParamNames); err == nil {
			if hq, err := historyParams(q, false); err == nil {
				ctx, cancel := context.WithTimeout(r.Context(), firstPaintTimeout)
				defer cancel()
				data.Initial = first(s.cfg.Drilldown.HistoryJSON(ctx, hq))
			}
		}
		s.renderDrill(w, http.StatusOK, data)
	})
}

// handleRunPage serves GET {base}runs/{id}/: one run, or 404 for an id without a row.
func (s *Server) handleRunPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := drillPageData{Kind: "run", Root: "../../", Source: r.PathValue("id")}
		id, ok := pathRunID(r.PathValue("id"))
		if !ok {
			s.notFoundPage(w, data, "run")
			return
		}
		data.RunID = id
		ctx, cancel := context.WithTimeout(r.Context(), firstPaintTimeout)
		defer cancel()
		body, err := s.cfg.Drilldown.RunDetailJSON(ctx, id)
		if errors.Is(err, dashboard.ErrNotFound) {
			s.notFoundPage(w, data, "run")
			return
		}
		data.Title = fmt.Sprintf("Run %d", id)
		data.Initial = first(body, err)
		s.renderDrill(w, http.StatusOK, data)
	})
}

// notFoundPage answers 404 with a page that says what was not found.
func (s *Server) notFoundPage(w http.ResponseWriter, data drillPageData, what string) {
	data.Kind, data.Missing, data.Title, data.Initial = "not_found", what, "Not found", nil
	// The path is shown as text, but cleaned: a control character in a URL is no name.
	data.Source = syncs.CleanText(data.Source, syncs.MaxWordLength)
	s.renderDrill(w, http.StatusNotFound, data)
}
