# testdata-crontab regenerates the crontab oracle of internal/schedule from Celery itself
# (Debian's python3-celery, run by /usr/bin/python3). Review the diff before committing it.
.PHONY: testdata-crontab
testdata-crontab:
	/usr/bin/python3 internal/schedule/testdata/gen_crontab.py > internal/schedule/testdata/crontab_oracle.jsonl

# screenshots retakes docs/screenshots/*.png, which the README shows, from the browser tests
# of the overview and of the drill-down.
.PHONY: screenshots
screenshots:
	SYNCWATCH_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots go test -count=1 -run 'TestPageInBrowser|TestDrillDownInBrowser' ./internal/web/

# perf measures syncwatch on ten million rows in both table shapes (docs/performance.md);
# it takes about fifteen minutes and needs a PostgreSQL server (PERF_SERVER).
.PHONY: perf
perf:
	scripts/perf.sh

# bench runs the benchmarks on SYNCWATCH_BENCH_DATABASE_URL (or 100,000 seeded rows).
.PHONY: bench
bench:
	go test -count=1 -run '^$$' -bench . -benchtime 20x ./internal/perf
