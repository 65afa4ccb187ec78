#!/usr/bin/env bash
# PostgreSQL (tracker store) and Redis (lock store) for the scale-out tests, the load
# benchmark and a local multi-server run. Debian's packages, started by hand (no
# systemd), listening on 127.0.0.1 only, on ports that avoid the usual 5432/6379.
#
#   scripts/services.sh start [pg|redis|all]   install if missing, create data, start, wait until ready
#   scripts/services.sh stop  [pg|redis|all]
#   scripts/services.sh status
#   scripts/services.sh env                    print the variables config/endpoints.scaleout.yml reads
#
# Idempotent: start on a running service does nothing; a second start reuses the data.
# Settings (environment):
#   SERVICES_DIR  data, logs and generated passwords (default /tmp/egov-login-help-services;
#                 every parent must be traversable by the `postgres` user)
#   PG_PORT       default 55432        REDIS_PORT  default 56379
#   PG_USER / PG_DB  default rasa / rasa
#   PG_PASSWORD, REDIS_PASSWORD  default: generated on first start, kept in SERVICES_DIR (0600)
# Nothing here is a production set-up: see docs/operations.md.
set -euo pipefail

DIR=${SERVICES_DIR:-/tmp/egov-login-help-services}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
PG_USER=${PG_USER:-rasa}
PG_DB=${PG_DB:-rasa}
HOST=127.0.0.1

say() { echo "services: $*" >&2; }
die() { say "$*"; exit 1; }

root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

install_packages() {
  local missing=()
  [ -n "$(pg_bin)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian packages)"
  root apt-get update -qq
  root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$(pg_bin)" ] && command -v redis-server >/dev/null 2>&1 || die "installing ${missing[*]} failed"
}

secret() {  # name → the stored (or given, or new) password
  local file="$DIR/$1" given=${2:-}
  if [ -n "$given" ]; then
    printf '%s' "$given" >"$file"
  elif [ ! -s "$file" ]; then
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file"
  fi
  chmod 600 "$file"
  cat "$file"
}

prepare_dir() {
  mkdir -p "$DIR"
  chmod 755 "$DIR"  # the postgres user must reach its data folder inside
  PG_PASSWORD=$(secret pg_password "${PG_PASSWORD:-}")
  REDIS_PASSWORD=$(secret redis_password "${REDIS_PASSWORD:-}")
}

# --- PostgreSQL ---------------------------------------------------------------------
PGDATA_DIR() { echo "$DIR/pg/data"; }

pg_running() {
  local bin; bin=$(pg_bin) || return 1
  [ -f "$(PGDATA_DIR)/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$(PGDATA_DIR)" status >/dev/null 2>&1
}

pg_start() {
  local bin data
  bin=$(pg_bin)
  data=$(PGDATA_DIR)
  if [ ! -s "$data/PG_VERSION" ]; then
    say "initialising PostgreSQL data in $data"
    mkdir -p "$DIR/pg"
    local pw="$DIR/pg/.pwfile"
    printf '%s\n' "$PG_PASSWORD" >"$pw"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$DIR/pg"
    chmod 700 "$DIR/pg"
    as_pg "$bin/initdb" -D "$data" -U "$PG_USER" --pwfile="$pw" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$DIR/pg/initdb.log" 2>&1 || { rm -f "$pw"; die "initdb failed: $DIR/pg/initdb.log"; }
    rm -f "$pw"
  fi
  if pg_running; then
    say "PostgreSQL already running on $HOST:$PG_PORT"
  else
    say "starting PostgreSQL on $HOST:$PG_PORT"
    rm -f "$data/postmaster.pid"  # left by a killed server; pg_ctl status said it is not running
    # TCP on loopback only, no Unix socket (no clash with a system cluster's socket).
    as_pg "$bin/pg_ctl" -D "$data" -l "$DIR/pg/postgres.log" -w -t 60 \
      -o "-c listen_addresses=$HOST -p $PG_PORT -c unix_socket_directories='' -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
      start >/dev/null 9>&- || die "PostgreSQL did not start: $DIR/pg/postgres.log"
  fi
  for _ in $(seq 1 60); do
    pg_isready -q -h "$HOST" -p "$PG_PORT" && break
    sleep 0.5
  done
  if ! PGPASSWORD=$PG_PASSWORD "$bin/psql" -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "select 1 from pg_database where datname = '$PG_DB'" | grep -q 1; then
    PGPASSWORD=$PG_PASSWORD "$bin/createdb" -h "$HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
    say "created database $PG_DB"
  fi
}

pg_stop() {
  local bin; bin=$(pg_bin) || return 0
  if pg_running; then
    say "stopping PostgreSQL on $HOST:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$(PGDATA_DIR)" -m fast -w -t 60 stop >/dev/null
  fi
}

# --- Redis --------------------------------------------------------------------------
redis_pid() { cat "$DIR/redis/redis.pid" 2>/dev/null || true; }
redis_running() { local p; p=$(redis_pid); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

redis_start() {
  mkdir -p "$DIR/redis"
  chmod 700 "$DIR/redis"
  # The password goes in a 0600 file, not on the command line (visible in `ps`).
  umask 077
  cat >"$DIR/redis/redis.conf" <<EOF
bind $HOST
port $REDIS_PORT
protected-mode yes
requirepass $REDIS_PASSWORD
daemonize yes
pidfile $DIR/redis/redis.pid
logfile $DIR/redis/redis.log
dir $DIR/redis
save ""
appendonly no
EOF
  umask 022
  if redis_running; then
    say "Redis already running on $HOST:$REDIS_PORT"
  else
    say "starting Redis on $HOST:$REDIS_PORT"
    redis-server "$DIR/redis/redis.conf" 9>&-  # the daemon must not keep the start lock
  fi
  for _ in $(seq 1 60); do
    REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.25
  done
  die "Redis did not answer: $DIR/redis/redis.log"
}

redis_stop() {
  if redis_running; then
    say "stopping Redis on $HOST:$REDIS_PORT"
    local p; p=$(redis_pid)
    kill "$p"
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.25; done
    kill -9 "$p" 2>/dev/null || true
  fi
}

write_env() {
  umask 077
  cat >"$DIR/services.env" <<EOF
export TRACKER_DB_HOST=$HOST
export TRACKER_DB_PORT=$PG_PORT
export TRACKER_DB_NAME=$PG_DB
export TRACKER_DB_USER=$PG_USER
export TRACKER_DB_PASSWORD=$PG_PASSWORD
export LOCK_STORE_HOST=$HOST
export LOCK_STORE_PORT=$REDIS_PORT
export LOCK_STORE_PASSWORD=$REDIS_PASSWORD
EOF
  umask 022
}

what=${2:-all}
case "$what" in pg|redis|all) ;; *) die "unknown service '$what' (pg, redis or all)";; esac

case "${1:-}" in
  start)
    install_packages
    prepare_dir
    exec 9>"$DIR/.lock"
    flock 9  # two starts at once (two test runs) take turns
    [ "$what" = redis ] || pg_start
    [ "$what" = pg ] || redis_start
    write_env
    say "ready; variables in $DIR/services.env"
    ;;
  stop)
    [ -d "$DIR" ] || exit 0
    [ "$what" = redis ] || pg_stop
    [ "$what" = pg ] || redis_stop
    ;;
  status)
    pg_running && echo "postgresql: running on $HOST:$PG_PORT" || echo "postgresql: stopped"
    redis_running && echo "redis: running on $HOST:$REDIS_PORT" || echo "redis: stopped"
    ;;
  env)
    [ -s "$DIR/services.env" ] || die "not started yet: scripts/services.sh start"
    cat "$DIR/services.env"
    ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
