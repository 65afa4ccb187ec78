#!/usr/bin/env bash
# Start the action server, the Rasa server (embedded defaults: SQLite tracker store,
# in-memory lock store) and the help page; stop them all on Ctrl-C, on TERM and when
# the terminal closes (HUP). `--shell` chats in the terminal instead of the page.
#
# It tells the truth: a busy port is named before anything starts, a server that
# dies is named with the end of its log, and the exit status is non-zero whenever
# something failed (0 only after the user stopped it).
set -uo pipefail
cd "$(dirname "$0")/.."
export PROJECT_ROOT=$PWD
source scripts/env.sh

RASA_PORT=${RASA_PORT:-5005}
PAGE_PORT=${PAGE_PORT:-8080}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
MODEL=${MODEL:-models/egov-login-help.tar.gz}
LOGS=${RUN_LOGS:-.rasa/logs}  # tests point this elsewhere
SHELL_MODE=0
[ "${1:-}" = "--shell" ] && SHELL_MODE=1
mkdir -p "$LOGS"

port_busy() {  # port → 0 when something already listens on it
  .venv/bin/python - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    s.settimeout(0.5)
    sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

check_ports() {
  local busy=0 pair name port pairs
  pairs=("ACTIONS_PORT:$ACTIONS_PORT")
  [ $SHELL_MODE = 0 ] && pairs+=("RASA_PORT:$RASA_PORT" "PAGE_PORT:$PAGE_PORT")
  for pair in "${pairs[@]}"; do
    name=${pair%%:*}; port=${pair#*:}
    if port_busy "$port"; then
      echo "Port $port is already in use by another program, so the assistant cannot start." >&2
      echo "  Stop that program, or choose another port: $name=$((port + 1)) make $([ $SHELL_MODE = 1 ] && echo shell || echo run)" >&2
      busy=1
    fi
  done
  return $busy
}

check_ports || exit 1
web/build.sh || { echo "The help page could not be built (web/build.sh failed)." >&2; exit 1; }

names=(); pids=(); logs=()
stopping=0
stop_all() {
  trap - INT TERM HUP
  stopping=1
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
on_signal() {
  echo; echo "Stopping…"
  stop_all
  exit 0
}
trap on_signal INT TERM HUP

died() {  # index → says which process stopped, with the end of its log
  echo "The ${names[$1]} stopped unexpectedly (pid ${pids[$1]}). The end of ${logs[$1]}:" >&2
  tail -n 20 "${logs[$1]}" | sed 's/^/  | /' >&2
}

start() {  # name log command… → starts it in the background (the shell keeps the terminal)
  names+=("$1"); logs+=("$2"); shift 2
  if [ "${logs[-1]}" = /dev/stderr ]; then
    "$@" <&0 &  # the terminal chat: keeps the terminal as input
  else
    "$@" >"${logs[-1]}" 2>&1 &
  fi
  pids+=($!)
}

wait_for() {  # url expected-text → waits until our own server answers with it
  local i=$((${#pids[@]} - 1))
  for _ in $(seq 1 240); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      died "$i"; stop_all; exit 1
    fi
    if curl -fsS --max-time 2 "$1" 2>/dev/null | grep -q "$2"; then
      return 0
    fi
    sleep 1
  done
  echo "The ${names[$i]} did not answer at $1 within 4 minutes; see ${logs[$i]}." >&2
  stop_all; exit 1
}

start "action server" "$LOGS/actions.log" \
  .venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions --logging-config-file config/logging.yml
wait_for "http://127.0.0.1:$ACTIONS_PORT/health" '"status"'

if [ $SHELL_MODE = 1 ]; then
  # In the background (with the terminal as its input) so that a HUP or Ctrl-C reaches
  # the trap at once instead of after the shell has ended.
  start "Rasa shell" /dev/stderr .venv/bin/rasa shell --model "$MODEL" --endpoints endpoints.yml
  wait "${pids[-1]}"
  status=$?
  stop_all
  exit $status
fi

start "Rasa server" "$LOGS/rasa.log" \
  .venv/bin/rasa run --model "$MODEL" --port "$RASA_PORT" --endpoints endpoints.yml --logging-config-file config/logging.yml \
  --credentials credentials.yml --cors "http://localhost:$PAGE_PORT" "http://127.0.0.1:$PAGE_PORT"
wait_for "http://127.0.0.1:$RASA_PORT/" "Hello from Rasa"

start "help page" "$LOGS/page.log" env PAGE_PORT="$PAGE_PORT" RASA_URL="http://localhost:$RASA_PORT" .venv/bin/python web/serve.py
wait_for "http://127.0.0.1:$PAGE_PORT/config.json" "rasaUrl"

echo "The assistant is running."
echo "  Help page:    http://localhost:$PAGE_PORT/"
echo "  Embedded in the FAQ page (the widget demo): http://localhost:$PAGE_PORT/faq.html"
echo "  REST channel: POST http://localhost:$RASA_PORT/webhooks/rest/webhook  {\"sender\": \"me\", \"message\": \"ログインできない\"}"
echo "  Logs: $LOGS/   Stop: Ctrl-C"

# Wait until one of them stops. A signal interrupts `wait` and runs on_signal.
while :; do
  wait -n "${pids[@]}"
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null && [ $stopping = 0 ]; then
      died "$i"; stop_all; exit 1
    fi
  done
done
