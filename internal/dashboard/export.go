package dashboard

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The history as CSV (api/history.csv): the rows of the same filters as api/history/,
// newest first, streamed: a batch of exportBatch rows is read (taking the heavy
// computations' turn, so an export never runs beside another heavy question), written
// and flushed, then the next, so memory stays constant whatever the number of rows. At
// most maxExports run at once.

// exportHeader is the CSV's first line.
var exportHeader = []string{"id", "crm_source", "name", "sync_type", "status", "start_time", "end_time",
	"duration_seconds", "records_processed", "records_created", "records_updated", "records_failed",
	"error_type", "error_message"}

// ExportHistoryCSV writes the rows q selects to w as CSV, at most q.Limit of them, calling
// flush after each batch. When the bound cuts the rows, or the export stops early, its
// last line says so. An error before anything was written is returned (ErrBusy when
// maxExports are running) and w is untouched; afterwards the CSV itself says what
// happened, and the error is returned for the log.
func (d *Dashboard) ExportHistoryCSV(ctx context.Context, w io.Writer, flush func(), q HistoryQuery) error {
	select {
	case d.exports <- struct{}{}:
		defer func() { <-d.exports }()
	default:
		return ErrBusy
	}
	q = q.normalized()
	out := csv.NewWriter(w)
	started := false
	end := func(note string, err error) error {
		if started {
			_ = out.Write([]string{"# " + note})
			out.Flush()
			flush()
		}
		return err
	}
	remaining := q.Limit
	cursor := q.Cursor
	// last is the position of the last row written, which a cut continues from (it may
	// be a batch's: the batch after it can find one row more, and write nothing).
	var last syncs.Position
	// width carries the slices' width from batch to batch: sparse rows (one CRM's
	// failures over twenty years) are then not searched a day at a time again each batch.
	width := firstSlice
	for {
		// One more row than may be written tells whether the bound cut the rows.
		want := min(exportBatch, remaining+1)
		release, err := d.cache.takeTurn(ctx)
		if err != nil {
			return end("the export stopped early: the request ended", err)
		}
		batch := q
		batch.Cursor = cursor
		found, err := d.searchHistoryFrom(ctx, batch, want, width)
		release()
		width = found.width
		if err != nil {
			if !started {
				return err
			}
			return end("the export stopped early: the database did not answer; export again from cursor "+
				FormatCursor(*cursor), err)
		}
		if !started {
			started = true
			if err := out.Write(exportHeader); err != nil {
				return err
			}
		}
		stuckBefore := d.now().Add(-d.cfg.StuckAfter)
		runs := found.runs
		cut := len(runs) > remaining
		if cut {
			runs = runs[:remaining]
		}
		for _, run := range runs {
			if err := out.Write(exportRecord(syncRun(run, stuckBefore))); err != nil {
				return err // the viewer went away
			}
			last = syncs.Position{Start: run.Start, ID: run.ID}
		}
		remaining -= len(runs)
		out.Flush()
		if err := out.Error(); err != nil {
			return err
		}
		flush()
		switch {
		case cut:
			return end(fmt.Sprintf("cut at %d rows: narrow the filters or export the rest from cursor %s",
				q.Limit, FormatCursor(last)), nil)
		case len(found.runs) == want:
			cursor = ptr(found.pos)
		case found.complete:
			return nil
		case found.tooSlow:
			return end("the export stopped early: the search took longer than allowed at runs started "+
				found.pos.Start.UTC().Format(time.RFC3339)+"; narrow the filters or export the rest from cursor "+
				FormatCursor(found.pos), nil)
		default: // searched its span; the export goes on
			cursor = ptr(found.pos)
		}
		if err := ctx.Err(); err != nil {
			return end("the export stopped early: the request ended", err)
		}
	}
}

// exportRecord is one row of the CSV. Every cell that a spreadsheet would read as a
// formula is neutralised.
func exportRecord(s SyncRun) []string {
	text := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	integer := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	number := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	instant := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	cells := []string{strconv.FormatInt(s.ID, 10), s.CRMSource, s.Name, s.SyncType, s.Status,
		instant(&s.StartTime), instant(s.EndTime), number(s.DurationSeconds), integer(s.RecordsProcessed),
		integer(s.RecordsCreated), integer(s.RecordsUpdated), integer(s.RecordsFailed),
		text(s.ErrorType), text(s.ErrorMessage)}
	for i, c := range cells {
		cells[i] = NeutraliseCell(c)
	}
	return cells
}

// NeutraliseCell keeps a spreadsheet from reading a cell as a formula: a cell that starts
// with '=', '+', '-' or '@' (or a tab or carriage return, which some read past) gets a
// leading apostrophe, which spreadsheets show as text and do not evaluate.
func NeutraliseCell(c string) string {
	if c == "" {
		return c
	}
	switch c[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + c
	}
	return c
}
