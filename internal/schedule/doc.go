// Package schedule computes when Celery beat will next send a sync schedule's task, and
// when it should last have sent it, from a row of orchestration.sync_schedule and
// django-celery-beat's last_run_at.
//
// Celery beat is the truth. Crontab fields are parsed as celery.schedules.crontab_parser
// parses them (parse.go lists its quirks), and next runs are computed as
// crontab.remaining_delta computes them, including its one surprise (Crontab.BeatNext).
// testdata/crontab_oracle.jsonl holds thousands of answers from Celery itself that the
// tests hold this package to; `make testdata-crontab` regenerates it. Everything is in
// UTC, as the crontab schedules are.
//
// Evaluate answers the CRM table: a State, the next run, whether beat will send it at
// once (Due), and the recurrence in words. Checkpoint, Probe and Overdue answer "is this
// schedule overdue?": the dashboard asks the store whether a run of the CRM started near
// the checkpoint, and a schedule is overdue when none did within the grace.
package schedule
