#!/usr/bin/env bash
# Load test of `fastintent serve` with wrk on loopback (127.0.0.1 only), bounded in time.
#
#   bench/load_test.sh [MODEL]        (default: $FASTINTENT_MODEL, else the built-in model)
#
# Environment: FI_BIN (the fastintent binary; default build/release/tools/fastintent),
# DURATION (seconds per run, default 10), CONNS (keep-alive connections, default 32),
# OVERLOAD_DURATION (default 30), OVERLOAD_CONNS (default 512), OVERLOAD_TEXTS (texts per
# overload request, default 16), THREADS (server engine threads, default 2).
#
# 1. Throughput: POST /v1/classify {"text": ...} over CONNS keep-alive connections; prints wrk's
#    requests/s and latency percentiles.
# 2. Overload: OVERLOAD_CONNS connections each sending OVERLOAD_TEXTS texts per request, far more
#    work in flight than the engine queue (--queue 1024) admits, for OVERLOAD_DURATION s. Checks
#    that wrk saw no socket error or timeout (every request got a response: 200 or a quick 503),
#    that the server's memory stayed bounded, and that it answers normally right after.
# Exit status: 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
FI_BIN=${FI_BIN:-build/release/tools/fastintent}
MODEL=${1:-${FASTINTENT_MODEL:-}}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
OVERLOAD_DURATION=${OVERLOAD_DURATION:-30}
OVERLOAD_CONNS=${OVERLOAD_CONNS:-512}
OVERLOAD_TEXTS=${OVERLOAD_TEXTS:-16}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || { echo "load_test: wrk is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
[ -x "$FI_BIN" ] || { echo "load_test: $FI_BIN not built (cmake --build --preset release)" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ulimit -n 65536 2>/dev/null || true
MODEL_ARGS=()
[ -n "$MODEL" ] && MODEL_ARGS=(-m "$MODEL")
"$FI_BIN" serve "${MODEL_ARGS[@]}" --host 127.0.0.1 --port 0 --threads "$THREADS" --queue 1024 \
  --max-connections 4096 2>"$WORK/server.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(sed -n 's|.*on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$WORK/server.log" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$PORT" ] || { echo "load_test: the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
echo "load_test: $(head -1 "$WORK/server.log" | sed 's/^fastintent: //')"

# One request over a fresh connection with bash's /dev/tcp; prints the status code.
http_status() {  # METHOD PATH [BODY]
  local body=${3:-}
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$1" "$2" "${#body}" "$body" >&3
  head -1 <&3 | awk '{print $2}'
  exec 3<&- 3>&-
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }

# A wrk script: POSTs `body`, counts responses by status, and prints a machine-readable summary.
write_script() {  # FILE BODY
  cat >"$1" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$2'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; overloaded = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then overloaded = overloaded + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, v, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); v = v + t:get("overloaded"); x = x + t:get("other") end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d ok=%d overloaded=%d other=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, o, v, x, e.connect, e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
EOF
}

write_script "$WORK/one.lua" '{"text": "can you see my screen and set a timer for ten minutes"}'
echo "load_test: warm-up"
wrk -t1 -c"$CONNS" -d2s -s "$WORK/one.lua" "$URL/v1/classify" >/dev/null
echo "load_test: throughput, $CONNS keep-alive connections, ${DURATION}s, POST /v1/classify (1 text)"
wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/one.lua" "$URL/v1/classify" | tee "$WORK/throughput.txt"

TEXTS=$(printf '"play some jazz and turn the volume up",%.0s' $(seq 1 "$OVERLOAD_TEXTS"))
write_script "$WORK/many.lua" "{\"texts\": [${TEXTS%,}]}"
RSS_BEFORE=$(rss_kb)
echo "load_test: overload, $OVERLOAD_CONNS connections x $OVERLOAD_TEXTS texts per request, ${OVERLOAD_DURATION}s (RSS ${RSS_BEFORE} kB)"
RSS_MAX=$RSS_BEFORE
( while kill -0 "$SERVER_PID" 2>/dev/null; do r=$(rss_kb); echo "$r"; sleep 0.5; done ) >"$WORK/rss.txt" &
RSS_PID=$!
wrk -t2 -c"$OVERLOAD_CONNS" -d"${OVERLOAD_DURATION}s" --timeout 5s --latency -s "$WORK/many.lua" "$URL/v1/classify" | tee "$WORK/overload.txt"
kill "$RSS_PID" 2>/dev/null || true
wait "$RSS_PID" 2>/dev/null || true
RSS_MAX=$(sort -n "$WORK/rss.txt" | tail -1)
RSS_AFTER=$(rss_kb)

fail=0
line=$(grep '^RESULT' "$WORK/overload.txt")
for field in other connect read write timeout; do
  v=$(sed -n "s/.* $field=\([0-9]*\).*/\1/p" <<<"$line")
  if [ "$v" != 0 ]; then echo "load_test: FAIL: overload run had $field=$v" >&2; fail=1; fi
done
overloaded=$(sed -n 's/.* overloaded=\([0-9]*\).*/\1/p' <<<"$line")
[ "$overloaded" -gt 0 ] || echo "load_test: note: no 503 seen; the overload run did not exceed capacity"
s1=$(http_status GET /v2/health/ready)
s2=$(http_status POST /v1/classify '{"text": "play some jazz"}')
echo "load_test: after overload: /v2/health/ready -> $s1, /v1/classify -> $s2; RSS before ${RSS_BEFORE} kB, max ${RSS_MAX} kB, after ${RSS_AFTER} kB"
[ "$s1" = 200 ] && [ "$s2" = 200 ] || { echo "load_test: FAIL: server did not answer normally after overload" >&2; fail=1; }
if [ "$RSS_MAX" -gt $((RSS_BEFORE * 2 + 262144)) ]; then echo "load_test: FAIL: memory grew from $RSS_BEFORE to $RSS_MAX kB" >&2; fail=1; fi
[ "$fail" = 0 ] && echo "load_test: PASS (every overload request got a response; memory bounded; healthy after)"
exit "$fail"
