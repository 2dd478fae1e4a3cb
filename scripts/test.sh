#!/usr/bin/env bash
# Runs every test of syncwatch, on a fresh Debian machine as on a developer's.
#
# It installs what the tests need and is missing (as root, with apt-get: PostgreSQL, Redis,
# Chromium, Celery, RabbitMQ, Node.js, Prometheus, Alertmanager, aiosmtpd, systemd's
# checker), starts a private PostgreSQL server (unless TEST_DATABASE_URL names one; a
# server this machine already runs is never used), then runs gofmt, go vet, every Go test
# with the race detector (database, Redis, RabbitMQ, Celery, Prometheus, SMTP,
# Alertmanager, Node and browser tests included; each package starts its own private
# servers on free ports) and a short run of every fuzzer. A skipped test fails the run:
# green means everything ran.
#
# Usage: scripts/test.sh [go test flags, e.g. -run TestName ./internal/web]
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "Go is not installed: install Go 1.26 or newer (https://go.dev/dl/)"

# --- system packages -------------------------------------------------------------------
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
missing=()
[ -n "$(pg_bin)" ] || command -v initdb >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)     # the page's JavaScript unit tests (node --test)
/usr/bin/python3 -c 'import celery, redis' 2>/dev/null || missing+=(python3-celery python3-redis)
# The health tests run a private RabbitMQ node (never the machine's) and workers on kombu's pyamqp.
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
/usr/bin/python3 -c 'import amqp' 2>/dev/null || missing+=(python3-amqp)
command -v pgrep >/dev/null || missing+=(procps)    # the fault tests freeze PostgreSQL's processes
command -v runuser >/dev/null || missing+=(util-linux)
command -v systemd-analyze >/dev/null || missing+=(systemd) # checks docs/deploy/syncwatch.service
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus) # /metrics, the rules
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager) # the alerts' Alertmanager channel
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)   # the alerts' SMTP server
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null ||
		die "missing: ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and run again"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# The packages' own scripts may try to start services; the tests start their own.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PG_BIN="$(pg_bin)"
[ -n "$PG_BIN" ] && export PATH="$PG_BIN:$PATH"

# --- PostgreSQL ------------------------------------------------------------------------
# The tests get a private server of their own, on a free port, unless TEST_DATABASE_URL
# names one: a server this machine already runs is never used (nor stopped).
pg_answers() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }
TMP_DIRS=()
cleanup() {
	[ -n "${PGTMP:-}" ] && "${as_pg[@]}" pg_ctl -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1
	[ ${#TMP_DIRS[@]} -gt 0 ] && rm -rf "${TMP_DIRS[@]}"
	return 0
}
trap cleanup EXIT
as_pg=()
if [ -n "${TEST_DATABASE_URL:-}" ]; then
	pg_answers "$TEST_DATABASE_URL" || die "TEST_DATABASE_URL does not answer"
else
	say "starting a private PostgreSQL server for the tests"
	PGTMP="$(mktemp -d /tmp/syncwatch-pg.XXXXXX)"
	TMP_DIRS+=("$PGTMP")
	if [ "$(id -u)" = 0 ]; then
		# initdb refuses to run as root; the postgresql package created this user.
		id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGTMP" postgres
		chown postgres "$PGTMP"
		as_pg=(runuser -u postgres --)
	fi
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"${as_pg[@]}" initdb -D "$PGTMP/data" -U postgres -A trust --no-sync >/dev/null
	"${as_pg[@]}" pg_ctl -D "$PGTMP/data" -l "$PGTMP/log" -w -o "-p $port -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
	export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	pg_answers "$TEST_DATABASE_URL" || die "the private PostgreSQL server does not answer (log: $PGTMP/log)"
fi

# --- checks and tests ------------------------------------------------------------------
say "go mod download"
go mod download

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

say "go vet"
go vet ./...

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
say "go test ${pkgs[*]}"
log="$(mktemp /tmp/syncwatch-test.XXXXXX)"
status=0
# -race: a data race fails the run like a failed test. Packages run in parallel (one per
# core); each starts its slow servers once.
go test -race -count=1 -timeout 20m -v "${pkgs[@]}" >"$log" 2>&1 || status=$?
# Show each package's verdict, and the output of whatever failed.
grep -E '^(ok|FAIL|panic:)' "$log" || true
if [ $status != 0 ]; then
	grep -E -A 40 -- '--- FAIL|^panic:' "$log" | head -400 >&2
fi
if grep -q -- '--- SKIP' "$log"; then
	grep -B2 -A3 -- '--- SKIP' "$log" >&2
	die "a test was skipped: every test must run (see above)"
fi
[ $status = 0 ] || die "tests failed (full log: $log)"
rm -f "$log" # kept only when something failed

if [ $# -eq 0 ]; then
	# The performance benchmarks, once each on 100,000 rows, so they do not rot; the
	# report's figures come from scripts/perf.sh on ten million.
	say "benchmarks, once each (internal/perf)"
	out=$(go test -count=1 -run '^$' -bench . -benchtime 1x ./internal/perf 2>&1) ||
		{ printf '%s\n' "$out"; die "benchmarks failed"; }
	printf '%s\n' "$out" | grep -E '^(Benchmark|ok)' | sed 's/^/    /'

	# A count, not a duration: with -fuzztime 10s Go's fuzzing coordinator can race its own
	# deadline and fail a target that found nothing ("context deadline exceeded", no
	# crasher written; it happened to FuzzQueryParams in CI). A count has no deadline, so
	# a busy machine only makes the run slower. 50,000 inputs take 2-11 s per fuzzer here.
	say "fuzzing each fuzzer briefly"
	for pkg in $(go list ./...); do
		for fuzz in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
			out=$(go test -run '^$' -fuzz "^${fuzz}\$" -fuzztime "${FUZZTIME:-50000x}" "$pkg" 2>&1) ||
				{ printf '%s\n' "$out"; die "fuzzer $fuzz in $pkg failed"; }
			echo "ok    fuzz $fuzz ($pkg)"
		done
	done
fi
say "all tests passed"
