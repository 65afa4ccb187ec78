#!/usr/bin/env bash
# Start the action server, the Rasa server (embedded defaults: SQLite tracker store,
# in-memory lock store) and the help page; stop them all on Ctrl-C, on TERM and when
# the terminal closes (HUP). `--shell` chats in the terminal instead of the page.
#
# SERVERS=N (N > 1, `make run SERVERS=2`): N Rasa servers on RASA_PORT+1 … RASA_PORT+N
# behind nginx on RASA_PORT, with the PostgreSQL tracker store and the Redis lock store
# (config/endpoints.scaleout.yml), all from scripts/services.sh; the help page and the
# REST channel stay at RASA_PORT.
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
SERVERS=${SERVERS:-1}
LOGS=${RUN_LOGS:-.rasa/logs}  # tests point this elsewhere
SHELL_MODE=0
[ "${1:-}" = "--shell" ] && SHELL_MODE=1
mkdir -p "$LOGS"
RASA="$PWD/.venv/bin/python -m serving"  # `rasa` with the project's patches installed first
case "$SERVERS" in ''|*[!0-9]*|0) echo "SERVERS must be a whole number of Rasa servers (1 or more), not '$SERVERS'." >&2; exit 1 ;; esac
export ACTION_ENDPOINT_URL="http://127.0.0.1:$ACTIONS_PORT/webhook"

port_busy() {  # port → 0 when something already listens on it
  .venv/bin/python - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    s.settimeout(0.5)
    sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

check_ports() {
  local busy=0 pair name port pairs n suggestion
  pairs=("ACTIONS_PORT:$ACTIONS_PORT")
  [ $SHELL_MODE = 0 ] && pairs+=("RASA_PORT:$RASA_PORT" "PAGE_PORT:$PAGE_PORT")
  if [ $SHELL_MODE = 0 ] && [ "$SERVERS" -gt 1 ]; then
    for n in $(seq 1 "$SERVERS"); do pairs+=("RASA_PORT:$((RASA_PORT + n))"); done
  fi
  for pair in "${pairs[@]}"; do
    name=${pair%%:*}; port=${pair#*:}
    if port_busy "$port"; then
      echo "Port $port is already in use by another program, so the assistant cannot start." >&2
      [ "$name" = RASA_PORT ] && [ "$SERVERS" -gt 1 ] && suggestion=$((RASA_PORT + SERVERS + 1)) || suggestion=$((port + 1))
      echo "  Stop that program, or choose another port: $name=$suggestion make $([ $SHELL_MODE = 1 ] && echo shell || echo run)" >&2
      busy=1
    fi
  done
  return $busy
}

check_ports || exit 1
web/build.sh || { echo "The help page could not be built (web/build.sh failed)." >&2; exit 1; }

names=(); pids=(); logs=()
stopping=0
services_started=0
stop_all() {
  trap - INT TERM HUP
  stopping=1
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  [ $services_started = 1 ] && scripts/services.sh stop all 2>>"$LOGS/services.log"
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
  $RASA run actions --port "$ACTIONS_PORT" --actions actions --logging-config-file config/logging.yml
wait_for "http://127.0.0.1:$ACTIONS_PORT/health" '"status"'

if [ $SHELL_MODE = 1 ]; then
  # In the background (with the terminal as its input) so that a HUP or Ctrl-C reaches
  # the trap at once instead of after the shell has ended.
  start "Rasa shell" /dev/stderr $RASA shell --model "$MODEL" --endpoints endpoints.yml
  wait "${pids[-1]}"
  status=$?
  stop_all
  exit $status
fi

rasa_server() {  # name log port endpoints
  start "$1" "$2" $RASA run --model "$MODEL" --port "$3" --endpoints "$4" --logging-config-file config/logging.yml \
    --credentials credentials.yml --cors "http://localhost:$PAGE_PORT" "http://127.0.0.1:$PAGE_PORT"
  wait_for "http://127.0.0.1:$3/" "Hello from Rasa"
}

if [ "$SERVERS" = 1 ]; then
  rasa_server "Rasa server" "$LOGS/rasa.log" "$RASA_PORT" endpoints.yml
else
  echo "Starting PostgreSQL and Redis (scripts/services.sh; first run installs them)…"
  services_started=1
  scripts/services.sh start all >>"$LOGS/services.log" 2>&1 \
    || { echo "PostgreSQL or Redis did not start; the end of $LOGS/services.log:" >&2; tail -n 20 "$LOGS/services.log" | sed 's/^/  | /' >&2; stop_all; exit 1; }
  source "${SERVICES_DIR:-/tmp/egov-login-help-services}/services.env"  # the stores' addresses and passwords
  upstreams=""
  for n in $(seq 1 "$SERVERS"); do
    rasa_server "Rasa server $n" "$LOGS/rasa-$n.log" "$((RASA_PORT + n))" config/endpoints.scaleout.yml
    upstreams+="127.0.0.1:$((RASA_PORT + n)) "
  done
  LB_PORT=$RASA_PORT LB_UPSTREAMS=$upstreams scripts/services.sh start lb >>"$LOGS/services.log" 2>&1 \
    || { echo "nginx did not start; the end of $LOGS/services.log:" >&2; tail -n 20 "$LOGS/services.log" | sed 's/^/  | /' >&2; stop_all; exit 1; }
  curl -fsS --max-time 5 "http://127.0.0.1:$RASA_PORT/" 2>/dev/null | grep -q "Hello from Rasa" \
    || { echo "nginx on port $RASA_PORT does not reach the Rasa servers; see $LOGS/services.log." >&2; stop_all; exit 1; }
fi

start "help page" "$LOGS/page.log" env PAGE_PORT="$PAGE_PORT" RASA_URL="http://localhost:$RASA_PORT" .venv/bin/python web/serve.py
wait_for "http://127.0.0.1:$PAGE_PORT/config.json" "rasaUrl"

echo "The assistant is running$([ "$SERVERS" -gt 1 ] && echo " on $SERVERS Rasa servers behind nginx (port $RASA_PORT)")."
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
