// Package schedule computes when Celery beat will next send a sync schedule's task, and
// when it should last have sent it, from a row of orchestration.sync_schedule and
// django-celery-beat's last_run_at.
//
// Celery beat is the truth: crontab fields are parsed as celery.schedules.crontab_parser
// parses them and next runs are computed as crontab.remaining_delta computes them,
// quirks included; testdata/crontab_oracle.jsonl holds thousands of answers from Celery
// itself that the tests hold this package to. Everything is in UTC, as the crontab
// schedules are.
package schedule
