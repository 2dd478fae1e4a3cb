package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/postgres"
)

// errProblems means the doctor found something to fix; it printed what.
var errProblems = errors.New("the doctor found problems; see above")

// doctor checks the warehouse's tables for what syncwatch needs and what would make it
// fast, and prints the statements that would fix what is missing. It changes nothing.
func doctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	e := &env{getenv: getenv}
	databaseURL := new(string)
	e.secret(fs, databaseURL, "database-url", "DATABASE_URL", "the warehouse's PostgreSQL URL (env DATABASE_URL)")
	explain := fs.Bool("explain", false, "compute the figures of one refresh and print every query's plan (EXPLAIN ANALYZE, BUFFERS); needs a superuser, or auto_explain in session_preload_libraries")
	if err := e.parse(fs, args, stderr); err != nil {
		return err
	}
	if *databaseURL == "" {
		return errors.New("doctor: set DATABASE_URL or --database-url")
	}
	if *explain {
		return explainRefresh(ctx, *databaseURL, stdout)
	}
	db, err := postgres.Open(ctx, *databaseURL, postgres.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := db.Diagnose(ctx)
	if err != nil {
		return err
	}

	problems := 0
	shape := "unrecognised (neither of the two known shapes)"
	switch d.Shape {
	case "A":
		shape = "A (hand-written migration)"
	case "B":
		shape = "B (Django-generated)"
	}
	fmt.Fprintf(stdout, "orchestration.sync_history: about %d rows, table shape %s\n", d.Rows, shape)
	if d.LastAnalyzed.IsZero() {
		fmt.Fprintln(stdout, "  ! never analyzed: the planner guesses; run ANALYZE orchestration.sync_history;")
		problems++
	} else {
		fmt.Fprintf(stdout, "  statistics gathered %s\n", d.LastAnalyzed.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(stdout, "\nindexes:")
	var fixes []string
	for _, ix := range d.Indexes {
		if ix.Found != "" {
			fmt.Fprintf(stdout, "  ok  %-10s %s\n", ix.Column, ix.Found)
			continue
		}
		problems++
		fmt.Fprintf(stdout, "  !   %-10s missing: %s\n", ix.Column, ix.Why)
		if ix.Invalid != "" {
			fmt.Fprintf(stdout, "      (%s exists but is invalid, left by a failed CREATE INDEX CONCURRENTLY: drop it first)\n", ix.Invalid)
		}
		fixes = append(fixes, ix.Create)
	}
	fmt.Fprintln(stdout, "\nschedules:")
	if d.HasSchedules {
		fmt.Fprintln(stdout, "  ok  orchestration.sync_schedule")
	} else {
		fmt.Fprintln(stdout, "  -   no orchestration.sync_schedule: no next runs and no overdue marks")
	}
	if d.BeatTable != "" {
		fmt.Fprintf(stdout, "  ok  %s (last runs)\n", d.BeatTable)
	} else {
		fmt.Fprintln(stdout, "  -   no readable django_celery_beat_periodictask: last runs unknown (overdue checks assume beat ran)")
	}
	fmt.Fprintln(stdout, "\naccess:")
	if d.ReadOnly {
		fmt.Fprintln(stdout, "  ok  sessions are read-only: syncwatch cannot write to the warehouse")
	}
	if d.CanWrite {
		fmt.Fprintln(stdout, "  -   this role may write to sync_history; a dedicated read-only role is better practice")
	}
	if len(fixes) > 0 {
		fmt.Fprintln(stdout, "\nTo fix, run as the table's owner (CONCURRENTLY builds without blocking the sync tasks' writes):")
		for _, f := range fixes {
			fmt.Fprintln(stdout, "  "+f)
		}
		// The drill-down learns the table's indexes once, at its first request.
		fmt.Fprintln(stdout, "then restart syncwatch, so that its drill-down pages use the new indexes.")
	}
	if problems > 0 {
		return errProblems
	}
	fmt.Fprintln(stdout, "\nall good")
	return nil
}

// explainRefresh computes the figures of one refresh of the page, as serve does, and
// prints the plan of each statement it ran, with its time: the evidence that no query
// reads more than its window.
func explainRefresh(ctx context.Context, databaseURL string, stdout io.Writer) error {
	var mu sync.Mutex
	var plans []string
	db, err := postgres.Open(ctx, databaseURL, postgres.Options{Explain: func(plan string) {
		mu.Lock()
		defer mu.Unlock()
		plans = append(plans, plan)
	}})
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := dashboard.New(dashboard.Config{Store: db})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	if _, err := d.Stats(ctx); err != nil {
		return fmt.Errorf("doctor --explain: %w (loading auto_explain needs a superuser, or auto_explain in the server's session_preload_libraries)", err)
	}
	if _, err := d.RecentSyncs(ctx, dashboard.RecentQuery{Limit: dashboard.DefaultRecentLimit}); err != nil {
		return fmt.Errorf("doctor --explain: %w", err)
	}
	took := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	for i, p := range plans {
		fmt.Fprintf(stdout, "--- statement %d of %d\n%s\n\n", i+1, len(plans), p)
	}
	fmt.Fprintf(stdout, "one refresh: %d statements in %v (several run at once)\n", len(plans), took.Round(time.Millisecond))
	return nil
}
