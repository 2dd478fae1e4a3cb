# testdata-crontab regenerates the crontab oracle of internal/schedule from Celery itself
# (Debian's python3-celery, run by /usr/bin/python3). Review the diff before committing it.
.PHONY: testdata-crontab
testdata-crontab:
	/usr/bin/python3 internal/schedule/testdata/gen_crontab.py > internal/schedule/testdata/crontab_oracle.jsonl
