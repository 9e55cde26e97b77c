#!/usr/bin/env bash
# HTTP and WebSocket load harness for `tamas serve` (see docs/performance.md, "The web side (wrk and
# WebSocket fan-out)").
#
#   bench/http/run.sh [options]
#
# Writes a bench configuration (two tenants; acme with --queues queues and --agents agents,
# extensions 2000.., each in two queues; beta small) to a fresh work directory, makes a supervisor
# and a Bearer token for it (`tamas user add`, `tamas token add`), fills the interactions table with
# --records records of acme (and a fifth as many of beta) straight into <data>/tamas.db with the
# sqlite3 CLI (spread over the last 30 days, 80% answered by an agent), then starts one
# `tamas serve` on 127.0.0.1 with free HTTP, SIP and RTP ports and puts 60% of acme's agents on
# available and 15% on break (the rest, and the fan-out's agents, stay logged out), so the live
# snapshot is a realistic one. Phases:
#   wrk   for each endpoint (the live snapshot, ?limit=100, a filtered search ?agent=A&since=7 days
#         ago&limit=100): (a) max throughput, closed loop -t2 -c16; (b) latency at a fixed
#         concurrency, closed loop -t1 -c--conc; (c) paced at --rate requests/s (-t2 -c16, wrk.lua's
#         delay(): wrk2 is not in Debian), with the achieved rate. Each --seconds long.
#   mix   the snapshot paced at --rate again, while --mix-conc connections fetch ?limit=100 back to
#         back: whether slow searches hold up the live view (the server has two HTTP threads).
#   ws    ws_fanout.js (Node, the `ws` package: `npm ci` here when node_modules is missing) opens
#         --ws-clients WebSockets to the tenant's stream, each subscribes to agents, queues and
#         contacts; then --ws-changes agent status changes (PUT .../agents/{ext}/status), one every
#         --ws-interval-ms: for every client and change, the time from just before the PUT to the
#         arrival of the matching `agent` message.
# The server's CPU is utime+stime from /proc/PID/stat before and after each run (never wall time:
# the machine may be shared), its RSS VmRSS after each; the load generators' CPU is printed beside
# it, since they share the machine with the server.
#
# Options (or the environment variables in brackets):
#   --phases "wrk mix ws" which phases, in order                            [PHASES]
#   --records N           interaction records of tenant acme                [RECORDS=100000]
#   --queues N            queues of acme                                    [QUEUES=10]
#   --agents N            agents of acme (>= 60)                            [AGENTS=200]
#   --seconds S           length of each wrk run                            [SECONDS_EACH=10]
#   --rate R              the paced run's aim, requests/s                   [RATE=1000]
#   --conc C              connections of the fixed-concurrency run (b)      [CONC=4]
#   --mix-conc C          connections fetching ?limit=100 in the mix phase  [MIX_CONC=2]
#   --endpoints "live list search"  which endpoints the wrk phase measures  [ENDPOINTS]
#   --ws-clients N        WebSocket clients                                 [WS_CLIENTS=500]
#   --ws-changes N        status changes                                    [WS_CHANGES=50]
#   --ws-interval-ms MS   between changes                                   [WS_INTERVAL_MS=200]
#   --tamas PATH          the binary                                        [TAMAS=build/tamas]
#   --work DIR            where the config, data dir, logs and report go    [WORK=mktemp]
# Everything this script starts is stopped on exit. Exit status: 0 when no request failed, every
# client subscribed and got every change.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAMAS=${TAMAS:-$ROOT/build/tamas}
PHASES=${PHASES:-"wrk mix ws"}
RECORDS=${RECORDS:-100000}
QUEUES=${QUEUES:-10}
AGENTS=${AGENTS:-200}
SECONDS_EACH=${SECONDS_EACH:-10}
RATE=${RATE:-1000}
CONC=${CONC:-4}
MIX_CONC=${MIX_CONC:-2}
ENDPOINTS=${ENDPOINTS:-"live list search"}
WS_CLIENTS=${WS_CLIENTS:-500}
WS_CHANGES=${WS_CHANGES:-50}
WS_INTERVAL_MS=${WS_INTERVAL_MS:-200}
WORK=${WORK:-}

while [[ $# -gt 0 ]]; do
  case $1 in
    --phases) PHASES=$2; shift 2 ;;
    --records) RECORDS=$2; shift 2 ;;
    --queues) QUEUES=$2; shift 2 ;;
    --agents) AGENTS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --conc) CONC=$2; shift 2 ;;
    --mix-conc) MIX_CONC=$2; shift 2 ;;
    --endpoints) ENDPOINTS=$2; shift 2 ;;
    --ws-clients) WS_CLIENTS=$2; shift 2 ;;
    --ws-changes) WS_CHANGES=$2; shift 2 ;;
    --ws-interval-ms) WS_INTERVAL_MS=$2; shift 2 ;;
    --tamas) TAMAS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 2; }
# The binary is rebuilt now and then: wait a little for it rather than fail at once.
for ((i = 0; i < 60; i++)); do [[ -x $TAMAS ]] && break; sleep 2; done
[[ -x $TAMAS ]] || die "$TAMAS is not built (ninja -C build tamas)"
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (apt-get install sqlite3)"
command -v curl >/dev/null || die "curl is not installed"
[[ " $PHASES " == *" wrk "* ]] && { command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"; }
if [[ " $PHASES " == *" ws "* ]]; then
  command -v node >/dev/null || die "node is not installed"
  if [[ ! -d $HERE/node_modules/ws ]]; then
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $HERE"
  fi
fi
((AGENTS >= 60 && QUEUES >= 1 && RECORDS >= 0)) || die "--agents >= 60, --queues >= 1, --records >= 0"
[[ -z $WORK ]] && WORK=$(mktemp -d /tmp/tamas-http.XXXXXX)
mkdir -p "$WORK" || die "cannot create $WORK"
cd "$WORK" || die "cannot enter $WORK"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

HZ=$(getconf CLK_TCK)
SERVER=""
CHILDREN=()
cleanup() {
  local p
  for p in "${CHILDREN[@]}"; do kill "$p" 2>/dev/null; done
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

REPORT=$WORK/report.txt
: >"$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }
calc() { awk "BEGIN {printf \"%.${2:-3}f\", ($1)}"; }
now() { date +%s.%N; }
proc_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }

# ---------------------------------------------------------------- ports
free_tcp_port() {  # a TCP port nothing listens on, from $1 up
  local p=$1 bound
  bound=$(ss -Hltn 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un)
  while grep -qx "$p" <<<"$bound"; do p=$((p + 1)); done
  echo "$p"
}
bound_udp() { ss -Hlun 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un; }
free_udp_port() {  # first port >= $1 (step 10) with it and the next 3 unbound
  local p=$1 bound
  bound=$(bound_udp)
  while grep -qxE "$p|$((p + 1))|$((p + 2))|$((p + 3))" <<<"$bound"; do p=$((p + 10)); done
  echo "$p"
}
free_udp_range() {  # $1 ports below the ephemeral range with nothing bound in them
  local size=$1 base bound
  bound=$(bound_udp)
  for ((base = 21000; base + size <= 32700; base += 500)); do
    if ! awk -v a=$base -v b=$((base + size - 1)) '$1 >= a && $1 <= b {f=1} END {exit !f}' <<<"$bound"; then
      echo "$base-$((base + size - 1))"; return
    fi
  done
  die "no free UDP range of $size ports in 21000-32700"
}

# ---------------------------------------------------------------- configuration and data
CONFIG=$WORK/bench.yaml
DATA=$WORK/data
write_config() {
  local t q a n number
  {
    echo "# Written by bench/http/run.sh: the HTTP bench's centre. sip.listen, rtp.ports, http.listen"
    echo "# and data_dir are overridden on the command line."
    echo "sip:"
    echo "  listen: 127.0.0.1:5060"
    echo "rtp:"
    echo "  ports: 20000-20999"
    echo "data_dir: /tmp/tamas-http-bench"
    echo "log:"
    echo "  level: info"
    echo "tenants:"
    for t in acme beta; do
      if [[ $t == acme ]]; then n=$AGENTS; number=100; else n=20; number=200; fi
      cat <<EOF
  - id: $t
    realm: $t.bench
    time_zone: UTC
    trunks:
      - {name: local, from: [127.0.0.1/32]}
    numbers:
      "$number": {flow: main}
    break_reasons: [lunch, training, meeting]
    flows:
      main: {start: wait, nodes: {wait: {queue: q0}}}
    queues:
EOF
      for ((q = 0; q < QUEUES; q++)); do
        echo "      - {id: q$q, ring_timeout: 15s, wrap_up: 10s, sl_seconds: 20s, sl_target: 80}"
      done
      echo "    agents:"
      for ((a = 0; a < n; a++)); do
        echo "      - {extension: \"$((2000 + a))\", password: bench$((2000 + a))pw, name: Agent $a, queues: [q$((a % QUEUES)), q$(((a + 1) % QUEUES))]}"
      done
    done
  } >"$CONFIG"
}

# $1 tenant, $2 count, $3 agents: records spread evenly over the 30 days before now, pseudo-random
# but reproducible (a multiplicative hash of the row number): 80% answered by an agent, 12%
# abandoned in the queue, 3% voicemail, 5% transferred.
fill_records() {
  local tenant=$1 n=$2 agents=$3 t1 span=$((30 * 86400))
  ((n > 0)) || return 0
  t1=$(date +%s)
  sqlite3 "$DATA/tamas.db" <<EOF || die "inserting records failed"
.timeout 10000
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $n - 1),
h AS (SELECT i, ($t1 - $span) + i * ($span.0 / $n) AS st, (i * 2654435761) % 4294967296 AS x FROM n),
r AS (SELECT i, st, x,
        CASE WHEN x % 100 < 80 THEN 'answered' WHEN x % 100 < 92 THEN 'abandoned_in_queue'
             WHEN x % 100 < 95 THEN 'voicemail' ELSE 'transferred' END AS result,
        (x / 100) % $QUEUES AS q, 2000 + (x / 1000) % $agents AS agent,
        (x / 7) % 90000 AS wait_ms, 30000 + (x / 13) % 570000 AS talk_ms FROM h)
INSERT INTO interactions (id, tenant, channel, direction, caller, called, started_at, answered_at,
  ended_at, flow, ivr_path, result, ended_by, queue, agent, recording, reason, transfer_target,
  wait_ms, ring_ms, talk_ms, hold_ms, hold_count, transfers, disposition, wrapup_notes, wrapped_up_by)
SELECT printf('bench%s-%d', '$tenant', i), '$tenant', 'voice', 'inbound',
  printf('+98912%07d', (x / 17) % 10000000), '100',
  strftime('%Y-%m-%dT%H:%M:%fZ', st, 'unixepoch'),
  CASE WHEN result IN ('answered', 'transferred') THEN strftime('%Y-%m-%dT%H:%M:%fZ', st + wait_ms / 1000.0, 'unixepoch') END,
  strftime('%Y-%m-%dT%H:%M:%fZ', st + (wait_ms + CASE WHEN result = 'answered' THEN talk_ms ELSE 0 END) / 1000.0, 'unixepoch'),
  'main', 'wait', result, CASE WHEN x % 2 = 0 THEN 'caller' ELSE 'system' END, 'q' || q,
  CASE WHEN result IN ('answered', 'transferred') THEN CAST(agent AS TEXT) ELSE '' END, '', '',
  CASE WHEN result = 'transferred' THEN '2001' ELSE '' END,
  wait_ms, 4000, CASE WHEN result = 'answered' THEN talk_ms ELSE 0 END, 0, 0,
  CASE WHEN result = 'transferred' THEN 1 ELSE 0 END,
  CASE WHEN result = 'answered' THEN 'resolved' ELSE '' END, '', ''
FROM r;
COMMIT;
EOF
}

TOKEN=""
prepare() {
  write_config
  local out
  out=$(echo "bench-password-1" | "$TAMAS" user add --config "$CONFIG" --data-dir "$DATA" \
    --tenant acme --username bench-sup --role supervisor 2>&1) || die "tamas user add: $out"
  TOKEN=$("$TAMAS" token add --config "$CONFIG" --data-dir "$DATA" --tenant acme \
    --username bench-sup --label bench 2>&1) || die "tamas token add: $TOKEN"
  [[ $TOKEN == tmt_* ]] || die "tamas token add printed '$TOKEN'"
  local t0
  t0=$(now)
  fill_records acme "$RECORDS" "$AGENTS"
  fill_records beta "$((RECORDS / 5))" 20
  say "data: $(sqlite3 "$DATA/tamas.db" "SELECT group_concat(tenant || ' ' || n, ', ') FROM (SELECT tenant, count(*) n FROM interactions GROUP BY tenant)") records inserted in $(calc "$(now) - $t0" 1) s; tamas.db $(($(stat -c %s "$DATA/tamas.db") / 1048576)) MB"
}

# ---------------------------------------------------------------- the server
LOG=$WORK/server.log
BASE=""
start_server() {
  local http_port sip_port rtp
  http_port=$(free_tcp_port 18480)
  sip_port=$(free_udp_port 15460)
  rtp=$(free_udp_range 200)
  BASE=http://127.0.0.1:$http_port
  "$TAMAS" serve --config "$CONFIG" --data-dir "$DATA" --http-listen "127.0.0.1:$http_port" \
    --sip-listen "127.0.0.1:$sip_port" --rtp-ports "$rtp" --drain-timeout 2s 2>"$LOG" &
  SERVER=$!
  local i
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null "$BASE/api/v1/openapi.json" 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; die "tamas serve exited"; }
    sleep 0.1
  done
  curl -sf -o /dev/null "$BASE/api/v1/openapi.json" || die "tamas serve did not answer in 30 s ($LOG)"
  say "server: pid $SERVER, HTTP $BASE, SIP 127.0.0.1:$sip_port, RTP $rtp, log $LOG"
}
stop_server() {
  [[ -n $SERVER ]] || return 0
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER" 2>/dev/null
  fi
  wait "$SERVER" 2>/dev/null
  SERVER=""
}
put_status() {  # $1 extension, $2 JSON body
  curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$2" "$BASE/api/v1/tenants/acme/agents/$1/status"
}
# 60% of the agents available, 15% on break; the last 50 (the fan-out's) stay logged out.
set_statuses() {
  local a code bad=0 avail=$((AGENTS * 60 / 100)) brk=$((AGENTS * 15 / 100))
  ((avail + brk > AGENTS - 50)) && brk=$((AGENTS - 50 - avail))
  ((brk < 0)) && brk=0
  for ((a = 0; a < avail + brk; a++)); do
    if ((a < avail)); then code=$(put_status $((2000 + a)) '{"status":"available"}')
    else code=$(put_status $((2000 + a)) '{"status":"break","reason":"lunch"}'); fi
    [[ $code == 200 ]] || bad=$((bad + 1))
  done
  ((bad == 0)) || die "$bad status changes were refused"
  local size
  size=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/tenants/acme/live")
  say "agents: $avail available, $brk on break, $((AGENTS - avail - brk)) logged out; the live snapshot is $size bytes"
}
log_problems() {  # warnings and errors of the server log since line $1
  tail -n +"$1" "$LOG" | awk '/ (warn|error) / {k = $2 " " $3 " " $4; c[k]++} END {for (k in c) printf "    %6d  log: %s\n", c[k], k}'
}

# ---------------------------------------------------------------- phase: wrk
FAILED=0
url_of() {
  case $1 in
    live) echo "$BASE/api/v1/tenants/acme/live" ;;
    list) echo "$BASE/api/v1/tenants/acme/interactions?limit=100" ;;
    search) echo "$BASE/api/v1/tenants/acme/interactions?agent=2042&since=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)&limit=100" ;;
  esac
}
# $1 endpoint, $2 label, $3 threads, $4 connections, $5 total rate (0 = closed loop)
wrk_run() {
  local ep=$1 label=$2 t=$3 c=$4 rate=$5 url out line0 t0 t1 cpu0 cpu1 mb0 ma0 mb1 ma1 tr
  url=$(url_of "$ep")
  line0=$(($(wc -l <"$LOG") + 1))
  out=$WORK/wrk-$ep-$(tr -c 'a-z0-9\n' '_' <<<"$label").txt
  tr=0; ((rate > 0)) && tr=$(calc "$rate / $t" 3)
  cpu0=$(proc_ticks "$SERVER"); t0=$(now); read -r mb0 ma0 < <(machine_ticks)
  WRK_THREAD_RATE=$tr /usr/bin/time -f 'TIME %U %S' -o "$out.time" \
    wrk -t"$t" -c"$c" -d"${SECONDS_EACH}s" --latency --timeout 5s -s "$HERE/wrk.lua" \
    -H "Authorization: Bearer $TOKEN" "$url" >"$out" 2>&1
  cpu1=$(proc_ticks "$SERVER"); t1=$(now); read -r mb1 ma1 < <(machine_ticks)
  local kv
  kv=$(grep '^WRK ' "$out" | cut -d' ' -f2-)
  [[ -n $kv ]] || { say "  $ep $label: wrk printed no summary ($out)"; FAILED=$((FAILED + 1)); return; }
  local requests duration_us bytes connect_errors read_errors write_errors status_errors timeouts \
    p50_us p90_us p99_us p999_us max_us mean_us
  eval "$kv"
  local secs wsecs wcpu errs u s
  secs=$(calc "$t1 - $t0")
  wsecs=$(calc "$duration_us / 1000000")
  read -r _ u s <"$out.time"
  wcpu=$(calc "$u + $s" 2)
  errs=$((connect_errors + read_errors + write_errors + timeouts))
  FAILED=$((FAILED + errs + status_errors))
  local row
  row=$(printf '| %-6s | %-18s | %7s | %5s | %5s | %6s | %6s | %7s | %4s / %s | %5s%% | %5s | %4s%% | %4s%% |' \
    "$ep" "$label" "$(calc "$requests / $wsecs" 0)" "$(calc "$p50_us / 1000" 2)" "$(calc "$p90_us / 1000" 2)" \
    "$(calc "$p99_us / 1000" 2)" "$(calc "$p999_us / 1000" 2)" "$(calc "$max_us / 1000" 1)" "$errs" "$status_errors" \
    "$(calc "100 * ($cpu1 - $cpu0) / $HZ / $secs" 0)" \
    "$(calc "$requests > 0 ? 1e6 * ($cpu1 - $cpu0) / $HZ / $requests : 0" 0)" \
    "$(calc "100 * $wcpu / $secs" 0)" "$(calc "100 * ($mb1 - $mb0) / ($ma1 - $ma0)" 0)")
  say "$row"
  echo "    $ep $label: $requests requests, $(calc "$bytes / ($requests > 0 ? $requests : 1)" 0) bytes each, server RSS $(($(rss_kb "$SERVER") / 1024)) MB" >>"$REPORT"
  log_problems "$line0" | tee -a "$REPORT"
}
phase_wrk() {
  say ""
  say "== wrk: ${SECONDS_EACH} s per run; paced runs aim at $RATE requests/s =="
  local ep
  for ep in $ENDPOINTS; do say "  $ep: $(url_of "$ep" | sed "s|$BASE||")"; done
  say "| endpoint | run | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors / non-2xx | server CPU (of a core) | µs CPU / req | wrk CPU | machine busy |"
  say "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for ep in $ENDPOINTS; do
    wrk_run "$ep" "max -t2 -c16" 2 16 0
    wrk_run "$ep" "fixed -t1 -c$CONC" 1 "$CONC" 0
    wrk_run "$ep" "paced $RATE/s -t2 -c16" 2 16 "$RATE"
  done
  say "  server RSS after the wrk runs: $(($(rss_kb "$SERVER") / 1024)) MB"
}

# ---------------------------------------------------------------- phase: mix
# The snapshot paced at --rate while --mix-conc connections fetch ?limit=100 back to back (a few
# supervisors paging the records): does a slow search hold up the live view?
phase_mix() {
  say ""
  say "== mix: live paced at $RATE/s (-t2 -c16) while $MIX_CONC connection(s) fetch ?limit=100 back to back =="
  say "| endpoint | run | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors / non-2xx | server CPU (of a core) | µs CPU / req | wrk CPU | machine busy |"
  say "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  local bg=$WORK/wrk-mix-list.txt pid kv
  wrk -t1 -c"$MIX_CONC" -d"$((SECONDS_EACH + 1))s" --latency --timeout 5s -s "$HERE/wrk.lua" \
    -H "Authorization: Bearer $TOKEN" "$(url_of list)" >"$bg" 2>&1 &
  pid=$!; CHILDREN+=("$pid")
  sleep 0.5
  wrk_run live "paced $RATE/s + list x$MIX_CONC" 2 16 "$RATE"
  wait "$pid"
  kv=$(grep '^WRK ' "$bg" | cut -d' ' -f2-)
  # shellcheck disable=SC2034  # all set by the eval
  local requests=0 duration_us=1 p50_us=0 p99_us=0 max_us=0 status_errors=0 timeouts=0 connect_errors=0 \
    read_errors=0 write_errors=0 bytes=0 p90_us=0 p999_us=0 mean_us=0
  eval "$kv"
  say "  beside it, list x$MIX_CONC: $(calc "$requests / ($duration_us / 1000000)" 1) req/s, p50 $(calc "$p50_us / 1000" 1) ms, p99 $(calc "$p99_us / 1000" 1) ms, max $(calc "$max_us / 1000" 1) ms, errors $((connect_errors + read_errors + write_errors + timeouts)) / non-2xx $status_errors"
  FAILED=$((FAILED + connect_errors + read_errors + write_errors + timeouts + status_errors))
}

# ---------------------------------------------------------------- phase: WebSocket fan-out
phase_ws() {
  say ""
  say "== WebSocket fan-out: $WS_CLIENTS clients, $WS_CHANGES status changes every $WS_INTERVAL_MS ms =="
  local agents="" a line0 rc
  for ((a = AGENTS - 50; a < AGENTS; a++)); do agents+="${agents:+,}$((2000 + a))"; done
  line0=$(($(wc -l <"$LOG") + 1))
  node "$HERE/ws_fanout.js" --base "$BASE" --tenant acme --token "$TOKEN" --clients "$WS_CLIENTS" \
    --changes "$WS_CHANGES" --interval-ms "$WS_INTERVAL_MS" --agents "$agents" --server-pid "$SERVER" \
    --hz "$HZ" >"$WORK/ws.txt" 2>&1 &
  CHILDREN+=($!)
  wait $!; rc=$?
  sed 's/^/  /' "$WORK/ws.txt" | grep -v '^  WS ' | tee -a "$REPORT"
  ((rc == 0)) || { FAILED=$((FAILED + 1)); say "  ws_fanout.js exit status $rc"; }
  local slow
  slow=$(tail -n +"$line0" "$LOG" | grep -c 'websocket client too slow')
  ((slow == 0)) || say "  server: $slow 'websocket client too slow, closed'"
  log_problems "$line0" | grep -v 'websocket client too slow' | tee -a "$REPORT"
}

say "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg) (shared: CPU time, not wall time, is the figure)"
say "work dir: $WORK"
prepare
start_server
set_statuses
for ph in $PHASES; do
  case $ph in
    wrk) phase_wrk ;;
    ws) phase_ws ;;
    mix) phase_mix ;;
    *) die "unknown phase $ph" ;;
  esac
done
cpu_total=$(calc "$(proc_ticks "$SERVER") / $HZ" 2)
rss_end=$(($(rss_kb "$SERVER") / 1024))
stop_server
say ""
say "server: $cpu_total CPU s in all, RSS at the end $rss_end MB; $(grep -c ' info http ' "$LOG") requests logged; exit after SIGTERM: $(tail -1 "$LOG" | cut -c1-160)"
say "report: $REPORT"
[[ $FAILED -eq 0 ]]
