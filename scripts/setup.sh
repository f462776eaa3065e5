#!/usr/bin/env bash
# One-time setup on a fresh machine: the npm packages (exact versions from package-lock.json),
# redis-server when it is missing (Debian/Ubuntu, as root or with sudo), and a build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: redis-server not found; installing Debian's redis-server package"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "setup: cannot install redis-server here (no apt-get): install it, or set REDIS_URL to a Redis you run" >&2
    exit 1
  fi
fi
echo "setup: $(redis-server --version | cut -d' ' -f1-3)"

npm ci --no-audit --no-fund
npm run build
echo "setup: done. Start the daemon with: npm start"
