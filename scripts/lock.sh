#!/usr/bin/env bash
# Resolve requirements.in in a throw-away Python 3.10 venv and write every pinned version to requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=$(pyenv which python3 2>/dev/null || command -v python3.10)
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet -r requirements.in
"$tmp/venv/bin/pip" freeze --all --exclude pip --exclude-editable > requirements.lock  # --all: setuptools and wheel are requirements too
echo "requirements.lock: $(wc -l < requirements.lock) pinned packages"
