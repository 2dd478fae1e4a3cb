// Package demotest gives tests a demo database that is already filled, without a fill
// each: demo.Prepare writes 30 days (about 40,000 rows) through a C library transpiled
// to Go, which takes seconds, and twenty under the race detector. A Template is filled
// once per test binary, the first time a test asks for it, and each test gets a copy of
// the file of its own.
package demotest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// fillTimeout bounds the fill against a hang, not for speed: under the race detector,
// on a busy machine, a 30-day fill has taken over a minute.
const fillTimeout = 5 * time.Minute

// Template is a demo database that demo.Prepare filled, empty, at a fixed time.
type Template struct {
	at   time.Time
	fill func() (filled, error)
}

// filled is the template's file, checkpointed: its bytes, and what the fill reported.
type filled struct {
	main, wal []byte
	prepared  demo.Prepared
}

// NewTemplate returns a template that is filled at at, the first time a test asks for it.
// Declare it once per package (a package-level variable), so the fill happens once.
func NewTemplate(at time.Time) *Template {
	tp := &Template{at: at.UTC()}
	tp.fill = sync.OnceValues(tp.make)
	return tp
}

// At is the time the template was filled at: demo.Prepare at a later time brings a copy
// up to that time, as a demo started again later would.
func (tp *Template) At() time.Time { return tp.at }

// Prepared is what demo.Prepare reported when it filled the template.
func (tp *Template) Prepared(t testing.TB) demo.Prepared {
	t.Helper()
	f, err := tp.fill()
	if err != nil {
		t.Fatal(err)
	}
	return f.prepared
}

// CopyTo writes a copy of the filled file at path, creating its directory.
func (tp *Template) CopyTo(t testing.TB, path string) {
	t.Helper()
	f, err := tp.fill()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f.main, 0o600); err != nil {
		t.Fatal(err)
	}
	if f.wal != nil {
		if err := os.WriteFile(path+"-wal", f.wal, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Open opens a copy of the filled file in the test's temporary directory, closed when the
// test ends.
func (tp *Template) Open(t testing.TB) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	tp.CopyTo(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// make fills an empty file at tp.at and keeps its bytes: the file is closed first, so
// that SQLite checkpoints its write-ahead log into the main file and removes it. A log
// left behind (a checkpoint that could not finish) is kept too, and copied beside it: the
// two make the database.
func (tp *Template) make() (filled, error) {
	dir, err := os.MkdirTemp("", "syncwatch-demotest-")
	if err != nil {
		return filled{}, fmt.Errorf("demotest: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), fillTimeout)
	defer cancel()
	path := filepath.Join(dir, "demo.sqlite")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return filled{}, fmt.Errorf("demotest: %w", err)
	}
	p, err := demo.Prepare(ctx, db, tp.at)
	if err := errors.Join(err, db.Close()); err != nil {
		return filled{}, fmt.Errorf("demotest: fill the template: %w", err)
	}
	f := filled{prepared: p}
	if f.main, err = os.ReadFile(path); err != nil {
		return filled{}, fmt.Errorf("demotest: %w", err)
	}
	if f.wal, err = os.ReadFile(path + "-wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return filled{}, fmt.Errorf("demotest: %w", err)
	}
	return f, nil
}
