"""Send sleep tasks through kombu, as an application would.

Each argument is QUEUE:COUNT:PRIORITY:SECONDS; PRIORITY -1 sends without a priority.
kombu's Redis transport puts a message of priority 3 in the list "QUEUE\\x06\\x163".
"""
import sys

from tasks import app, sleep

with app.producer_or_acquire() as producer:
    for spec in sys.argv[1:]:
        queue, count, priority, seconds = spec.rsplit(":", 3)
        for _ in range(int(count)):
            options = {"queue": queue, "producer": producer}
            if int(priority) >= 0:
                options["priority"] = int(priority)
            sleep.apply_async(args=[float(seconds)], **options)
