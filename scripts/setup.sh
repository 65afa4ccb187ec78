#!/usr/bin/env bash
# Create .venv with Python 3.10 (Rasa 3.6 needs <3.11) and install the lock file.
# Idempotent: does nothing when the venv already matches requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    local p; p=$(pyenv which python3 2>/dev/null || true)   # honours .python-version
    [ -n "$p" ] && candidates+=("$p")
  fi
  candidates+=(python3.10 python3)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! py=$(find_python); then
    echo "Python 3.10 was not found. Rasa Open Source 3.6 requires Python 3.10." >&2
    echo "Install it (e.g. 'pyenv install 3.10' or 'apt-get install python3.10') and run this command again." >&2
    exit 1
  fi
  echo "Creating .venv with $py"
  "$py" -m venv .venv
fi

stamp=.venv/.lock-installed
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "Installing requirements.lock into .venv (first run takes a few minutes)"
  # (pip warns once per package about this machine's unused local index folders: filtered)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  test "${PIPESTATUS[0]}" -eq 0
  .venv/bin/python -m pip check
  cp requirements.lock "$stamp"
fi
