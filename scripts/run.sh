#!/usr/bin/env bash
# Start the action server and the Rasa server on embedded defaults (SQLite tracker
# store, in-memory lock store) and stop both on Ctrl-C. `--shell` chats in the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROJECT_ROOT=$PWD
source scripts/env.sh

RASA_PORT=${RASA_PORT:-5005}
PAGE_PORT=${PAGE_PORT:-8080}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
MODEL=models/egov-login-help.tar.gz
mkdir -p .rasa/logs
web/build.sh

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "Stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

wait_for() {  # url name
  for _ in $(seq 1 180); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "$2 did not start; see .rasa/logs/" >&2
  return 1
}

.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions --logging-config-file config/logging.yml >.rasa/logs/actions.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$ACTIONS_PORT/health" "The action server"

if [ "${1:-}" = "--shell" ]; then
  .venv/bin/rasa shell --model "$MODEL" --endpoints endpoints.yml
  exit 0
fi

.venv/bin/rasa run --model "$MODEL" --port "$RASA_PORT" --endpoints endpoints.yml --logging-config-file config/logging.yml \
  --credentials credentials.yml --cors "http://localhost:$PAGE_PORT" "http://127.0.0.1:$PAGE_PORT" \
  >.rasa/logs/rasa.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$RASA_PORT/" "The Rasa server"

PAGE_PORT=$PAGE_PORT RASA_URL="http://localhost:$RASA_PORT" .venv/bin/python web/serve.py >.rasa/logs/page.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$PAGE_PORT/config.json" "The help page"

echo "The assistant is running."
echo "  Help page:    http://localhost:$PAGE_PORT/"
echo "  Embedded in the FAQ page (the widget demo): http://localhost:$PAGE_PORT/faq.html"
echo "  REST channel: POST http://localhost:$RASA_PORT/webhooks/rest/webhook  {\"sender\": \"me\", \"message\": \"ログインできない\"}"
echo "  Logs: .rasa/logs/   Stop: Ctrl-C"
wait -n "${pids[@]}"
