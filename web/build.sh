#!/usr/bin/env bash
# Install the page's npm packages from the lock file and build web/dist.
# Idempotent: skips `npm ci` when node_modules matches package-lock.json and the
# build when no input changed, so `make run` and `make test` can call it every time.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js and npm are needed to build the help page (web/). Install them, e.g. 'apt-get install nodejs npm'." >&2
  exit 1
fi

stamp=node_modules/.installed-lock
if [ ! -f package-lock.json ]; then
  npm install --no-audit --no-fund
  cp package-lock.json "$stamp"
elif [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

node build.mjs
