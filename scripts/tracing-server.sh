# Shared by bench-tracing.sh and profile-tracing.sh (sourced, not run): a warm stock server with
# tracing off or on. Needs $mscr, $work and, for `on`, $receiver_port.
#
# serve_stock MODE SERVICE: starts `mscr serve` on a free port with tracing MODE (on: every request
# exported over OTLP/HTTP to the receiver, or to OTEL_ENDPOINT_OVERRIDE, as SERVICE); sets $pid and
# $port and returns once /healthz answers (the stock function is warmed before the port opens).
serve_stock() {
  local mode=$1 service=$2
  port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  local env=(PORT="$port" MSCR_FUNCTIONS=functions MSCR_MODEL_REPOSITORY="file://$work/models" MSCR_WARM=stock
             LOG_LEVEL=warning)
  if [ "$mode" = on ]; then
    env+=(OTEL_EXPORTER_OTLP_ENDPOINT="${OTEL_ENDPOINT_OVERRIDE:-http://127.0.0.1:$receiver_port}"
          OTEL_SERVICE_NAME="$service")
  fi
  env "${env[@]}" "$mscr" serve >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
}
