package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/sqlite"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// openDemo opens the embedded SQLite database at path, creating it and its directory when
// absent, and makes its history current: an empty one gets demo.FillDays of demo history;
// with simulate, one a demo wrote before is brought up to now as if the sync engines had
// kept running. It returns the store and, with simulate, the simulator's run function,
// which writes runs every `every` until its context ends, then gives up the claim (nil
// without simulate, or when another process already simulates in the file: see
// demo.ClaimSimulator). Stop the simulator before closing the store.
//
// Only the process that holds the file's claim writes to it: the simulator's, or without
// one, the process that fills an empty file, for as long as the fill takes. A process
// that cannot claim the file only shows it.
func openDemo(ctx context.Context, path string, simulate bool, every time.Duration, logger *slog.Logger) (syncs.Store, func(context.Context), error) {
	return openDemoOn(ctx, path, simulate, every, clock.Real(), logger)
}

// openDemoOn is openDemo on the clock clk, which dates the fill and drives the simulator.
func openDemoOn(ctx context.Context, path string, simulate bool, every time.Duration, clk clock.Clock, logger *slog.Logger) (syncs.Store, func(context.Context), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("demo database: %w", err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	release, claimed, err := demo.ClaimSimulator(db.Path())
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if !claimed {
		if simulate {
			logger.Warn("another syncwatch simulates in this demo database; this one only shows it", "path", db.Path())
		} else {
			logger.Info("embedded database, written by another syncwatch", "path", db.Path())
		}
		return db, nil, nil
	}
	now := clk.Now()
	prepare := demo.FillIfEmpty
	if simulate {
		prepare = demo.Prepare
	}
	p, err := prepare(ctx, db, now)
	if err != nil {
		release()
		db.Close()
		return nil, nil, err
	}
	switch {
	case p.Filled:
		logger.Info("demo database filled", "path", db.Path(), "days", demo.FillDays, "rows", p.Inserted, "took", p.Took.Round(time.Millisecond))
	case p.Inserted > 0:
		logger.Info("demo database brought up to now", "path", db.Path(), "rows", p.Inserted, "took", p.Took.Round(time.Millisecond))
	default:
		logger.Info("embedded database", "path", db.Path())
	}
	if !simulate {
		release()
		return db, nil, nil
	}
	sim := demo.NewSimulator(db, demo.SimulatorConfig{Every: every, Since: now, Clock: clk, Logger: logger})
	return db, func(ctx context.Context) {
		defer release()
		sim.Run(ctx)
	}, nil
}

// defaultSQLitePath is where the embedded database lives unless told otherwise: the XDG
// data directory ($XDG_DATA_HOME, else ~/.local/share), or the system's temporary
// directory when there is no home.
func defaultSQLitePath(getenv func(string) string) string {
	// The XDG specification says to ignore a relative XDG_DATA_HOME.
	if dir := getenv("XDG_DATA_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "syncwatch", "demo.sqlite")
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "share", "syncwatch", "demo.sqlite")
	}
	return filepath.Join(os.TempDir(), "syncwatch", "demo.sqlite")
}
