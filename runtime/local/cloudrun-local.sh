#!/usr/bin/env bash
# Cloud Run on one machine: N `mscr serve` instances on 127.0.0.1 behind nginx, the stand-in for
# Google's front end. nginx terminates TLS with a certificate made at start (a local CA signs it;
# trust the CA file it prints), balances round-robin, takes an instance out for a while after a
# failed connection (passive health checks: max_fails/fail_timeout) and retries the request on
# the next instance, so a crashed or draining instance costs no client a failed request. A dead
# instance is started again on its port, as Cloud Run replaces instances.
#
#   runtime/local/cloudrun-local.sh [-n INSTANCES] [-p HTTPS_PORT] [-b BINARY] [-s STATE_FILE]
#                                   [--no-restart] [--keep] [-- SERVE_ARGS...]
#
#   -n  instances (default 3)          -p  HTTPS port on 127.0.0.1 (default 8443; 0 picks one)
#   -b  mscr binary (default $MSCR_BINARY, else .build/release/mscr, else .build/debug/mscr,
#       else mscr on PATH)
#   -s  write a JSON description (url, CA file, pids and ports) here, rewritten on each restart
#   --no-restart  leave dead instances dead     --keep  keep the temp folder (logs, config)
#
# The environment reaches every instance (MSCR_FUNCTIONS, MSCR_MODEL_REPOSITORY, ...), with
# K_SERVICE/K_REVISION/K_CONFIGURATION set as Cloud Run sets them. SIGINT or SIGTERM stops
# nginx, then drains the instances (SIGTERM), and exits 0. Needs nginx and openssl (Debian:
# apt-get install nginx-light openssl); runs as root or as a user.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
INSTANCES=3
HTTPS_PORT=8443
BINARY="${MSCR_BINARY:-}"
STATE_FILE=""
RESTART=1
KEEP=0
SERVE_ARGS=()

log() { echo "cloudrun-local: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -n) INSTANCES="$2"; shift 2 ;;
    -p) HTTPS_PORT="$2"; shift 2 ;;
    -b) BINARY="$2"; shift 2 ;;
    -s) STATE_FILE="$2"; shift 2 ;;
    --no-restart) RESTART=0; shift ;;
    --keep) KEEP=1; shift ;;
    --) shift; SERVE_ARGS=("$@"); break ;;
    -h|--help) usage ;;
    *) log "unknown argument $1"; usage ;;
  esac
done
[[ "$INSTANCES" =~ ^[1-9][0-9]*$ ]] || { log "-n must be a positive integer"; exit 2; }
[[ "$HTTPS_PORT" =~ ^[0-9]+$ ]] || { log "-p must be a port number"; exit 2; }

if [ -z "$BINARY" ]; then
  for c in "$ROOT/.build/release/mscr" "$ROOT/.build/debug/mscr" "$(command -v mscr || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then BINARY="$c"; break; fi
  done
fi
[ -n "$BINARY" ] && [ -x "$BINARY" ] || { log "no mscr binary: build it or pass -b"; exit 1; }
command -v nginx >/dev/null || { log "nginx is not installed (apt-get install nginx-light)"; exit 1; }
command -v openssl >/dev/null || { log "openssl is not installed"; exit 1; }
if [ "$HTTPS_PORT" = 0 ]; then
  HTTPS_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/mscr-local.XXXXXX")"
# nginx workers (nobody, when started as root) must reach their temp folders inside.
chmod 711 "$DIR"
PIDS=()
PORTS=()
NGINX_PID=""
SLEEP_PID=""
export K_SERVICE="${K_SERVICE:-mscr-local}"
export K_CONFIGURATION="${K_CONFIGURATION:-$K_SERVICE}"
export K_REVISION="${K_REVISION:-$K_SERVICE-00001-loc}"

# Stops nginx first (no new requests), then drains the instances with SIGTERM as Cloud Run does;
# anything still alive after the grace period (+2 s) is killed.
STOPPED=0
stop_all() {
  [ "$STOPPED" = 1 ] && return 0
  STOPPED=1
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null || true
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
  fi
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local grace="${MSCR_SHUTDOWN_GRACE:-8}"
  grace="${grace%%[!0-9]*}"
  local deadline=$(( $(date +%s) + ${grace:-0} + 2 ))
  for pid in "$NGINX_PID" "${PIDS[@]}"; do
    [ -n "$pid" ] || continue
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then log "kept $DIR"; else rm -rf "$DIR"; fi
  [ -n "$STATE_FILE" ] && rm -f "$STATE_FILE"
  return 0
}
trap 'stop_all' EXIT
trap 'log "stopping"; stop_all; exit 0' INT TERM

# start_instance INDEX PORT: PORT 0 lets the instance pick one and report it in its port file.
start_instance() {
  local i="$1" port="$2" portfile="$DIR/instance-$1.port"
  rm -f "$portfile"
  "$BINARY" serve --host 127.0.0.1 --port "$port" --port-file "$portfile" \
    ${SERVE_ARGS[@]+"${SERVE_ARGS[@]}"} >>"$DIR/instance-$i.log" 2>&1 &
  PIDS[i]=$!
}

wait_instance() {
  local i="$1" portfile="$DIR/instance-$1.port" deadline=$(( $(date +%s) + 60 ))
  while [ ! -s "$portfile" ]; do
    if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
      log "instance $i exited at start:"; tail -5 "$DIR/instance-$i.log" >&2; return 1
    fi
    [ "$(date +%s)" -lt "$deadline" ] || { log "instance $i did not listen within 60 s"; return 1; }
    sleep 0.05
  done
  PORTS[i]="$(tr -d '[:space:]' < "$portfile")"
}

write_state() {
  [ -n "$STATE_FILE" ] || return 0
  local items="" sep="" i
  for i in "${!PIDS[@]}"; do
    items+="$sep{\"index\": $i, \"pid\": ${PIDS[i]}, \"port\": ${PORTS[i]}, \"log\": \"$DIR/instance-$i.log\"}"
    sep=", "
  done
  printf '{"url": "https://127.0.0.1:%s", "ca": "%s", "nginx_pid": %s, "dir": "%s", "instances": [%s]}\n' \
    "$HTTPS_PORT" "$DIR/tls/ca.pem" "${NGINX_PID:-0}" "$DIR" "$items" > "$STATE_FILE.tmp"
  mv "$STATE_FILE.tmp" "$STATE_FILE"
}

# A local CA and a server certificate for 127.0.0.1 and localhost that it signs.
make_certificate() {
  local t="$DIR/tls"
  mkdir -p "$t"
  (
    cd "$t"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -subj "/CN=mscr-local CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "authorityKeyIdentifier=keyid,issuer" "subjectKeyIdentifier=hash" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.pem
    cat server.pem ca.pem > chain.pem
  ) >"$DIR/openssl.log" 2>&1 || { cat "$DIR/openssl.log" >&2; return 1; }
  chmod 600 "$t"/*.key
}

write_nginx_conf() {
  local servers="" i user=""
  for i in "${!PORTS[@]}"; do
    servers+="        server 127.0.0.1:${PORTS[i]} max_fails=1 fail_timeout=5s;"$'\n'
  done
  mkdir -p "$DIR/nginx"/{body,proxy,fastcgi,uwsgi,scgi}
  if [ "$(id -u)" = 0 ]; then
    # Workers drop root; they only need the temp folders (the master reads config and keys).
    user="user nobody nogroup;"
    chown -R nobody:nogroup "$DIR/nginx"
  fi
  cat > "$DIR/nginx.conf" <<EOF
# Generated by runtime/local/cloudrun-local.sh; lives and dies with it.
daemon off;
$user
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
    log_format upstreams '\$remote_addr "\$request" \$status \$request_time '
                         'upstream=\$upstream_addr upstream_status=\$upstream_status';
    access_log $DIR/access.log upstreams;
    client_body_temp_path $DIR/nginx/body;
    proxy_temp_path $DIR/nginx/proxy;
    fastcgi_temp_path $DIR/nginx/fastcgi;
    uwsgi_temp_path $DIR/nginx/uwsgi;
    scgi_temp_path $DIR/nginx/scgi;
    # Cloud Run's request size limit (HTTP/1).
    client_max_body_size 32m;

    upstream mscr {
        # Round-robin. One failed connection takes an instance out for fail_timeout.
$servers        keepalive 32;
    }

    server {
        listen 127.0.0.1:$HTTPS_PORT ssl http2;
        server_name 127.0.0.1 localhost;
        ssl_certificate $DIR/tls/chain.pem;
        ssl_certificate_key $DIR/tls/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {
            proxy_pass http://mscr;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_connect_timeout 2s;
            # Cloud Run's default request timeout.
            proxy_send_timeout 300s;
            proxy_read_timeout 300s;
            # Retry on the next instance when the connection fails (refused, reset, a pooled
            # keep-alive connection the instance closed while draining) or the instance says
            # 502/503. POSTs too (non_idempotent): function calls are pure, so a retry is safe.
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_next_upstream_timeout 30s;
        }
    }
}
EOF
}

wait_tcp() {
  local port="$1" deadline=$(( $(date +%s) + 10 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$NGINX_PID" 2>/dev/null || { log "nginx exited:"; cat "$DIR/nginx-error.log" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { log "nginx did not listen on $port"; return 1; }
    sleep 0.05
  done
}

make_certificate
for i in $(seq 0 $(( INSTANCES - 1 ))); do start_instance "$i" 0; done
for i in $(seq 0 $(( INSTANCES - 1 ))); do wait_instance "$i"; done
write_nginx_conf
nginx -t -q -e "$DIR/nginx-error.log" -p "$DIR" -c "$DIR/nginx.conf" 2>>"$DIR/nginx-error.log" \
  || { cat "$DIR/nginx-error.log" >&2; exit 1; }
nginx -e "$DIR/nginx-error.log" -p "$DIR" -c "$DIR/nginx.conf" 2>>"$DIR/nginx-error.log" &
NGINX_PID=$!
wait_tcp "$HTTPS_PORT"
write_state

echo "mscr on https://127.0.0.1:$HTTPS_PORT ($INSTANCES instances on 127.0.0.1:${PORTS[*]}; binary $BINARY)"
echo "CA certificate: $DIR/tls/ca.pem"
echo "  curl --cacert $DIR/tls/ca.pem https://127.0.0.1:$HTTPS_PORT/functions"
echo "logs: $DIR (Ctrl-C stops everything)"

# Supervise: nginx dying ends the stand-in; an instance dying is replaced on the same port.
declare -A LAST_START=()
while :; do
  sleep 0.2 &
  SLEEP_PID=$!
  wait "$SLEEP_PID" 2>/dev/null || true
  SLEEP_PID=""
  if ! kill -0 "$NGINX_PID" 2>/dev/null; then
    log "nginx exited:"; tail -5 "$DIR/nginx-error.log" >&2
    exit 1
  fi
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[i]}" 2>/dev/null && continue
    status=0
    wait "${PIDS[i]}" 2>/dev/null || status=$?
    if [ "$RESTART" = 0 ]; then
      log "instance $i (port ${PORTS[i]}) exited with status $status"
      unset 'PIDS[i]'
    else
      # At most one start per instance per second, so a port taken by someone else cannot spin.
      now=$(date +%s)
      [ "$(( now - ${LAST_START[$i]:-0} ))" -ge 1 ] || { sleep 1; now=$(date +%s); }
      LAST_START[$i]=$now
      log "instance $i (port ${PORTS[i]}) exited with status $status; starting it again"
      start_instance "$i" "${PORTS[i]}"
      wait_instance "$i" || log "instance $i did not come back; trying again"
    fi
    write_state
  done
done
