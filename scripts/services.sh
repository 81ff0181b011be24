#!/usr/bin/env bash
# Installs and starts, on loopback, the real servers the tests and benchmarks use. Idempotent: what is already
# installed or running is left alone. State lives under .services/ in the project (ignored by git).
#   scripts/services.sh start [postgres maildev tools browser ...]   install if needed, start, wait until ready (default: all)
#   scripts/services.sh stop  [postgres ...]   stop what this script started
#   scripts/services.sh status
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.services"
mkdir -p "$state"

PG_PORT="${APERTUR_PG_PORT:-55432}"
PG_BIN=/usr/lib/postgresql/15/bin
SMTP_PORT="${APERTUR_SMTP_PORT:-51025}"
MAILDEV_HTTP_PORT="${APERTUR_MAILDEV_HTTP_PORT:-51080}"
NODE_DIR="$root/scripts/node"

log() { printf '[services] %s\n' "$*"; }

wait_for() { # wait_for <seconds> <description> <command...>
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "$what did not become ready in ${seconds}s"; return 1
}

apt_install() { # apt_install <package...>: installs the missing ones only
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ ! -f "$state/apt-updated" ]; then apt-get update -qq && touch "$state/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- PostgreSQL 15 on 127.0.0.1:$PG_PORT, trust auth, user postgres --------------------------------------------
postgres_start() {
  apt_install postgresql
  local dir="$state/postgres"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
    su postgres -c "$PG_BIN/initdb -D '$dir' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
  fi
  if "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; then log "postgres already running on $PG_PORT"; return 0; fi
  # Fast, disposable test server: durability settings off.
  su postgres -c "$PG_BIN/pg_ctl -D '$dir' -l '$dir/server.log' -w start -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\"" >/dev/null
  wait_for 30 postgres "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
  log "postgres ready on 127.0.0.1:$PG_PORT"
}
postgres_stop() {
  [ -f "$state/postgres/postmaster.pid" ] && su postgres -c "$PG_BIN/pg_ctl -D '$state/postgres' -m fast -w stop" >/dev/null || true
}
postgres_status() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null || echo "postgres: not running"; }

# --- npm packages pinned in scripts/node (package.json + package-lock.json), installed once with npm ci ----------
npm_install() {
  command -v npm >/dev/null || apt_install nodejs npm
  local stamp="$NODE_DIR/node_modules/.installed-lock"
  if [ -f "$stamp" ] && cmp -s "$NODE_DIR/package-lock.json" "$stamp"; then return 0; fi
  log "installing npm packages (scripts/node)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$NODE_DIR/package-lock.json" "$stamp"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- SMTP sink: maildev 2.2.1, SMTP on 127.0.0.1:$SMTP_PORT, mail as JSON on http://127.0.0.1:$MAILDEV_HTTP_PORT/email --
maildev_start() {
  npm_install
  local pidfile="$state/maildev.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then log "maildev already running on $SMTP_PORT/$MAILDEV_HTTP_PORT"; return 0; fi
  nohup node "$NODE_DIR/node_modules/maildev/bin/maildev" --ip 127.0.0.1 -s "$SMTP_PORT" -w "$MAILDEV_HTTP_PORT" \
    >"$state/maildev.log" 2>&1 &
  echo $! >"$pidfile"
  wait_for 30 "maildev smtp" port_open "$SMTP_PORT"
  wait_for 30 "maildev http" port_open "$MAILDEV_HTTP_PORT"
  log "maildev ready: smtp 127.0.0.1:$SMTP_PORT, http 127.0.0.1:$MAILDEV_HTTP_PORT"
}
maildev_stop() {
  local pidfile="$state/maildev.pid"
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}
maildev_status() {
  if [ -f "$state/maildev.pid" ] && kill -0 "$(cat "$state/maildev.pid")" 2>/dev/null; then echo "maildev: running (pid $(cat "$state/maildev.pid"))"; else echo "maildev: not running"; fi
}

# --- Command-line tools the tests call (no daemon): zbarimg decodes QR codes, rsvg-convert rasterises SVG ---------
tools_start() {
  apt_install zbar-tools librsvg2-bin
  log "tools ready (zbarimg, rsvg-convert)"
}
tools_stop() { :; }
tools_status() {
  for t in zbarimg rsvg-convert; do command -v "$t" >/dev/null && echo "tools: $t installed" || echo "tools: $t missing"; done
}

# --- Headless Chromium for the browser tests (Debian's package; Playwright never downloads a browser) ----------------
browser_start() {
  apt_install chromium fonts-dejavu-core
  log "browser ready ($(command -v chromium))"
}
browser_stop() { :; }
browser_status() { command -v chromium >/dev/null && echo "browser: $(chromium --version 2>/dev/null)" || echo "browser: chromium missing"; }

ALL=(postgres maildev tools browser)
cmd="${1:-start}"; shift || true
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=("${ALL[@]}")
for t in "${targets[@]}"; do
  case "$cmd" in
    start) "${t}_start" ;;
    stop) "${t}_stop" ;;
    status) "${t}_status" ;;
    *) echo "usage: $0 start|stop|status [${ALL[*]}]"; exit 2 ;;
  esac
done
