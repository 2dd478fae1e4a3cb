package web_test

import (
	"html"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// staticRef matches the static files the page names: stylesheets, scripts, preloads.
var staticRef = regexp.MustCompile(`(?:href|src)="(static/[^"]+)"`)

// pageStatic fetches the page and returns the static URLs it names, each with the
// element's tag text, so a test can tell a module script from a preload.
func pageStatic(t *testing.T, s *site) (page string, refs []string) {
	t.Helper()
	_, page = get(t, s.pageURL())
	for _, m := range staticRef.FindAllStringSubmatch(page, -1) {
		refs = append(refs, html.UnescapeString(m[1]))
	}
	return page, refs
}

func TestStaticFilesAreVersionedAndCached(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	_, refs := pageStatic(t, s)
	for _, want := range []string{"static/bootstrap.min.css?", "static/app.css?", "static/chart.umd.min.js?", "static/dashboard.js?"} {
		if !slices.ContainsFunc(refs, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("the page does not load %s…: %v", want, refs)
		}
	}
	for _, url := range refs {
		res, body := get(t, s.pageURL()+url)
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %s", url, res.Status)
			continue
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want immutable", url, cc)
		}
		wantType := map[bool]string{true: "text/css", false: "text/javascript"}[strings.Contains(url, ".css")]
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Errorf("GET %s: Content-Type %q, want %s", url, ct, wantType)
		}
	}
	// Without the checksum a file may change under the same URL: no long caching.
	for _, name := range []string{"dashboard.js", "format.js", "app.css"} {
		res, _ := get(t, s.pageURL()+"static/"+name)
		if cc := res.Header.Get("Cache-Control"); res.StatusCode != http.StatusOK || cc != "no-cache" {
			t.Errorf("GET static/%s without ?v=: %s, Cache-Control %q, want 200 and no-cache", name, res.Status, cc)
		}
	}
}

// importSpecifier finds the specifiers of a module's imports and re-exports, in every
// shape a module may write them: import … from "x", export … from "x", import "x",
// import("x"). It is written independently of the server's rewriting, so a form the
// server overlooks is caught here.
var importSpecifier = regexp.MustCompile(`(?m)^\s*(?:import|export)\s[\w*{}\s,$]*?\bfrom\s*["']([^"']*)["']` +
	`|^\s*import\s*["']([^"']*)["']` +
	`|\bimport\s*\(\s*["']([^"']*)["']`)

// specifiers returns the import specifiers of a module's source.
func specifiers(body string) []string {
	var out []string
	for _, m := range importSpecifier.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+m[2]+m[3]) // one of the three is set
	}
	return out
}

// moduleScript matches the page's module scripts.
var moduleScript = regexp.MustCompile(`<script type="module" src="(static/[^"]+)"`)

// walkModules fetches the page's module scripts and every module they import, directly or
// not, and returns each module's URL as imported (relative to the page) with its body.
func walkModules(t *testing.T, s *site, page string) map[string]string {
	t.Helper()
	bodies := map[string]string{}
	var queue []string
	for _, m := range moduleScript.FindAllStringSubmatch(page, -1) {
		queue = append(queue, html.UnescapeString(m[1]))
	}
	if len(queue) == 0 {
		t.Fatalf("the page has no module script")
	}
	for len(queue) > 0 {
		url := queue[0]
		queue = queue[1:]
		if _, seen := bodies[url]; seen {
			continue
		}
		res, body := get(t, s.pageURL()+url)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, res.Status)
		}
		bodies[url] = body
		for _, spec := range specifiers(body) {
			if !strings.HasPrefix(spec, "./") {
				t.Errorf("%s imports %q: the page's modules import their siblings only", url, spec)
				continue
			}
			queue = append(queue, "static/"+strings.TrimPrefix(spec, "./"))
		}
	}
	return bodies
}

// Every import the browser follows names its target with the target's current hash: a
// browser holding an older module under a year-long cache can never run it after an
// upgrade, because the new importer asks for a new URL.
func TestModuleImportsCarryTheirTargetsHash(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	page, _ := pageStatic(t, s)
	modules := walkModules(t, s, page)
	if len(modules) < 5 {
		t.Fatalf("the page reaches %d modules, want the whole graph: %v", len(modules), slices.Collect(maps.Keys(modules)))
	}
	for url, body := range modules {
		specs := specifiers(body)
		if strings.Contains(url, "dashboard.js") && len(specs) < 5 {
			t.Errorf("%s imports %d modules; the entry point imports every section", url, len(specs))
		}
		for _, spec := range specs {
			name, v, ok := strings.Cut(strings.TrimPrefix(spec, "./"), "?v=")
			if !ok || v == "" {
				t.Errorf("%s imports %q without the target's hash", url, spec)
				continue
			}
			// The current hash of the target is the ETag it is served with.
			res, _ := get(t, s.pageURL()+"static/"+name)
			if etag := strings.Trim(res.Header.Get("ETag"), `"`); etag != v {
				t.Errorf("%s imports %s?v=%s, but %s is now %s: a browser could run a stale module", url, name, v, name, etag)
			}
			res, _ = get(t, s.pageURL()+"static/"+name+"?v="+v)
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("%s: the URL %s imports is not cached as immutable (%q)", url, spec, cc)
			}
		}
		// Nothing else in a module may look like a relative path that escaped versioning.
		for _, lit := range regexp.MustCompile(`["'](\.\.?/[^"']*)["']`).FindAllStringSubmatch(body, -1) {
			if !strings.Contains(lit[1], "?v=") {
				t.Errorf("%s holds the unversioned relative path %q", url, lit[1])
			}
		}
	}
}

// The page preloads exactly the modules its entry point imports, directly or not, so the
// browser fetches them all at once, and the list cannot drift from the imports.
func TestPagePreloadsEveryModuleItImports(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	page, _ := pageStatic(t, s)
	var preloaded []string
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="(static/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		preloaded = append(preloaded, html.UnescapeString(m[1]))
	}
	var imported []string
	entries := moduleScript.FindAllStringSubmatch(page, -1)
	for url := range walkModules(t, s, page) {
		if !slices.ContainsFunc(entries, func(e []string) bool { return html.UnescapeString(e[1]) == url }) {
			imported = append(imported, url)
		}
	}
	slices.Sort(preloaded)
	slices.Sort(imported)
	if !slices.Equal(preloaded, imported) {
		t.Errorf("the page preloads\n\t%v\nbut its modules import\n\t%v", preloaded, imported)
	}
}
