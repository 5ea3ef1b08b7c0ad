#!/usr/bin/env bash
# Real Redis and PostgreSQL for the test suite. `up` prints `export` lines for REDIS_URL and DATABASE_URL:
# the given (or default) servers when they answer, otherwise private servers it starts from Debian's packages
# on free loopback ports (installing the packages if missing). `down` stops only what `up` started.
#   eval "$(bash scripts/test-services.sh up)"; ...; bash scripts/test-services.sh down
set -euo pipefail
cd "$(dirname "$0")/.."
state=.test-data/services
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
database_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}

log() { echo "test-services: $*" >&2; }
free_port() { node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  log "installing $*"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}
pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && { echo "$dir"; return; }; done
  command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

redis_up() {
  if command -v redis-cli >/dev/null && timeout 3 redis-cli -u "$redis_url" ping 2>/dev/null | grep -q PONG; then
    echo "export REDIS_URL='$redis_url'"
    return
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  local port; port=$(free_port)
  log "Redis at $redis_url does not answer; starting a private one on port $port"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$PWD/$state" --pidfile "$PWD/$state/redis.pid" --logfile "$PWD/$state/redis.log" >&2
  for _ in $(seq 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  echo "export REDIS_URL='redis://127.0.0.1:$port'"
}

postgres_up() {
  if command -v psql >/dev/null && timeout 5 psql "$database_url" -qAtc 'select 1' >/dev/null 2>&1; then
    echo "export DATABASE_URL='$database_url'"
    return
  fi
  [ -n "$(pg_bin)" ] || apt_install postgresql
  local bin port data run_as=()
  bin=$(pg_bin)
  port=$(free_port)
  data="$PWD/$state/pg"
  log "PostgreSQL at $database_url does not answer; starting a private one on port $port"
  mkdir -p "$data"
  # initdb refuses to run as root: run the private server as the postgres user.
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$data"; run_as=(runuser -u postgres --); fi
  "${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres -A trust >&2
  "${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $data" start >&2
  "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
  echo "$port" > "$state/pg.port"
  echo "export DATABASE_URL='postgres://postgres@127.0.0.1:$port/test'"
}

down() {
  if [ -f "$state/redis.pid" ]; then kill "$(cat "$state/redis.pid")" 2>/dev/null || true; rm -f "$state/redis.pid"; fi
  if [ -d "$state/pg/db" ]; then
    local run_as=()
    [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
    "${run_as[@]}" "$(pg_bin)/pg_ctl" -D "$state/pg/db" -m fast stop >&2 || true
    rm -rf "$state/pg" "$state/pg.port"
  fi
}

case "${1:-}" in
  up) mkdir -p "$state"; redis_up; postgres_up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
