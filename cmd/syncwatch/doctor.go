package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/syncwatch/syncwatch/internal/postgres"
)

// errProblems means the doctor found something to fix; it printed what.
var errProblems = errors.New("the doctor found problems; see above")

// doctor checks the warehouse's tables for what syncwatch needs and what would make it
// fast, and prints the statements that would fix what is missing. It changes nothing.
func doctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	databaseURL := fs.String("database-url", getenv("DATABASE_URL"), "the warehouse's PostgreSQL URL (env DATABASE_URL)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *databaseURL == "" {
		return errors.New("doctor: set DATABASE_URL or --database-url")
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
	}
	if problems > 0 {
		return errProblems
	}
	fmt.Fprintln(stdout, "\nall good")
	return nil
}
