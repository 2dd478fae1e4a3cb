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
	"regexp"
	"slices"
	"strings"
	"time"
)

// staticFS holds the page's files: app.css, the page's ES modules in js/, and in vendor/
// the pinned front-end libraries that scripts/vendor-assets.sh copies from npm, with their
// licences and checksums.
//
//go:embed static
var staticFS embed.FS

// moduleDir holds the page's ES modules. A module imports its siblings by relative
// specifiers ("./format.js"); the loader rewrites each specifier to carry the current
// hash of its target (see loadStatic).
const moduleDir = "static/js"

// staticFiles serves the embedded files. Each URL carries the file's checksum (?v=…), so a
// browser may keep a file for a year and still never run an old file after an upgrade.
//
// Files may sit in folders (js/, vendor/), but each is served under its base name,
// because the route's {file} wildcard is one path segment. Two files with the same base
// name are an error at start-up rather than one silently hiding the other.
type staticFiles struct {
	files map[string]staticFile
	// imports maps each module of moduleDir to the sibling modules it imports directly,
	// by base name.
	imports map[string][]string
}

type staticFile struct {
	path        string // in the embedded tree, for error messages
	body        []byte // as served: a module's with its imports rewritten
	contentType string
	hash        string
}

func loadStatic() (*staticFiles, error) {
	return loadStaticFrom(staticFS)
}

// loadStaticFrom loads the files under static/ in fsys.
//
// The page's ES modules need more than a checksum of their own bytes. A browser caches
// each module under its full URL, and a module names the modules it imports itself, so
// if dashboard.js said `import … from "./format.js"`, a browser that cached
// format.js?v=old would keep running it under a new dashboard.js. So each relative
// specifier is rewritten to "./format.js?v=<hash of format.js as served>", in dependency
// order, and a module's hash is taken after its rewriting: a change to any module changes
// the URL of every module that imports it, directly or not, up to the page's entry
// point, whose URL the page (never cached) names. Modules that did not change keep their
// URLs and stay cached. Import cycles are refused, since they admit no such order.
func loadStaticFrom(fsys fs.FS) (*staticFiles, error) {
	s := &staticFiles{files: make(map[string]staticFile), imports: make(map[string][]string)}
	modules := make(map[string]*module)
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := path.Base(p)
		if prev, dup := s.files[name]; dup {
			return fmt.Errorf("%s and %s are both served as %q; rename one", prev.path, p, name)
		}
		s.files[name] = staticFile{path: p, body: body, contentType: ct, hash: contentHash(body)}
		if path.Dir(p) == moduleDir && path.Ext(p) == ".js" {
			modules[name] = &module{path: p, source: body}
		}
		return nil
	})
	if err == nil {
		err = s.versionImports(modules)
	}
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	return s, nil
}

func contentHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:6])
}

// module is an ES module of moduleDir while its imports are versioned.
type module struct {
	path   string
	source []byte
	state  int // 0 not visited, 1 being versioned (on the current path), 2 done
}

// relativeLiteral matches a string literal that starts with "./" or "../". In the page's
// modules such a literal only ever names a module to import, whatever the statement's
// shape (import … from, export … from, a bare import, import()); matching the literal
// rather than the statements means no form of import is left unversioned.
var relativeLiteral = regexp.MustCompile(`(["'])(\.\.?/[^"'\r\n]*)(["'])`)

// siblingModule is the only form of relative specifier the modules may use: a module
// of the same folder, since every static file is served under its base name.
var siblingModule = regexp.MustCompile(`^\./[A-Za-z0-9_-][A-Za-z0-9_.-]*\.js$`)

// versionImports rewrites the relative import specifiers of every module to carry the
// hash of its target, in dependency order, and sets each module's served body and hash.
func (s *staticFiles) versionImports(modules map[string]*module) error {
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	slices.Sort(names) // the same error on every start, whatever the map's order
	var stack []string
	var visit func(name string) error
	visit = func(name string) error {
		m := modules[name]
		switch m.state {
		case 2:
			return nil
		case 1:
			i := slices.Index(stack, name)
			return fmt.Errorf("modules import each other (%s → %s): their URLs cannot carry each other's hash",
				strings.Join(stack[i:], " → "), name)
		}
		m.state = 1
		stack = append(stack, name)
		var failure error
		out := relativeLiteral.ReplaceAllFunc(m.source, func(lit []byte) []byte {
			g := relativeLiteral.FindSubmatch(lit)
			spec := string(g[2])
			switch {
			case failure != nil:
				return lit
			case !bytes.Equal(g[1], g[3]):
				return lit // two literals side by side, such as "a" + './b': not one literal
			case !siblingModule.MatchString(spec):
				failure = fmt.Errorf("%s imports %q: import a module of the same folder as \"./name.js\"", m.path, spec)
				return lit
			}
			target := strings.TrimPrefix(spec, "./")
			if _, ok := modules[target]; !ok {
				failure = fmt.Errorf("%s imports %q, which is not a module of %s", m.path, spec, moduleDir)
				return lit
			}
			if failure = visit(target); failure != nil {
				return lit
			}
			if !slices.Contains(s.imports[name], target) {
				s.imports[name] = append(s.imports[name], target)
			}
			return []byte(string(g[1]) + spec + "?v=" + s.files[target].hash + string(g[3]))
		})
		if failure != nil {
			return failure
		}
		f := s.files[name]
		f.body, f.hash = out, contentHash(out)
		s.files[name] = f
		stack = stack[:len(stack)-1]
		m.state = 2
		return nil
	}
	for _, name := range names {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}

// url is the versioned URL of a static file, relative to the base path. name is the file's
// path under static/ ("app.css", "js/dashboard.js", "vendor/chart.umd.min.js").
func (s *staticFiles) url(name string) (string, error) {
	f, ok := s.files[path.Base(name)]
	if !ok || f.path != path.Join("static", name) {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "static/" + path.Base(name) + "?v=" + f.hash, nil
}

// preloads are the versioned URLs, relative to the base path and sorted, of every
// module that the entry module (its path under static/, "js/dashboard.js") imports,
// directly or not: what a page preloads, so that the browser fetches them all at once
// rather than one level of imports at a time. They come from the imports the loader
// rewrote, so a page's list cannot drift from its modules.
func (s *staticFiles) preloads(entry string) ([]string, error) {
	if _, err := s.url(entry); err != nil || path.Dir(path.Join("static", entry)) != moduleDir {
		return nil, fmt.Errorf("web: no module %q to preload the imports of", entry)
	}
	seen := map[string]bool{path.Base(entry): true}
	queue := []string{path.Base(entry)}
	var urls []string
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, imported := range s.imports[name] {
			if !seen[imported] {
				seen[imported] = true
				queue = append(queue, imported)
				urls = append(urls, "static/"+imported+"?v="+s.files[imported].hash)
			}
		}
	}
	slices.Sort(urls)
	return urls, nil
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
