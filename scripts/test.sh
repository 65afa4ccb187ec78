#!/usr/bin/env bash
# Everything CI checks, fastest first; stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROJECT_ROOT=$PWD
source scripts/env.sh
PY=.venv/bin/python
RASA="$PY -m serving"   # `rasa` with the patches the servers run with
MODEL=models/egov-login-help.tar.gz
mkdir -p results
trap '$PY -m tools.test_report results || true' EXIT   # results/index.html for support staff, also when a step fails

step() { echo; echo "=== $* ==="; }

step "lint (ruff)"
CODE=(actions bench components contentcheck insights serving tools tests usertext web)
.venv/bin/ruff check "${CODE[@]}"
.venv/bin/ruff format --check --quiet "${CODE[@]}"

step "type check (mypy: actions, components, serving)"
.venv/bin/mypy

step "content check (flows, responses, examples, rasa data validate)"
$PY -m contentcheck

step "unit tests (actions, engine, validators)"
$PY -m pytest -q tests/unit

step "rasa train (only when data/config/domain changed; from scratch on a fresh clone)"
make --no-print-directory train

step "rasa test: test stories, failing on any prediction error"
$RASA test core --model "$MODEL" --stories tests/test_stories.yml --fail-on-prediction-errors --out results/stories

step "rasa test nlu: held-out test file"
$RASA test nlu --model "$MODEL" --nlu tests/test_nlu.yml --out results/nlu
$PY -m tools.nlu_gate results/nlu

step "end-to-end tests (real Rasa and action servers)"
$PY -m pytest -q tests/e2e

step "reliability: bad input, faults, scale-out (PostgreSQL + Redis), security"
$PY -m pytest -q tests/reliability

step "browser tests (help page in headless Chromium)"
# Debian's Chromium and CJK fonts; Playwright drives it (no browser download).
command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk" \
  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }
web/build.sh
$PY -m pytest -q tests/browser
