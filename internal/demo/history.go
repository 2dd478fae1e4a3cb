package demo

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Row is a row of sync_history as the demo's sync engines write it, in its final form:
// a run that finished, or one whose process died and that the nightly cleanup marked
// failed. At gives the row as the table holds it at a given moment.
type Row struct {
	CRMSource string
	SyncType  string
	// Endpoint is the API the run reads; "" is NULL (the Genius engines read a database).
	Endpoint string
	// Status is the raw final status: success (completed for the newer Genius engine),
	// failed, partial or skipped.
	Status           string
	Start            time.Time
	End              *time.Time
	RecordsProcessed int64
	RecordsCreated   int64
	RecordsUpdated   int64
	RecordsFailed    int64
	ErrorMessage     *string
	// PerformanceMetrics and Configuration are JSON text, never empty.
	PerformanceMetrics string
	Configuration      string
	// RunningStatus is what the engine writes while the run goes on: running, or
	// in_progress for the newer Genius engine.
	RunningStatus string
}

// At returns the row as the table holds it at t, and false when the run has not
// started by then. A run that ends after t is running: no end time, no counts, no
// message, empty metrics.
func (r Row) At(t time.Time) (Row, bool) {
	if !r.Start.Before(t) {
		return Row{}, false
	}
	if r.End != nil && !r.End.After(t) {
		return r, true
	}
	r.Status = r.RunningStatus
	r.End = nil
	r.RecordsProcessed, r.RecordsCreated, r.RecordsUpdated, r.RecordsFailed = 0, 0, 0, 0
	r.ErrorMessage = nil
	r.PerformanceMetrics = "{}"
	return r, true
}

// trigger is one sending of a task by Celery beat: a CRM's hourly "sync all", or one of
// the demo's other schedules. Which triggers an hour holds depends on the hour alone, so
// the number of rows of any span of history is known without generating it.
type trigger struct {
	at       time.Time
	crm      *crm
	entities []entity
	extra    []entity // the every-four-hours entities of the hourly sync
	mode     string   // delta | full
	schedule string   // the name of the demo schedule that sends it
	salt     uint64   // tells apart two triggers of one CRM at one time
}

func (t trigger) rows() int64 {
	n := int64(len(t.entities) + len(t.extra))
	if t.crm.summary && t.schedule == scheduleHourly {
		n++
	}
	return n
}

// triggersOf appends the triggers of the hour that begins at h (UTC) to buf; only != nil
// restricts them to one CRM.
func triggersOf(h time.Time, only *crm, buf []trigger) []trigger {
	for _, c := range crms {
		if only != nil && c != only {
			continue
		}
		t := trigger{at: h.Add(time.Duration(c.minute) * time.Minute), crm: c, entities: c.hourly,
			mode: "delta", schedule: scheduleHourly}
		if h.Hour()%4 == 0 {
			t.extra = c.every4h
		}
		buf = append(buf, t)
		switch {
		case c.source == "hubspot" && h.Hour() == 2:
			buf = append(buf, trigger{at: h.Add(30 * time.Minute), crm: c, entities: hubspotFull,
				mode: "full", schedule: scheduleNightlyFull, salt: 1})
		case c.source == "salespro" && h.Hour() == 6 && h.Weekday() >= time.Monday && h.Weekday() <= time.Friday:
			buf = append(buf, trigger{at: h, crm: c, entities: salesproFull,
				mode: "full", schedule: scheduleWeekdayFull, salt: 1})
		case c.source == "gsheet" && h.Hour()%4 == 1:
			buf = append(buf, trigger{at: h.Add(44 * time.Minute), crm: c, entities: gsheetInterval,
				mode: "delta", schedule: scheduleInterval, salt: 1})
		}
	}
	return buf
}

// rowsOf is how many rows the triggers of the hour that begins at h write, without
// generating them.
func rowsOf(h time.Time) int64 {
	var n int64
	for _, c := range crms {
		n += int64(len(c.hourly))
		if c.summary {
			n++
		}
		if h.Hour()%4 == 0 {
			n += int64(len(c.every4h))
		}
	}
	switch {
	case h.Hour() == 2:
		n += int64(len(hubspotFull))
	case h.Hour() == 6 && h.Weekday() >= time.Monday && h.Weekday() <= time.Friday:
		n += int64(len(salesproFull))
	}
	if h.Hour()%4 == 1 {
		n += int64(len(gsheetInterval))
	}
	return n
}

// lookback bounds how long after its trigger a row can start: the entities of one task
// run one after another, each at most maxDuration.
const (
	maxDuration = 40 * time.Minute
	lookback    = 25 * time.Hour
)

// History is a stream of generated rows, in the order the engines would have inserted
// them (by start time, hour by hour), as the table holds them at its end time. It holds
// one hour of rows at a time, so a history of millions of rows costs no memory.
//
// The rows of each trigger come from a random source seeded by the seed and the
// trigger's time alone: the same seed gives the same rows for the same hour whatever
// span is asked for, so a history can be extended, and the simulator can find what a
// running row of it will become.
type History struct {
	seed  uint64
	hour  time.Time // the next hour to generate
	to    time.Time
	skip  int64 // rows still to drop from the start
	total int64

	trig []trigger
	buf  []Row
	pos  int
}

// NewHistory generates the rows of the runs that Celery beat triggered from from's hour
// up to to, as they stand at to: runs still going then are running, runs that had not
// started are absent.
func NewHistory(seed uint64, from, to time.Time) *History {
	h := &History{seed: seed, hour: from.UTC().Truncate(time.Hour), to: to.UTC()}
	for hour := h.hour; hour.Before(h.to); hour = hour.Add(time.Hour) {
		h.total += h.rowsBefore(hour)
	}
	return h
}

// LastRows generates the last n rows of the history that ends at to: it reaches back as
// many hours as it takes, whatever the date.
func LastRows(seed uint64, n int64, to time.Time) *History {
	h := &History{seed: seed, to: to.UTC(), total: n}
	hour := h.to.Truncate(time.Hour)
	if hour.Equal(h.to) {
		hour = hour.Add(-time.Hour)
	}
	var have int64
	for ; have < n; hour = hour.Add(-time.Hour) {
		have += h.rowsBefore(hour)
		h.hour = hour
	}
	h.skip = have - n
	return h
}

// rowsBefore counts the rows of the hour's triggers that started before h.to: from the
// plan for hours long past, by generating them for the last day.
func (h *History) rowsBefore(hour time.Time) int64 {
	if hour.Add(lookback).Before(h.to) {
		return rowsOf(hour)
	}
	var n int64
	for _, r := range generateHour(h.seed, hour, nil, nil) {
		if r.Start.Before(h.to) {
			n++
		}
	}
	return n
}

// Len is the number of rows the history holds.
func (h *History) Len() int64 { return h.total }

// Next returns the next row, and false at the end.
func (h *History) Next() (Row, bool) {
	for {
		for h.pos < len(h.buf) {
			r, ok := h.buf[h.pos].At(h.to)
			h.pos++
			if !ok {
				continue
			}
			if h.skip > 0 {
				h.skip--
				continue
			}
			return r, true
		}
		if !h.hour.Before(h.to) {
			return Row{}, false
		}
		h.trig = triggersOf(h.hour, nil, h.trig[:0])
		h.buf = generateTriggers(h.seed, h.trig, h.buf[:0])
		h.pos = 0
		h.hour = h.hour.Add(time.Hour)
	}
}

// generateHour returns the final rows of the triggers of the hour that begins at hour,
// sorted by start time; only != nil restricts them to one CRM.
func generateHour(seed uint64, hour time.Time, only *crm, buf []Row) []Row {
	return generateTriggers(seed, triggersOf(hour, only, nil), buf)
}

func generateTriggers(seed uint64, triggers []trigger, buf []Row) []Row {
	for _, t := range triggers {
		buf = generateTrigger(seed, t, buf)
	}
	slices.SortStableFunc(buf, func(a, b Row) int { return a.Start.Compare(b.Start) })
	return buf
}

// The chances of what becomes of a run, besides the CRM's own failure rate.
const (
	partialRate = 0.012
	skipRate    = 0.01  // gsheet and leadconduit only: nothing new to import
	dieRate     = 0.002 // per task: the worker dies, its last rows stay running
	stopRate    = 0.0005
	outageRate  = 0.04 // per CRM and day
)

// generateTrigger appends the final rows of one trigger to buf.
func generateTrigger(seed uint64, t trigger, buf []Row) []Row {
	r := rand.New(rand.NewPCG(seed, uint64(t.at.Unix())<<8|uint64(t.crm.index)<<2|t.salt))
	outage, inOutage := outageAt(seed, t.crm, t.at)
	busy := busyness(t.at)
	config := configuration(t.mode, t.at)
	first := len(buf)

	var summary *Row
	start := t.at.Add(between(r, 300*time.Millisecond, 8*time.Second)).Truncate(time.Microsecond)
	if t.crm.summary && t.schedule == scheduleHourly {
		buf = append(buf, Row{CRMSource: t.crm.source, SyncType: "all", Start: start,
			RunningStatus: "running", Configuration: config})
		start = start.Add(between(r, 200*time.Millisecond, time.Second)).Truncate(time.Microsecond)
	}
	var failedNames []string
	for _, list := range [][]entity{t.entities, t.extra} {
		for _, e := range list {
			row := runOf(r, t, e, start, busy, config, outage, inOutage)
			if row.Status == "failed" {
				failedNames = append(failedNames, e.name)
			}
			buf = append(buf, row)
			// Times have the databases' resolution, so that a row read back equals
			// the row generated.
			start = row.End.Add(between(r, 100*time.Millisecond, 2500*time.Millisecond)).Truncate(time.Microsecond)
		}
	}
	if t.crm.summary && t.schedule == scheduleHourly {
		summary = &buf[first]
		finishSummary(r, summary, buf[first+1:], failedNames, outage, inOutage)
	}
	// Rarely the worker dies (out of memory, a redeploy) while the task runs: its last
	// row, and the task's own summary row, stay running until the nightly cleanup.
	if r.Float64() < dieRate {
		die(&buf[len(buf)-1])
		if summary != nil {
			die(summary)
		}
	}
	return buf
}

// runOf is the final row of one entity's run.
func runOf(r *rand.Rand, t trigger, e entity, start time.Time, busy float64, config string, outage kind, inOutage bool) Row {
	row := Row{CRMSource: t.crm.source, SyncType: e.name, Endpoint: e.endpoint, Start: start,
		RunningStatus: "running", Configuration: config}
	success := "success"
	if e.engineB {
		row.RunningStatus, success = "in_progress", "completed"
	}
	var records float64
	if t.mode == "full" {
		records = e.records * (0.97 + 0.06*r.Float64())
	} else {
		records = e.records * busy * math.Exp(0.45*r.NormFloat64()-0.1)
	}
	// Runs take longer with more records, but never less than the API's overhead.
	dur := time.Duration(float64(e.duration) * (0.25 + 0.75*records/max(e.records, 1)) * math.Exp(0.25*r.NormFloat64()))
	dur = min(dur+between(r, 150*time.Millisecond, 900*time.Millisecond), maxDuration)
	processed := int64(records)

	u := r.Float64()
	switch {
	case inOutage:
		row.Status = "failed"
		var frac float64
		dur, frac = outage.failure(r, dur)
		processed = int64(float64(processed) * frac)
		row.ErrorMessage = outage.message(r, t.crm, e, start)
	case u < t.crm.failRate:
		k := t.crm.sporadic[r.IntN(len(t.crm.sporadic))]
		row.Status = "failed"
		var frac float64
		dur, frac = k.failure(r, dur)
		processed = int64(float64(processed) * frac)
		row.ErrorMessage = k.message(r, t.crm, e, start)
	case u < t.crm.failRate+stopRate:
		row.Status = "failed"
		var frac float64
		dur, frac = kindStoppedByUser.failure(r, dur)
		processed = int64(float64(processed) * frac)
		row.ErrorMessage = kindStoppedByUser.message(r, t.crm, e, start)
	case u < t.crm.failRate+stopRate+partialRate && processed > 0:
		row.Status = "partial"
		row.RecordsFailed = max(1, int64(float64(processed)*(0.005+0.08*r.Float64())))
		row.ErrorMessage = ptr(strconv.FormatInt(row.RecordsFailed, 10) + " of " +
			strconv.FormatInt(processed, 10) + " records failed to save; see the sync log for details")
	case u < t.crm.failRate+stopRate+partialRate+skipRate && (t.crm.source == "gsheet" || t.crm.source == "leadconduit"):
		row.Status = "skipped"
		processed = 0
		dur = between(r, 100*time.Millisecond, 600*time.Millisecond)
	default:
		row.Status = success
	}
	dur = min(dur, maxDuration+5*time.Minute)
	end := start.Add(dur).Truncate(time.Microsecond)
	row.End = &end
	row.RecordsProcessed = processed
	row.RecordsCreated = int64(float64(processed-row.RecordsFailed) * (0.03 + 0.17*r.Float64()))
	row.RecordsUpdated = processed - row.RecordsFailed - row.RecordsCreated
	row.PerformanceMetrics = metrics(r, t.crm, row)
	return row
}

// finishSummary makes the task's own row ("all") from its entities' rows: it spans them,
// sums their counts and names the entities that failed.
func finishSummary(r *rand.Rand, s *Row, entities []Row, failed []string, outage kind, inOutage bool) {
	last := entities[len(entities)-1].End.Add(between(r, 100*time.Millisecond, 800*time.Millisecond)).Truncate(time.Microsecond)
	s.End = &last
	for _, e := range entities {
		s.RecordsProcessed += e.RecordsProcessed
		s.RecordsCreated += e.RecordsCreated
		s.RecordsUpdated += e.RecordsUpdated
		s.RecordsFailed += e.RecordsFailed
	}
	switch {
	case inOutage:
		s.Status = "failed"
		s.ErrorMessage = entities[0].ErrorMessage
	case len(failed) == len(entities):
		s.Status = "failed"
		s.ErrorMessage = ptr("Failed entities: " + strings.Join(failed, ", "))
	case len(failed) > 0:
		s.Status = "partial"
		s.ErrorMessage = ptr("Failed entities: " + strings.Join(failed, ", "))
	default:
		s.Status = "success"
	}
	s.PerformanceMetrics = metrics(r, crmBySource(s.CRMSource), *s)
}

// die makes a row one whose process died: it stays running until the first nightly
// cleanup that finds it running for over 30 minutes marks it failed.
func die(row *Row) {
	end := cleanupAfter(row.Start)
	row.End = &end
	row.Status = "failed"
	row.RecordsProcessed, row.RecordsCreated, row.RecordsUpdated, row.RecordsFailed = 0, 0, 0, 0
	row.ErrorMessage = ptr(cleanupBase + cleanupSuffix)
	row.PerformanceMetrics = "{}"
}

// cleanupAfter is when the nightly cleanup (03:30 UTC) first finds a row that started at
// start running for over 30 minutes.
func cleanupAfter(start time.Time) time.Time {
	y, m, d := start.UTC().Date()
	at := time.Date(y, m, d, 3, 30, 0, 0, time.UTC)
	for at.Sub(start) <= 30*time.Minute {
		at = at.Add(24 * time.Hour)
	}
	return at
}

// outageAt reports whether c is in an outage at t, and of which kind: a stretch of hours
// in which every run of the CRM fails the same way (a revoked key, a server down). Whether
// a day has one, when it begins and how long it lasts depend on the seed and the day.
func outageAt(seed uint64, c *crm, t time.Time) (kind, bool) {
	day := t.UTC().Truncate(24 * time.Hour)
	for _, d := range []time.Time{day, day.Add(-24 * time.Hour)} {
		r := rand.New(rand.NewPCG(seed^0x6f75746167652121, uint64(d.Unix()/86400)<<4|uint64(c.index)))
		if r.Float64() >= outageRate {
			continue
		}
		begin := d.Add(time.Duration(r.IntN(24)) * time.Hour)
		length := time.Duration(1+r.IntN(6)) * time.Hour
		k := c.outage[r.IntN(len(c.outage))]
		if !t.Before(begin) && t.Before(begin.Add(length)) {
			return k, true
		}
	}
	return 0, false
}

// busyness scales the records of a delta run by the time of day and the day of the
// week: the CRMs' users work in the United States, most of them on weekdays.
func busyness(t time.Time) float64 {
	// The hour in US Eastern time, near enough for a demo.
	local := (t.UTC().Hour() + 19) % 24
	f := []float64{0.12, 0.08, 0.06, 0.05, 0.05, 0.08, 0.2, 0.45, 0.8, 1.0, 1.1, 1.15,
		1.1, 1.15, 1.2, 1.15, 1.05, 0.9, 0.7, 0.5, 0.38, 0.3, 0.22, 0.16}[local]
	if wd := t.UTC().Add(-5 * time.Hour).Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 0.4
	}
	return f
}

// metrics is the performance_metrics JSON an engine writes: every engine writes the
// duration and rate; some add their own keys, of their own types.
func metrics(r *rand.Rand, c *crm, row Row) string {
	if row.End == nil {
		return "{}"
	}
	secs := row.End.Sub(row.Start).Seconds()
	b := make([]byte, 0, 160)
	b = append(b, `{"duration_seconds": `...)
	b = strconv.AppendFloat(b, math.Round(secs*1000)/1000, 'f', -1, 64)
	b = append(b, `, "records_per_second": `...)
	rate := 0.0
	if secs > 0 {
		rate = math.Round(float64(row.RecordsProcessed)/secs*100) / 100
	}
	b = strconv.AppendFloat(b, rate, 'f', -1, 64)
	ok := 1.0
	if row.RecordsProcessed > 0 {
		ok = 1 - float64(row.RecordsFailed)/float64(row.RecordsProcessed)
	}
	switch c.source {
	case "hubspot", "callrail", "arrivy":
		b = append(b, `, "api_calls": `...)
		b = strconv.AppendInt(b, row.RecordsProcessed/100+1+int64(r.IntN(3)), 10)
	case "genius":
		b = append(b, `, "batches_processed": `...)
		b = strconv.AppendInt(b, row.RecordsProcessed/5000+1, 10)
	case "salesrabbit":
		b = append(b, `, "success_rate": `...) // 0–1 in this engine
		b = strconv.AppendFloat(b, math.Round(ok*1000)/1000, 'f', -1, 64)
	case "gsheet":
		b = append(b, `, "success_rate": `...) // 0–100 in this one
		b = strconv.AppendFloat(b, math.Round(ok*1000)/10, 'f', -1, 64)
		b = append(b, `, "stats": {"sheets": 1, "rows_read": `...)
		b = strconv.AppendInt(b, row.RecordsProcessed, 10)
		b = append(b, '}')
	}
	return string(append(b, '}'))
}

// configuration is the configuration JSON of a task's runs: its options.
func configuration(mode string, at time.Time) string {
	switch mode {
	case "full":
		return `{"force_overwrite": true, "since_date": null, "batch_size": 1000, "dry_run": false}`
	case "manual":
		return `{"force_overwrite": false, "since_date": "` + at.Add(-24*time.Hour).UTC().Format(time.RFC3339) +
			`", "batch_size": 500, "dry_run": false, "triggered_by": "admin"}`
	}
	return `{"force_overwrite": false, "since_date": "` + at.Add(-time.Hour).UTC().Format(time.RFC3339) +
		`", "batch_size": 500, "dry_run": false}`
}

func ptr[T any](v T) *T { return &v }
