package web

import (
	"strings"
	"testing"
	"testing/fstest"
)

// moduleTree is a small module graph: entry imports a (multi-line) and b (dynamically);
// a re-exports leaf; other imports nothing.
func moduleTree(leaf string) fstest.MapFS {
	return fstest.MapFS{
		"static/app.css":      {Data: []byte("body{}")},
		"static/js/entry.js":  {Data: []byte("import {\n  x,\n  y,\n} from \"./a.js\";\nconst b = () => import('./b.js');\nconsole.log(x, y, b, \"not ./a path\");\n")},
		"static/js/a.js":      {Data: []byte("export { x } from './leaf.js';\nexport const y = 2;\n")},
		"static/js/b.js":      {Data: []byte("import \"./leaf.js\";\n")},
		"static/js/leaf.js":   {Data: []byte(leaf)},
		"static/js/other.js":  {Data: []byte("export const z = 3;\n")},
		"static/vendor/x.js":  {Data: []byte("import './not-a-module-of-ours.js';\n")},
		"static/vendor/y.css": {Data: []byte("")},
	}
}

func mustLoad(t *testing.T, fsys fstest.MapFS) *staticFiles {
	t.Helper()
	s, err := loadStaticFrom(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A module's URL must change whenever any module it imports changes, directly or not:
// the hash is taken after the imports are rewritten, in dependency order.
func TestModuleHashesFollowWhatTheyImport(t *testing.T) {
	before := mustLoad(t, moduleTree("export const x = 1;\n"))
	after := mustLoad(t, moduleTree("export const x = 42;\n"))
	for name, wantChange := range map[string]bool{
		"leaf.js": true, "a.js": true, "b.js": true, "entry.js": true, // leaf and all that reach it
		"other.js": false, "app.css": false, "x.js": false,
	} {
		changed := before.files[name].hash != after.files[name].hash
		if changed != wantChange {
			t.Errorf("%s: hash changed %v when leaf.js changed, want %v", name, changed, wantChange)
		}
	}
	for name, f := range after.files {
		if f.hash != contentHash(f.body) {
			t.Errorf("%s: hash %s is not the hash of the body served", name, f.hash)
		}
	}
	// Every form of import is rewritten to the target's current hash.
	entry := string(after.files["entry.js"].body)
	for _, want := range []string{`"./a.js?v=` + after.files["a.js"].hash + `"`, `'./b.js?v=` + after.files["b.js"].hash + `'`, `"not ./a path"`} {
		if !strings.Contains(entry, want) {
			t.Errorf("entry.js as served lacks %s:\n%s", want, entry)
		}
	}
	for _, name := range []string{"a.js", "b.js"} {
		if want := "./leaf.js?v=" + after.files["leaf.js"].hash; !strings.Contains(string(after.files[name].body), want) {
			t.Errorf("%s as served lacks %s:\n%s", name, want, after.files[name].body)
		}
	}
	// Files outside js/ are served as they are, vendor scripts included.
	if got := string(after.files["x.js"].body); got != "import './not-a-module-of-ours.js';\n" {
		t.Errorf("vendor/x.js was rewritten: %q", got)
	}
}

func TestModuleLoaderRefusesWhatItCannotVersion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"import cycle", map[string]string{
			"a.js": `import "./b.js";`, "b.js": `import { c } from "./c.js";`, "c.js": `export * from './a.js';`,
		}, "a.js → b.js → c.js → a.js"},
		{"missing module", map[string]string{"a.js": `import { x } from "./nope.js";`}, `"./nope.js", which is not a module`},
		{"parent folder", map[string]string{"a.js": `import "../app.css";`}, `"../app.css": import a module of the same folder`},
		{"sub folder", map[string]string{"a.js": `import "./sub/b.js";`}, `"./sub/b.js": import a module`},
		{"not a script", map[string]string{"a.js": `import "./b.css";`}, `"./b.css": import a module`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range tc.files {
				fsys["static/js/"+name] = &fstest.MapFile{Data: []byte(src)}
			}
			_, err := loadStaticFrom(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %s", err, tc.want)
			}
		})
	}
}

// The embedded modules load, and each is served with every relative import versioned.
func TestEmbeddedModulesAreVersioned(t *testing.T) {
	s, err := loadStatic()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, f := range s.files {
		if !strings.HasPrefix(f.path, moduleDir+"/") {
			continue
		}
		n++
		for _, m := range relativeLiteral.FindAllStringSubmatch(string(f.body), -1) {
			spec, v, ok := strings.Cut(m[2], "?v=")
			target := strings.TrimPrefix(spec, "./")
			if !ok || s.files[target].hash != v {
				t.Errorf("%s imports %s, want ?v=%s", name, m[2], s.files[target].hash)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d modules in %s, want the page's modules", n, moduleDir)
	}
}
