#!/usr/bin/env bash
# One-time setup on a fresh machine: the npm packages (exact versions from package-lock.json),
# redis-server when it is missing (Debian/Ubuntu, as root or with sudo), and a build.
# `npm run setup -- --test` also installs what the test suite needs: PostgreSQL (its tests start
# their own throw-away server) and Debian's chromium (the page is tested in a real browser).
set -euo pipefail
cd "$(dirname "$0")/.."

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
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server "or set REDIS_URL to a Redis you run"
echo "setup: $(redis-server --version | cut -d' ' -f1-3)"

if [ "${1:-}" = "--test" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql "for the PostgreSQL tests"
  [ -x /usr/bin/chromium ] || apt_install chromium "for the browser tests of the page"
fi

npm ci --no-audit --no-fund
npm run build
echo "setup: done. Start the daemon with: npm start"
