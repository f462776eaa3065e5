#!/usr/bin/env bash
# Setting up a machine for econnector, doing only what is missing (Debian/Ubuntu, as root or with sudo):
#
#   npm run setup                 redis-server, the npm packages, a build
#   npm run quickstart            the same, then starts the daemon on its embedded defaults with a
#                                 development API_TOKEN (printed) so the page's buttons work
#   npm run test:all              the same plus what the tests need (postgresql, chromium, systemd,
#                                 prometheus), then npm test; .ci/run runs this
#
# The npm packages are installed with `npm ci` only when node_modules does not hold exactly what
# package-lock.json lists (scripts/lock-matches.js), and the build runs only when it is missing
# or older than a source file (bin/build-freshness.js): a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-}"
case "$MODE" in "" | --test | --start) ;; *) echo "setup: unknown option $MODE (--test or --start)" >&2; exit 2 ;; esac

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
UPDATED=""
apt_install() { # package, what for
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: cannot install $1 here (no apt-get): install it yourself ($2)" >&2
    exit 1
  fi
  echo "setup: installing Debian's $1 package ($2)"
  if [ -z "$UPDATED" ]; then $SUDO apt-get update -qq; UPDATED=1; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server "or set REDIS_URL to a Redis you run"

if [ "$MODE" = "--test" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql "for the PostgreSQL tests"
  [ -x /usr/bin/chromium ] || apt_install chromium "for the browser tests of the page"
  command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd "systemd-analyze verify checks deploy/econnector.service"
  command -v promtool >/dev/null 2>&1 || apt_install prometheus "promtool checks deploy/prometheus-alerts.yml"
fi

if node scripts/lock-matches.js 2>/dev/null; then
  echo "setup: node_modules matches package-lock.json"
else
  node scripts/lock-matches.js || true
  npm ci --no-audit --no-fund
fi

if node bin/build-freshness.js >/dev/null 2>&1; then
  echo "setup: the build is current"
else
  npm run build --silent
fi

if [ "$MODE" = "--start" ]; then
  # A development token, made once and kept (mode 0600) under the data folder, so a restart keeps
  # the page's saved token working. Production sets API_TOKEN itself (docs/operations.md).
  DATA="${DATA_DIR:-./data}"
  TOKEN_FILE="$DATA/dev-api-token"
  if [ -z "${API_TOKEN:-}" ]; then
    mkdir -p "$DATA"
    if [ ! -s "$TOKEN_FILE" ]; then (umask 077; node -e "process.stdout.write(require('node:crypto').randomBytes(24).toString('base64url'))" > "$TOKEN_FILE"); fi
    API_TOKEN="$(cat "$TOKEN_FILE")"
    export API_TOKEN
    echo "setup: development API_TOKEN=$API_TOKEN (kept in $TOKEN_FILE); the page asks for it on its first change"
  fi
  echo "setup: starting econnector on its embedded defaults: http://${STATUS_HOST:-127.0.0.1}:${STATUS_PORT:-7380}/ (Ctrl-C stops it)"
  # The same start as npm start, pm2 and the systemd unit (a test keeps them equal): the Node flags
  # and fewer malloc arenas keep the RSS down (docs/performance.md).
  MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" exec node --max-old-space-size=256 --max-semi-space-size=8 --liftoff-only bin/econnector.js start
fi
echo "setup: done. Start the daemon with: npm start"
