package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// One run (api/runs/<id>/): every column of its row, its duration beside its entity's
// percentiles, and the rows of the same entity before and after it.

// MaxJSONColumnLength bounds a JSON column as shown, in characters.
const MaxJSONColumnLength = 20_000

func runKey(id int64) string { return "run/" + strconv.FormatInt(id, 10) }

// RunDetail answers GET api/runs/<id>/; a row that does not exist is ErrNotFound.
func (d *Dashboard) RunDetail(ctx context.Context, id int64) (RunDetailResponse, error) {
	// The neighbours may walk the start_time index on a table without the entity index:
	// a heavy computation, which takes its turn.
	v, meta, err := d.cache.get(ctx, runKey(id), true, func(ctx context.Context) (any, time.Time, error) {
		r, err := d.computeRunDetail(ctx, id)
		return r, r.Timestamp, err
	})
	if err != nil {
		return RunDetailResponse{}, err
	}
	r := v.(RunDetailResponse)
	if r.notFound {
		return RunDetailResponse{}, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	r.Meta = meta
	return r, nil
}

// RunDetailJSON is the JSON of RunDetail.
func (d *Dashboard) RunDetailJSON(ctx context.Context, id int64) ([]byte, error) {
	a, err := d.RunDetail(ctx, id)
	return d.answers.encode(runKey(id), a.Meta, a, err)
}

func (d *Dashboard) computeRunDetail(ctx context.Context, id int64) (RunDetailResponse, error) {
	now := d.now().UTC()
	r := RunDetailResponse{Meta: Meta{Timestamp: now}}
	row, found, err := d.cfg.Store.RunByID(ctx, id)
	if err != nil {
		return r, fmt.Errorf("run %d: %w", id, err)
	}
	if !found {
		// "No such row" is an answer, kept like any other: a row written later is found
		// at the next refresh.
		r.notFound = true
		return r, nil
	}
	run := row.Run
	stuckBefore := now.Add(-d.cfg.StuckAfter)
	r.Run = RunInfo{SyncRun: syncRun(run, stuckBefore), RawStatus: word(row.RawStatus),
		Endpoint: cleanOptional(row.Endpoint, syncs.MaxMessageLength), CreatedAt: utc(row.CreatedAt),
		Configuration: jsonColumn(row.Configuration), PerformanceMetrics: jsonColumn(row.PerformanceMetrics),
		Columns: row.Columns}
	if r.Run.Columns == nil {
		r.Run.Columns = []string{}
	}

	entity, err := d.cfg.Store.EntityRuns(ctx, run.CRMSource, run.SyncType, now.Add(-entityWindow), farFuture, entityRowLimit)
	if err != nil {
		return r, fmt.Errorf("run %d: entity: %w", id, err)
	}
	var durations []int64
	for _, e := range entity {
		if dur, ok := e.Duration(); ok && succeeded(e) {
			durations = append(durations, dur.Microseconds())
		}
	}
	slices.Sort(durations)
	r.Entity = EntityDurations{DurationP50: percentileSeconds(durations, 50), DurationP95: percentileSeconds(durations, 95),
		DurationRuns: int64(len(durations))}
	if run.Status == syncs.StatusRunning {
		r.Run.ElapsedSeconds = ptr(secondsOf(now.Sub(run.Start)))
		if len(durations) > 0 {
			r.Run.Slow = slow(run, now, stuckBefore, int64(len(durations)), time.Duration(nearestRank(durations, 95))*time.Microsecond)
		}
	}

	prev, next, err := d.cfg.Store.Neighbours(ctx, run.CRMSource, run.SyncType, syncs.Position{Start: run.Start, ID: run.ID})
	if err != nil {
		return r, fmt.Errorf("run %d: neighbours: %w", id, err)
	}
	if prev != nil {
		r.Previous = ptr(runRef(*prev))
	}
	if next != nil {
		r.Next = ptr(runRef(*next))
	}
	return r, nil
}

// jsonColumn shows a JSON column: indented, cleaned and with its secrets masked (a run's
// configuration may hold a key); text that is not JSON is shown as it is, cleaned and
// masked. NULL stays nil.
func jsonColumn(raw *string) *string {
	if raw == nil {
		return nil
	}
	text := *raw
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(text), "", "  "); err == nil {
		text = b.String()
	}
	shown := errclass.Mask(syncs.CleanText(text, MaxJSONColumnLength))
	return &shown
}

// cleanOptional cleans an optional text column and masks its secrets (an endpoint is a
// URL, which may carry a key).
func cleanOptional(s *string, max int) *string {
	if s == nil {
		return nil
	}
	shown := errclass.Mask(syncs.CleanText(*s, max))
	return &shown
}
