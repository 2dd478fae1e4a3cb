package web

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates
var templateFS embed.FS

// pageData is what the page template renders.
type pageData struct {
	BasePath       string
	RefreshSeconds int
	Version        string
	DefaultDays    int
}

func parsePage(static *staticFiles) (*template.Template, error) {
	t, err := template.New("page.html").Funcs(template.FuncMap{
		"static": static.url,
	}).ParseFS(templateFS, "templates/page.html")
	if err != nil {
		return nil, fmt.Errorf("web: page template: %w", err)
	}
	return t, nil
}

// handlePage serves GET {base}: the dashboard page.
func (s *Server) handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := pageData{
			BasePath:       s.cfg.BasePath,
			RefreshSeconds: int(s.cfg.Dashboard.RefreshInterval().Seconds()),
			Version:        s.cfg.Version,
			DefaultDays:    s.cfg.Dashboard.DefaultDays(),
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := s.page.Execute(w, data); err != nil {
			s.cfg.Logger.Error("render page", "err", err)
		}
	})
}
