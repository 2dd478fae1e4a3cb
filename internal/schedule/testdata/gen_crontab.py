#!/usr/bin/python3
"""Oracle cases for internal/schedule: what Celery's crontab says, as JSON lines.

Run with Debian's interpreter, which has python3-celery (5.2.6):

    /usr/bin/python3 internal/schedule/testdata/gen_crontab.py > internal/schedule/testdata/crontab_oracle.jsonl

(`make testdata-crontab` does exactly that.) The output is checked in so that the Go
tests run without Python; regenerate it when the generator changes or when checking a
new Celery version. The seed is fixed, so the output only changes when Celery does.

Each line is one crontab expression:

    {"fields": [minute, hour, day_of_week, day_of_month, month_of_year],
     "error": "..."}                  when celery.schedules.crontab(...) rejects it, or
    {"fields": [...], "cases": [[last_run_at, now, next], ...]}

where next is the time Celery beat computes for the next run after last_run_at when
the clock reads now (crontab.remaining_delta, the function behind is_due: last_run_at
plus the returned ffwd), or null when remaining_delta raises RuntimeError because no
date ever matches (day 30 of February). All times are UTC, ISO 8601.
"""

import json
import random
import sys
from datetime import datetime, timedelta, timezone

from celery import Celery
from celery.schedules import crontab

UTC = timezone.utc
SEED = 20260101
DAYNAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
FULLNAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday',
             'saturday']

# (name, lowest, highest) in Celery's terms: crontab_parser(max_, min_) accepts
# min_ .. min_ + max_ - 1.
FIELDS = [('minute', 0, 59), ('hour', 0, 23), ('day_of_week', 0, 6),
          ('day_of_month', 1, 31), ('month_of_year', 1, 12)]

# Expressions written by hand: the ones the issue names, the edges of each field,
# and Celery's parser quirks (the regular expressions match a prefix and ignore the
# rest; int() accepts spaces, signs, underscores and non-ASCII digits; a day name is
# recognised by its first three letters in every field).
CURATED = [
    ('0', '*', '*', '*', '*'),
    ('8', '*', '*', '*', '*'),
    ('*/15', '*', '*', '*', '*'),
    ('*/7', '*', '*', '*', '*'),
    ('30', '2', 'mon-fri', '*', '*'),
    ('0', '*/2', '*', '*', '*'),
    ('0', '*/5', '*', '*', '*'),
    ('1-5,10,20-30/3', '*', '*', '*', '*'),
    ('0', '0', 'sun', '*', '*'),
    ('0', '0', '7', '*', '*'),
    ('0', '0', '0', '*', '*'),
    ('0', '0', 'sunday', '*', '*'),
    ('0', '0', 'Sunshine', '*', '*'),
    ('0', '0', 'fri-mon', '*', '*'),
    ('0', '0', 'sat,sun', '*', '*'),
    ('0', '0', 'MON-FRI', '*', '*'),
    ('0', '0', '*', '31', '*'),
    ('0', '0', '*', '29-31', '*'),
    ('59', '23', '*', '31', '*'),
    ('0', '12', '*', '29', '2'),
    ('0', '12', 'mon', '29', '2'),
    ('0', '0', '*', '30', '2'),
    ('0', '0', '*', '30-31', '2'),
    ('0', '0', '*', '31', '4,6,9,11'),
    ('0', '0', '*', '31', '2,4'),
    ('0', '0', '*', '1', '*'),
    ('0', '0', '*', '1', '1'),
    ('0', '0', '*', '*', '2'),
    ('0', '0', '1', '1-7', '*'),
    ('*', '*', '*', '*', '*'),
    ('*', '*', '*', '1-31', '*'),
    ('*', '*', '*', '*', '1-12'),
    ('*/1', '*/1', '*/1', '*/1', '*/1'),
    ('59', '23', '6', '31', '12'),
    ('0', '0', '*', '*/3', '*/2'),
    ('45', '23', 'fri', '13', '*'),
    ('50-10', '*', '*', '*', '*'),
    ('50-10/7', '*', '*', '*', '*'),
    ('0', '22-2', '*', '*', '*'),
    ('0', '0', '*', '28-3', '*'),
    ('0', '0', '*', '*', '11-2'),
    ('*/99', '*', '*', '*', '*'),
    ('1-5/2/3', '*', '*', '*', '*'),
    ('1-5-7', '*', '*', '*', '*'),
    ('*/15/2', '*', '*', '*', '*'),
    ('*/15-3', '*', '*', '*', '*'),
    ('1-5 ', '*', '*', '*', '*'),
    (' 5', '*', '*', '*', '*'),
    ('+5', '*', '*', '*', '*'),
    (' -0', '*', '*', '*', '*'),
    ('1_0', '*', '*', '*', '*'),
    ('*/1_0', '*', '*', '*', '*'),
    ('mon', '*', '*', '*', '*'),
    ('fri/2', '*', '*', '*', '*'),
    ('mon day', '*', '*', '*', '*'),
    ('\t3\n', '\u00a04', '*', '*', '*'),
    ('\u0661\u0662', '*', '*', '*', '*'),
    ('\u0661\u0662-\u0661\u0665', '*', '*', '*', '*'),
    ('\uff11\uff12', '*', '*', '*', '*'),
    ('\x1c7', '*', '*', '*', '*'),
    ('0', '*', '*', 'mon', '*'),
    ('0', '*', '*', '*', 'sat'),
    ('59-0', '*', '*', '*', '*'),
    ('5-5', '*', '*', '*', '*'),
    ('0,0,0', '1,1', '*', '*', '*'),
    ('00', '09', '*', '01', '01'),
    # Rejected by Celery.
    ('61', '*', '*', '*', '*'),
    ('60', '*', '*', '*', '*'),
    ('*', '24', '*', '*', '*'),
    ('*', '*', '8', '*', '*'),
    ('*', '*', '*', '0', '*'),
    ('*', '*', '*', '32', '*'),
    ('*', '*', '*', '*', '0'),
    ('*', '*', '*', '*', '13'),
    ('*', '*', '*', '*', 'jan'),
    ('*', '*', '*', '*', 'january'),
    ('*', '*', '*', 'sun', '*'),
    ('', '*', '*', '*', '*'),
    ('*', '', '*', '*', '*'),
    ('1,,2', '*', '*', '*', '*'),
    ('1,', '*', '*', '*', '*'),
    (',', '*', '*', '*', '*'),
    ('*/0', '*', '*', '*', '*'),
    ('1-5/0', '*', '*', '*', '*'),
    ('*/', '*', '*', '*', '*'),
    ('1-5/', '*', '*', '*', '*'),
    ('*/x', '*', '*', '*', '*'),
    ('*/ 3', '*', '*', '*', '*'),
    ('*/-1', '*', '*', '*', '*'),
    ('5/2', '*', '*', '*', '*'),
    ('-1', '*', '*', '*', '*'),
    ('-0', '*', '*', '*', '*'),
    (' -5', '*', '*', '*', '*'),
    ('1-', '*', '*', '*', '*'),
    ('-5', '*', '*', '*', '*'),
    ('1 -5', '*', '*', '*', '*'),
    ('1- 5', '*', '*', '*', '*'),
    (' 1-5', '*', '*', '*', '*'),
    ('*-5', '*', '*', '*', '*'),
    ('2-*/3', '*', '*', '*', '*'),
    ('**', '*', '*', '*', '*'),
    ('* ', '*', '*', '*', '*'),
    ('a-b', '*', '*', '*', '*'),
    ('0x10', '*', '*', '*', '*'),
    ('1e1', '*', '*', '*', '*'),
    ('1__0', '*', '*', '*', '*'),
    ('_10', '*', '*', '*', '*'),
    ('10_', '*', '*', '*', '*'),
    ('+ 5', '*', '*', '*', '*'),
    ('1.5', '*', '*', '*', '*'),
    ('\u00b2', '*', '*', '*', '*'),
    ('5\u00e9', '*', '*', '*', '*'),
    ('1-5\u00e9', '*', '*', '*', '*'),
    ('99999999999999999999', '*', '*', '*', '*'),
    ('L', '*', '*', '*', '*'),
    ('?', '*', '*', '*', '*'),
    ('0', '0', '1#2', '*', '*'),
    ('0', '0', '*', 'L', '*'),
    ('0', '0', 'su', '*', '*'),
]

# Instants where calendars have edges: month ends, the leap day of 2028, year ends,
# the turn of a day, exact minute boundaries and the microsecond before them.
EDGE_INSTANTS = [
    datetime(2025, 1, 31, 23, 59, 59, 500000, UTC),
    datetime(2025, 2, 28, 23, 59, 0, 0, UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999999, UTC),
    datetime(2026, 1, 1, 0, 0, 0, 0, UTC),
    datetime(2026, 3, 31, 10, 15, 0, 0, UTC),
    datetime(2026, 4, 30, 23, 0, 0, 0, UTC),
    datetime(2026, 6, 15, 8, 8, 0, 0, UTC),
    datetime(2026, 6, 15, 8, 8, 0, 1, UTC),
    datetime(2026, 11, 30, 23, 45, 0, 0, UTC),
    datetime(2027, 2, 28, 12, 0, 0, 0, UTC),
    datetime(2027, 12, 31, 23, 59, 30, 0, UTC),
    datetime(2028, 2, 28, 23, 30, 0, 0, UTC),
    datetime(2028, 2, 29, 0, 0, 0, 0, UTC),
    datetime(2028, 2, 29, 12, 34, 56, 789000, UTC),
    datetime(2028, 2, 29, 23, 59, 59, 999999, UTC),
    datetime(2028, 3, 1, 0, 0, 0, 0, UTC),
    datetime(2028, 12, 31, 23, 45, 0, 0, UTC),
    datetime(2029, 7, 31, 2, 30, 0, 0, UTC),
]


def random_number(rnd, lo, hi):
    return str(rnd.randint(lo, hi))


def random_simple(rnd, name, lo, hi):
    """One list item: a number, a range (sometimes wrapping), a step, a day name."""
    kind = rnd.random()
    if name == 'day_of_week' and kind < 0.3:
        names = rnd.choice([DAYNAMES, FULLNAMES, [d.upper() for d in DAYNAMES]])
        if rnd.random() < 0.5:
            return rnd.choice(names)
        return rnd.choice(names) + '-' + rnd.choice(names)
    if kind < 0.35:
        return random_number(rnd, lo, hi)
    if kind < 0.6:
        a, b = rnd.randint(lo, hi), rnd.randint(lo, hi)
        if rnd.random() < 0.75 and a > b:
            a, b = b, a
        return f'{a}-{b}'
    if kind < 0.8:
        return '*/' + str(rnd.randint(1, hi - lo + 3))
    a, b = sorted((rnd.randint(lo, hi), rnd.randint(lo, hi)))
    return f'{a}-{b}/{rnd.randint(1, max(1, b - a + 2))}'


def random_field(rnd, name, lo, hi, star_weight):
    if rnd.random() < star_weight:
        return '*'
    if rnd.random() < 0.03:
        # Something out of range or malformed, so rejections are not all hand-written.
        return rnd.choice([str(hi + 1), str(lo - 1), '*/0', '', f'{lo},', 'x',
                           f'{hi}-{hi + 2}', '1-/2'])
    n = 1 if rnd.random() < 0.6 else rnd.randint(2, 4)
    return ','.join(random_simple(rnd, name, lo, hi) for _ in range(n))


def random_expression(rnd):
    # Sparse minute and hour sets are common in real schedules; many stars in the date
    # fields keep the expressions satisfiable while still exercising _delta_to_next.
    return (
        random_field(rnd, 'minute', 0, 59, 0.15),
        random_field(rnd, 'hour', 0, 23, 0.45),
        random_field(rnd, 'day_of_week', 0, 6, 0.6),
        random_field(rnd, 'day_of_month', 1, 31, 0.6),
        random_field(rnd, 'month_of_year', 1, 12, 0.7),
    )


def random_instant(rnd):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    t = start + timedelta(seconds=rnd.randrange(6 * 366 * 86400))
    if rnd.random() < 0.5:
        t = t.replace(second=0)
    else:
        t = t.replace(microsecond=rnd.randrange(1000000))
    return t


def instants(rnd):
    """Pairs (last_run_at, now): mostly now == last_run_at, the pure next run; sometimes
    now on a later day, where Celery skips the rest of last_run_at's hour."""
    lasts = rnd.sample(EDGE_INSTANTS, 4) + [random_instant(rnd) for _ in range(4)]
    pairs = []
    for last in lasts:
        r = rnd.random()
        if r < 0.6:
            now = last
        elif r < 0.8:
            now = last + timedelta(seconds=rnd.randrange(1, 3600))
        else:
            now = last + timedelta(seconds=rnd.randrange(3600, 4 * 86400))
        pairs.append((last, now))
    return pairs


def iso(t):
    return t.isoformat().replace('+00:00', 'Z')


def main():
    rnd = random.Random(SEED)
    app = Celery(set_as_current=False)
    app.conf.timezone = 'UTC'
    app.conf.enable_utc = True

    expressions = list(CURATED)
    seen = set(expressions)
    while len(expressions) < 700:
        e = random_expression(rnd)
        if e not in seen:
            seen.add(e)
            expressions.append(e)

    out = sys.stdout
    for fields in expressions:
        record = {'fields': list(fields)}
        try:
            c = crontab(*fields[:2], day_of_week=fields[2], day_of_month=fields[3],
                        month_of_year=fields[4], app=app)
        except Exception as exc:  # Celery raises ValueError, ParseException, ...
            record['error'] = f'{type(exc).__name__}: {exc}'
            out.write(json.dumps(record, ensure_ascii=True) + '\n')
            continue
        cases = []
        for last, now in instants(rnd):
            c.nowfun = lambda now=now: now
            try:
                start, delta, _ = c.remaining_delta(last)
                nxt = iso(start + delta)
            except RuntimeError:
                nxt = None
            cases.append([iso(last), iso(now), nxt])
        record['cases'] = cases
        out.write(json.dumps(record, ensure_ascii=True) + '\n')


if __name__ == '__main__':
    main()
