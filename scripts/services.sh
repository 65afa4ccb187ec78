#!/usr/bin/env bash
# PostgreSQL (tracker store), Redis (lock store) and nginx (load balancer) for the
# scale-out tests, the load benchmark and `make run SERVERS=N`. Debian's packages,
# started by hand (no systemd), listening on 127.0.0.1 only, on ports that avoid the
# usual 5432/6379/80.
#
#   scripts/services.sh start [pg|redis|all]   install if missing, create data, start, wait until ready
#   scripts/services.sh start lb               nginx on LB_PORT in front of LB_UPSTREAMS
#                                              (started, or reloaded when already running)
#   scripts/services.sh stop  [pg|redis|lb|all]
#   scripts/services.sh status
#   scripts/services.sh env                    print the variables config/endpoints.scaleout.yml reads
#
# Idempotent: start on a running service does nothing; a second start reuses the data.
# Settings (environment):
#   SERVICES_DIR  data, logs and generated passwords (default /tmp/egov-login-help-services;
#                 every parent must be traversable by the `postgres` user)
#   PG_PORT       default 55432        REDIS_PORT  default 56379        LB_PORT  default 58080
#   LB_UPSTREAMS  the Rasa servers, e.g. "127.0.0.1:5005 127.0.0.1:5006"
#   PG_USER / PG_DB  default rasa / rasa
#   PG_PASSWORD, REDIS_PASSWORD  default: generated on first start, kept in SERVICES_DIR (0600)
# Nothing here is a production set-up: see docs/operations.md.
set -euo pipefail

DIR=${SERVICES_DIR:-/tmp/egov-login-help-services}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
LB_PORT=${LB_PORT:-58080}
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

nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

install_packages() {  # what → the Debian packages it needs, installed when missing
  local missing=()
  case "$1" in
    lb) [ -n "$(nginx_bin)" ] || missing+=(nginx) ;;
    pg) [ -n "$(pg_bin)" ] || missing+=(postgresql) ;;
    redis) command -v redis-server >/dev/null 2>&1 || missing+=(redis-server) ;;
    *)
      [ -n "$(pg_bin)" ] || missing+=(postgresql)
      command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
      ;;
  esac
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian packages)"
  root apt-get update -qq
  root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  case "$1" in
    lb) [ -n "$(nginx_bin)" ] || die "installing nginx failed" ;;
    *) [ -n "$(pg_bin)" ] || [ "$1" = redis ] || die "installing postgresql failed"
       command -v redis-server >/dev/null 2>&1 || [ "$1" = pg ] || die "installing redis-server failed" ;;
  esac
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

# --- nginx (load balancer) -----------------------------------------------------------
lb_pid() { cat "$DIR/lb/nginx.pid" 2>/dev/null || true; }
lb_running() { local p; p=$(lb_pid); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
lb() { "$(nginx_bin)" -c "$DIR/lb/nginx.conf" "$@"; }

lb_start() {
  [ -n "${LB_UPSTREAMS:-}" ] || die "LB_UPSTREAMS is empty: name the Rasa servers, e.g. LB_UPSTREAMS=\"127.0.0.1:5005 127.0.0.1:5006\""
  mkdir -p "$DIR/lb/tmp"
  local servers="" upstream user=""
  for upstream in $LB_UPSTREAMS; do
    servers+="    server $upstream max_fails=1 fail_timeout=5s;"$'\n'
  done
  [ "$(id -u)" = 0 ] && user="user root;"  # nginx as root would run its worker as `nobody`, locked out of $DIR
  # Round robin over the Rasa servers; the Redis lock store keeps one conversation's
  # turns in order whichever server takes them. A server that refuses connections is
  # skipped (a POST is never sent twice once a server has it). The access log names the
  # server that answered: never the client's address or the message.
  cat >"$DIR/lb/nginx.conf" <<EOF
$user
worker_processes 1;
pid $DIR/lb/nginx.pid;
error_log $DIR/lb/error.log warn;
events { worker_connections 1024; }
http {
  log_format upstream '\$time_iso8601 \$request_method \$uri \$status \$upstream_addr \$request_time';
  access_log $DIR/lb/access.log upstream;
  client_body_temp_path $DIR/lb/tmp/body;
  proxy_temp_path $DIR/lb/tmp/proxy;
  fastcgi_temp_path $DIR/lb/tmp/fastcgi;
  uwsgi_temp_path $DIR/lb/tmp/uwsgi;
  scgi_temp_path $DIR/lb/tmp/scgi;
  client_max_body_size 64k;
  upstream rasa {
$servers    keepalive 32;
  }
  server {
    listen $HOST:$LB_PORT;
    location / {
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_connect_timeout 2s;
      proxy_read_timeout 120s;
      proxy_next_upstream error timeout;
    }
  }
}
EOF
  lb -t -q 2>>"$DIR/lb/error.log" || die "nginx rejected $DIR/lb/nginx.conf: $DIR/lb/error.log"
  if lb_running; then
    say "reloading nginx on $HOST:$LB_PORT → $LB_UPSTREAMS"
    lb -s reload
  else
    say "starting nginx on $HOST:$LB_PORT → $LB_UPSTREAMS"
    lb 9>&-
  fi
  for _ in $(seq 1 40); do
    lb_running && (exec 3<>"/dev/tcp/$HOST/$LB_PORT") 2>/dev/null && return 0
    sleep 0.25
  done
  die "nginx did not start: $DIR/lb/error.log"
}

lb_stop() {
  if lb_running; then
    say "stopping nginx on $HOST:$LB_PORT"
    local p; p=$(lb_pid)
    kill -QUIT "$p"
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
case "$what" in pg|redis|lb|all) ;; *) die "unknown service '$what' (pg, redis, lb or all)";; esac

case "${1:-}" in
  start)
    install_packages "$what"
    if [ "$what" = lb ]; then
      mkdir -p "$DIR"
      lb_start
      exit 0
    fi
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
    case "$what" in pg|all) pg_stop ;; esac
    case "$what" in redis|all) redis_stop ;; esac
    case "$what" in lb|all) lb_stop ;; esac
    ;;
  status)
    pg_running && echo "postgresql: running on $HOST:$PG_PORT" || echo "postgresql: stopped"
    redis_running && echo "redis: running on $HOST:$REDIS_PORT" || echo "redis: stopped"
    lb_running && echo "nginx: running on $HOST:$LB_PORT" || echo "nginx: stopped"
    ;;
  env)
    [ -s "$DIR/services.env" ] || die "not started yet: scripts/services.sh start"
    cat "$DIR/services.env"
    ;;
  *)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
