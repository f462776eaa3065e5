#!/usr/bin/env bash
# The date-sensitive suites on the hard days: with the suite's clock (ECONNECTOR_TEST_NOW, see
# docs/testing.md) at the first and the last millisecond of an office month, on the day a DST
# change moves the month's first midnight, just after a spring-forward, and with the machine's
# TZ unset, UTC and Asia/Tokyo. The HQ mock and the daemon's calendar follow that clock, so these
# runs see exactly what a run on that day would. Needs a build (npm test makes one).
#
#   scripts/check-date-proof.sh          every case (about 10 minutes on 2 cores)
#   scripts/check-date-proof.sh --ci     what .ci/run runs (about 4 minutes): every zone for the
#                                        units, the stack at the first and the last ms of a month
set -euo pipefail
QUICK=false
[ "${1:-}" = --ci ] && QUICK=true
cd "$(dirname "$0")/.."
[ -f dist/src/daemon/main.js ] || { echo "check-date-proof: dist/ is missing: run npm run build first" >&2; exit 2; }

# Zone-dependent unit suites: every machine zone.
UNIT=(test/unit/config.test.ts test/unit/month.test.ts test/ops/roles.test.ts test/unit/retry-after.test.ts)
# month.test.ts names its zones itself and is long (exhaustive DST checks): once is enough in CI.
$QUICK && UNIT=(test/unit/config.test.ts test/ops/roles.test.ts test/unit/retry-after.test.ts)
# Whole-stack suites whose figures depend on "this month" (office-api and consent: the send path's
# limit and stamps follow the daemon's calendar, src/office/send.ts).
STACK=(test/ops/status-cli.test.ts test/page/texting-services.test.ts test/office/office-api.test.ts test/office/consent.test.ts)
# ...and the end-to-end backlog on SQLite, which runs at the clock itself (not inside a month).
E2E=(test/integration/connector.e2e.test.ts -t sqlite)

# Instants, in the office zone the suites use (America/Chicago):
FIRST_MS_DEC=2026-12-01T06:00:00.000Z      # 1 Dec 2026 00:00:00.000 CST: today, the day CI broke
LAST_MS_DEC=2027-01-01T05:59:59.999Z       # 31 Dec 2026 23:59:59.999 CST: the last ms of a year
FIRST_MS_NOV=2026-11-01T05:00:00.000Z      # 1 Nov 2026 00:00 CDT: the month starts on DST's last day
AFTER_SPRING=2027-03-14T08:00:00.000Z      # 14 Mar 2027 03:00 CDT: the hour after spring-forward
LAST_MS_FEB=2027-03-01T05:59:59.999Z       # 28 Feb 2027 23:59:59.999 CST: the end of a short month

failed=0
runs=0
started=$SECONDS
run() { # run <label> <instant or -> <TZ or unset> jest-args...
  local label=$1 instant=$2 tz=$3
  shift 3
  local env=(env -u TZ -u ECONNECTOR_TEST_NOW)
  if [ "$instant" != - ]; then env+=("ECONNECTOR_TEST_NOW=$instant"); fi
  if [ "$tz" != unset ]; then env+=("TZ=$tz"); fi
  local t0=$SECONDS out
  out=$(mktemp)
  runs=$((runs + 1))
  if "${env[@]}" npx jest --ci "$@" >"$out" 2>&1; then
    printf 'date-proof: ok   %-34s now=%-24s TZ=%-10s %s (%ds)\n' "$label" "$instant" "$tz" "$(grep -E '^Tests:' "$out" | tail -1)" $((SECONDS - t0))
  else
    failed=$((failed + 1))
    printf 'date-proof: FAIL %-34s now=%-24s TZ=%-10s (%ds)\n' "$label" "$instant" "$tz" $((SECONDS - t0))
    grep -E '●|Expected|Received|Tests:|rror' "$out" | head -40 || true
  fi
  rm -f "$out"
}

for tz in unset UTC Asia/Tokyo; do
  run "zone-dependent units" "$LAST_MS_DEC" "$tz" "${UNIT[@]}"
done
run "stack: first ms of a month" "$FIRST_MS_DEC" unset "${STACK[@]}"
run "stack: last ms of a month" "$LAST_MS_DEC" Asia/Tokyo "${STACK[@]}"
if ! $QUICK; then
  run "stack: month starting on a DST day" "$FIRST_MS_NOV" UTC "${STACK[@]}"
  run "stack: just after spring-forward" "$AFTER_SPRING" Asia/Tokyo "${STACK[@]}"
  run "stack: last ms of February" "$LAST_MS_FEB" UTC "${STACK[@]}"
  run "e2e: first ms of a month" "$FIRST_MS_DEC" Asia/Tokyo "${E2E[@]}"
  run "e2e: last ms of a month" "$LAST_MS_DEC" unset "${E2E[@]}"
fi

echo "date-proof: $((runs - failed))/$runs runs green in $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
