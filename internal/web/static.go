package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

// staticFS holds the page's files: app.js and app.css, and in vendor/ the pinned front-end
// libraries that scripts/vendor-assets.sh copies from npm, with their licences and
// checksums.
//
//go:embed static
var staticFS embed.FS

// staticFiles serves the embedded files. Each URL carries the file's checksum (?v=…), so a
// browser may keep a file for a year and still never run an old app.js after an upgrade.
//
// Files may sit in folders (vendor/), but each is served under its base name, because the
// route's {file} wildcard is one path segment. Two files with the same base name are an
// error at start-up rather than one silently hiding the other.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	path        string // in staticFS, for error messages
	body        []byte
	contentType string
	hash        string
}

func loadStatic() (*staticFiles, error) {
	s := &staticFiles{files: make(map[string]staticFile)}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := path.Base(p)
		if prev, dup := s.files[name]; dup {
			return fmt.Errorf("%s and %s are both served as %q; rename one", prev.path, p, name)
		}
		s.files[name] = staticFile{path: p, body: body, contentType: ct, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	return s, nil
}

// url is the versioned URL of a static file, relative to the base path. name is the file's
// path under static/ ("app.js", "vendor/chart.umd.min.js").
func (s *staticFiles) url(name string) (string, error) {
	f, ok := s.files[path.Base(name)]
	if !ok || f.path != path.Join("static", name) {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "static/" + path.Base(name) + "?v=" + f.hash, nil
}

// handleStatic serves GET {base}static/{file}.
func (s *Server) handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := s.static.files[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		if r.URL.Query().Get("v") == f.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("ETag", `"`+f.hash+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}
