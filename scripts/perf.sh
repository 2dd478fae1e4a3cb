#!/usr/bin/env bash
# Measures syncwatch on a large sync_history, as docs/performance.md reports: it seeds ten
# million rows (scripts take the count as $1) into two scratch databases, one per table
# shape, then runs the benchmarks (syncwatch and the requirements' baseline), the page
# in Chromium, the load test of the cached path, and prints every query's plan.
#
# Usage: scripts/perf.sh [rows]
# Environment: PERF_SERVER (default postgres://postgres@127.0.0.1:5432), PERF_REUSE=1 to
# keep databases seeded within the last hour, PERF_OUT (default /tmp/syncwatch-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
server=${PERF_SERVER:-postgres://postgres@127.0.0.1:5432}
out=${PERF_OUT:-/tmp/syncwatch-perf}
mkdir -p "$out"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

go build -o "$out/syncwatch" ./cmd/syncwatch
sw="$out/syncwatch"

for shape in ${PERF_SHAPES:-A B}; do
	db="syncwatch_perf_$(echo $shape | tr AB ab)"
	url="$server/$db?sslmode=disable"
	fresh=$(psql "$url" -Atc "SELECT count(*) = $rows AND max(start_time) > now() - interval '1 hour'
		FROM orchestration.sync_history" 2>/dev/null || echo f)
	if [ "${PERF_REUSE:-}" = 1 ] && [ "$fresh" = t ]; then
		say "shape $shape: reusing $db"
	else
		say "shape $shape: seeding $rows rows into $db"
		psql "$server/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
		"$sw" seed --database-url "$url" --create-schema "$shape" --rows "$rows" --seed 7
	fi
	psql "$url" -qc "VACUUM ANALYZE orchestration.sync_history"
	# Read the table once, as a dashboard running for a while would have it in memory.
	psql "$url" -Atc "SELECT pg_size_pretty(pg_total_relation_size('orchestration.sync_history')), count(*) FROM orchestration.sync_history"

	say "shape $shape: syncwatch doctor"
	"$sw" doctor --database-url "$url" || true

	say "shape $shape: benchmarks (a cache miss each iteration; then from memory)"
	SYNCWATCH_BENCH_DATABASE_URL="$url" go test -count=1 -run '^$' -bench 'Syncwatch|DrillDown|PageReady' \
		-benchtime "${PERF_BENCHTIME:-20x}" -timeout 60m ./internal/perf | tee "$out/bench-$shape.txt"
	# The baseline reads the whole table many times per refresh on shape B (a minute or
	# more each): a few iterations tell enough.
	SYNCWATCH_BENCH_DATABASE_URL="$url" go test -count=1 -run '^$' -bench 'Baseline' \
		-benchtime "${PERF_BASELINE_BENCHTIME:-3x}" -timeout 60m ./internal/perf | tee "$out/baseline-$shape.txt"

	say "shape $shape: the plans of one refresh"
	"$sw" doctor --explain --database-url "$url" > "$out/plans-$shape.txt"
	tail -n 1 "$out/plans-$shape.txt"
done

say "shape B with the indexes the doctor recommends"
urlb="$server/syncwatch_perf_b?sslmode=disable"
# One statement at a time: CREATE INDEX CONCURRENTLY cannot run inside a transaction.
"$sw" doctor --database-url "$urlb" | grep -o 'CREATE INDEX CONCURRENTLY.*' | while read -r stmt; do
	psql "$urlb" -qc "$stmt"
done
psql "$urlb" -qc "ANALYZE orchestration.sync_history"
SYNCWATCH_BENCH_DATABASE_URL="$urlb" go test -count=1 -run '^$' -bench 'Syncwatch/(refresh|miss/api/stats/)$|DrillDown' \
	-benchtime "${PERF_BENCHTIME:-20x}" ./internal/perf | tee "$out/bench-B-indexed.txt"
"$sw" doctor --explain --database-url "$urlb" > "$out/plans-B-indexed.txt"

say "the cached path: 100 clients over loopback for 15 s (shape A)"
"$sw" --database-url "$server/syncwatch_perf_a?sslmode=disable" --addr 127.0.0.1:18123 > "$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:18123/healthz && break; sleep 0.2; done
go run ./scripts/loadtest -url http://127.0.0.1:18123/ingestion/monitoring/ -c 100 -d 15s -pid "$pid" | tee "$out/load.txt"

say "done: results in $out"
