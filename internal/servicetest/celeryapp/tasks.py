"""A tiny Celery app for syncwatch's tests (internal/servicetest starts its workers).

Configured like the warehouse's workers (prefetch 1, late acks), from the environment:
BROKER_URL, TRANSPORT_OPTIONS (JSON, for example {"global_keyprefix": "pfx:"}) and
DEFAULT_QUEUE (default dw-production). Run it with Debian's /usr/bin/python3 -m celery.
"""
import json
import os
import time

from celery import Celery

app = Celery("syncwatch_health_test", broker=os.environ["BROKER_URL"])
app.conf.update(
    task_default_queue=os.environ.get("DEFAULT_QUEUE") or "dw-production",
    broker_transport_options=json.loads(os.environ.get("TRANSPORT_OPTIONS") or "{}"),
    worker_prefetch_multiplier=1,
    task_acks_late=True,
    worker_hijack_root_logger=False,
)


@app.task(name="sleep")
def sleep(seconds):
    """Keep a worker busy for the given number of seconds."""
    time.sleep(float(seconds))
