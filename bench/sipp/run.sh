#!/usr/bin/env bash
# SIPp load harness for `tamas serve` (see docs/performance.md, "Telephony load (SIPp)").
#
#   bench/sipp/run.sh [options]
#
# Four phases, each against a fresh `tamas serve` on 127.0.0.1 with free ports (cps and hold serve
# bench/sipp/bench.yaml; queue and queue-wait a queue.yaml written from bench/sipp/queue.yaml.in):
#   cps   SIPp places calls at a fixed rate into the IVR (ivr_cps.xml): menu prompt, digit 2 after
#         1 s (RFC 2833), "Support.", the server hangs up. Failures = SIPp's failed calls.
#   hold  SIPp ramps up to N calls (hold_media.xml) that stream A-law both ways and holds them;
#         the server's CPU is measured over a window in which all N calls are up, and its VmRSS
#         at 0 calls vs N calls.
#   queue SIPp agents register with digest auth and log in (*11), a SIPp UAS answers every call
#         offered to them (RTP echo); callers (queue_caller.xml) take the IVR, press 1, are
#         bridged to an agent and recorded (stereo), stream A-law and hang up. First one step per
#         --queue-rate (calls/s, --queue-talk s each: the rate connected, failures, the records
#         and recordings counted), then --queue-calls callers held at once (CPU, RSS, recordings
#         growing, SIPp's own CPU). At SIGTERM the server's "routing latency" line, if it logs one.
#   queue-wait  --wait-agents agents, --wait-calls callers: most wait in the queue with music and
#         announcements; how many wait at once, CPU and RSS.
# The server's CPU is read from /proc (utime+stime of the process and of each thread), never
# wall-clock, because the machine may be shared.
#
# Options (or the environment variables in brackets):
#   --phases "cps hold"   which phases to run, in order                   [PHASES]
#   --cps-rate N          calls per second (SIPp -r N -rp 1000)           [CPS_RATE=50]
#   --cps-seconds S       how long to place calls: N*S calls in all         [CPS_SECONDS=10]
#   --cps-limit L         SIPp -l: most calls open at once                  [CPS_LIMIT=3000]
#   --hold-calls N        concurrent calls to hold                          [HOLD_CALLS=200]
#   --hold-rate R         ramp-up rate, calls per second                    [HOLD_RATE=100]
#   --hold-seconds S      measuring window with all N calls up              [HOLD_SECONDS=20]
#   --workers W           media workers: empty = the engine's default (one per core); a number
#                         is forced through an LD_PRELOAD shim that makes get_nprocs() return W
#                         (the engine sizes itself from std::thread::hardware_concurrency();
#                         there is no CLI option)                           [MEDIA_WORKERS]
#   --queue-agents N      agents in the queue phase                         [QUEUE_AGENTS=100]
#   --queue-rate "R ..."  calls per second, one step per rate               [QUEUE_RATE=20]
#   --queue-seconds S     how long each step places calls                   [QUEUE_SECONDS=10]
#   --queue-talk T        seconds each caller stays (SIPp -d) in the steps  [QUEUE_TALK=5]
#   --queue-calls N       callers held at once afterwards; 0 = none         [QUEUE_CALLS=100]
#   --queue-hold-rate R   their ramp-up rate, calls per second              [QUEUE_HOLD_RATE=50]
#   --queue-hold-seconds S  measuring window with all of them up (also queue-wait)
#                                                                           [QUEUE_HOLD_SECONDS=20]
#   --ring-timeout D      the queue's ring_timeout                          [QUEUE_RING_TIMEOUT=5s]
#   --wrap-up D           the queue's wrap_up                               [QUEUE_WRAP_UP=0s]
#   --login-rate R        agents registered and logged in per second        [LOGIN_RATE=100]
#   --wait-agents N       agents in the queue-wait phase                    [WAIT_AGENTS=50]
#   --wait-calls N        callers in the queue-wait phase                   [WAIT_CALLS=500]
#   --wait-rate R         their ramp-up rate                                [WAIT_RATE=50]
#   --sipp-procs K        SIPp processes for the callers, and as many answering the agents, in
#                         the queue phases (SIPp handles SIP in one thread) [SIPP_PROCS=1]
#   --keep-recordings     keep the queue phases' recordings (else deleted after they are checked;
#                         1,000 calls for a minute are ~2 GB)               [KEEP_RECORDINGS]
#   --tamas PATH          the binary                                        [TAMAS=build/tamas]
#   --work DIR            where logs, SIPp stats and the data dir go        [WORK=mktemp]
# Everything this script starts is stopped on exit. Exit status: 0 when no call failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAMAS=${TAMAS:-$ROOT/build/tamas}
PHASES=${PHASES:-"cps hold"}
CPS_RATE=${CPS_RATE:-50}
CPS_SECONDS=${CPS_SECONDS:-10}
CPS_LIMIT=${CPS_LIMIT:-3000}
HOLD_CALLS=${HOLD_CALLS:-200}
HOLD_RATE=${HOLD_RATE:-100}
HOLD_SECONDS=${HOLD_SECONDS:-20}
MEDIA_WORKERS=${MEDIA_WORKERS:-}
QUEUE_AGENTS=${QUEUE_AGENTS:-100}
QUEUE_RATE=${QUEUE_RATE:-20}
QUEUE_SECONDS=${QUEUE_SECONDS:-10}
QUEUE_TALK=${QUEUE_TALK:-5}
QUEUE_CALLS=${QUEUE_CALLS:-100}
QUEUE_HOLD_RATE=${QUEUE_HOLD_RATE:-50}
QUEUE_HOLD_SECONDS=${QUEUE_HOLD_SECONDS:-20}
QUEUE_RING_TIMEOUT=${QUEUE_RING_TIMEOUT:-5s}
QUEUE_WRAP_UP=${QUEUE_WRAP_UP:-0s}
LOGIN_RATE=${LOGIN_RATE:-100}
WAIT_AGENTS=${WAIT_AGENTS:-50}
WAIT_CALLS=${WAIT_CALLS:-500}
WAIT_RATE=${WAIT_RATE:-50}
SIPP_PROCS=${SIPP_PROCS:-1}
KEEP_RECORDINGS=${KEEP_RECORDINGS:-}
WORK=${WORK:-}

while [[ $# -gt 0 ]]; do
  case $1 in
    --phases) PHASES=$2; shift 2 ;;
    --cps-rate) CPS_RATE=$2; shift 2 ;;
    --cps-seconds) CPS_SECONDS=$2; shift 2 ;;
    --cps-limit) CPS_LIMIT=$2; shift 2 ;;
    --hold-calls) HOLD_CALLS=$2; shift 2 ;;
    --hold-rate) HOLD_RATE=$2; shift 2 ;;
    --hold-seconds) HOLD_SECONDS=$2; shift 2 ;;
    --workers) MEDIA_WORKERS=$2; shift 2 ;;
    --queue-agents) QUEUE_AGENTS=$2; shift 2 ;;
    --queue-rate) QUEUE_RATE=$2; shift 2 ;;
    --queue-seconds) QUEUE_SECONDS=$2; shift 2 ;;
    --queue-talk) QUEUE_TALK=$2; shift 2 ;;
    --queue-calls) QUEUE_CALLS=$2; shift 2 ;;
    --queue-hold-rate) QUEUE_HOLD_RATE=$2; shift 2 ;;
    --queue-hold-seconds) QUEUE_HOLD_SECONDS=$2; shift 2 ;;
    --ring-timeout) QUEUE_RING_TIMEOUT=$2; shift 2 ;;
    --wrap-up) QUEUE_WRAP_UP=$2; shift 2 ;;
    --login-rate) LOGIN_RATE=$2; shift 2 ;;
    --wait-agents) WAIT_AGENTS=$2; shift 2 ;;
    --wait-calls) WAIT_CALLS=$2; shift 2 ;;
    --wait-rate) WAIT_RATE=$2; shift 2 ;;
    --sipp-procs) SIPP_PROCS=$2; shift 2 ;;
    --keep-recordings) KEEP_RECORDINGS=1; shift ;;
    --tamas) TAMAS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 2; }
[[ -x $TAMAS ]] || die "$TAMAS is not built (ninja -C build tamas)"
command -v sipp >/dev/null || die "sipp is not installed (apt-get install sip-tester)"
for f in /usr/share/sip-tester/dtmf_2833_2.pcap /usr/share/sip-tester/g711a.pcap; do
  [[ -r $f ]] || die "$f is missing (it ships with sip-tester)"
done
if [[ " $PHASES " == *" queue"* ]]; then
  command -v python3 >/dev/null || die "the queue phases need python3 (check_records.py)"
  ((QUEUE_AGENTS >= 1 && QUEUE_AGENTS <= 8000 && WAIT_AGENTS >= 1 && SIPP_PROCS >= 1)) ||
    die "--queue-agents 1..8000, --wait-agents >= 1, --sipp-procs >= 1"
fi
[[ -z $WORK ]] && WORK=$(mktemp -d /tmp/tamas-sipp.XXXXXX)
mkdir -p "$WORK" || die "cannot create $WORK"
cd "$WORK" || die "cannot enter $WORK"

# 1,000 calls are 2,000+ sockets in each program.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

HZ=$(getconf CLK_TCK)
SERVER=""
SIPP_PIDS=()
cleanup() {
  local p
  for p in "${SIPP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- ports
bound_udp() { ss -Hlunp 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un; }
free_udp_port() {  # first port >= $1 (step $2) with it and the next 3 unbound
  local p=$1 step=${2:-1} bound
  bound=$(bound_udp)
  while :; do
    if ! grep -qxE "$p|$((p + 1))|$((p + 2))|$((p + 3))" <<<"$bound"; then echo "$p"; return; fi
    p=$((p + step))
  done
}
free_tcp_port() {  # a TCP port nothing listens on, from 18080 up (the server's HTTP API)
  local p=18080 bound
  bound=$(ss -Hltn 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un)
  while grep -qx "$p" <<<"$bound"; do p=$((p + 1)); done
  echo "$p"
}
free_udp_range() {  # a range of $1 ports below the ephemeral range with nothing bound in it
  local size=$1 base bound
  bound=$(bound_udp)
  for ((base = 21000; base + size <= 32700; base += 500)); do
    if ! awk -v a=$base -v b=$((base + size - 1)) '$1 >= a && $1 <= b {f=1} END {exit !f}' \
      <<<"$bound"; then
      echo "$base-$((base + size - 1))"; return
    fi
  done
  die "no free UDP range of $size ports in 21000-32700"
}

# ---------------------------------------------------------------- the server
LOG=""
start_server() {  # $1 = label, $2 = configuration (bench.yaml), $3 = RTP ports needed
  local label=$1 config=${2:-$HERE/bench.yaml} need=${3:-} sip_port rtp
  # two ports a call; an IVR call lasts about 2 s, so CPS_RATE * 5 is room for a slow server
  [[ -n $need ]] || need=$(( (HOLD_CALLS > CPS_RATE * 5 ? HOLD_CALLS : CPS_RATE * 5) * 2 + 1000 ))
  ((need > 11000)) && need=11000
  sip_port=$(free_udp_port 15060 10)
  rtp=$(free_udp_range "$need") || exit 2
  LOG=$WORK/server-$label.log
  SIP_ADDR=127.0.0.1:$sip_port
  local env=()
  if [[ -n $MEDIA_WORKERS ]]; then
    [[ -f $WORK/nprocs.so ]] || {
      printf 'int get_nprocs(void) { return %d; }\n' "$MEDIA_WORKERS" >"$WORK/nprocs.c"
      cc -shared -fPIC -O2 -o "$WORK/nprocs.so" "$WORK/nprocs.c" || die "cannot build the shim"
    }
    env=(env LD_PRELOAD="$WORK/nprocs.so")
  fi
  "${env[@]}" "$TAMAS" serve --config "$config" --data-dir "$WORK/data" \
    --sip-listen "$SIP_ADDR" --rtp-ports "$rtp" --http-listen "127.0.0.1:$(free_tcp_port)" \
    --drain-timeout 2s 2>"$LOG" &
  SERVER=$!
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q ' serving ' "$LOG" 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; die "tamas serve exited"; }
    sleep 0.1
  done
  grep -q ' serving ' "$LOG" || die "tamas serve did not start in 60 s ($LOG)"
  echo "server: pid $SERVER, SIP $SIP_ADDR, RTP $rtp, log $LOG"
  label_threads
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

# Thread names are all "tamas": ask gdb once (2 s, at 0 calls) which function each thread runs.
declare -A TLABEL
label_threads() {
  TLABEL=()
  command -v gdb >/dev/null || return 0
  local out
  out=$(timeout 60 gdb -batch -p "$SERVER" -ex "thread apply all bt 15" 2>/dev/null) || return 0
  while read -r tid label; do TLABEL[$tid]=$label; done < <(awk '
    function flush() {
      if (!tid) return
      lab = "other"
      if (blk ~ /media::Worker::run/) lab = "media-worker"
      else if (blk ~ /SofiaStack::run/) lab = "sip"
      else if (blk ~ /ServerImpl::run /) lab = "core"
      else if (blk ~ /resolve_loop/) lab = "prompt-resolver"
      else if (blk ~ /RecordWriter::run/) lab = "recorder"
      else if (blk ~ /write_loop/) lab = "store"
      else if (blk ~ /run_serve/) lab = "main"
      else if (blk ~ /libsofia/) lab = "sip-nua"
      print tid, lab
    }
    /^Thread [0-9]+ \(Thread/ { flush(); match($0, /LWP [0-9]+/);
                                tid = substr($0, RSTART + 4, RLENGTH - 4); blk = ""; next }
    { blk = blk "\n" $0 }
    END { flush() }' <<<"$out")
  local n=0 t
  for t in "${!TLABEL[@]}"; do [[ ${TLABEL[$t]} == media-worker ]] && n=$((n + 1)); done
  for t in "${!TLABEL[@]}"; do echo "$t ${TLABEL[$t]}"; done >"$WORK/thread-labels"
  echo "server threads: ${#TLABEL[@]}, media workers: $n"
  MEDIA_WORKER_COUNT=$n
}

# ---------------------------------------------------------------- measurements
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
thread_ticks() {  # "tid ticks" per thread of $1
  local t
  for t in /proc/"$1"/task/*; do
    [[ -r $t/stat ]] && echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"
  done
}
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
udp_counters() { awk '/^Udp:/ && !h {h=1; next} /^Udp:/ {print $2, $5, $6}' /proc/net/snmp; }
# Receive-queue drops of the UDP sockets bound to ports in [a, b] (the server's RTP range).
socket_drops() {
  awk -v a="$1" -v b="$2" 'function hex(s,   i, v) {v = 0; for (i = 1; i <= length(s); i++)
      v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return v}
    NR > 1 {split($2, l, ":"); p = hex(l[2]); if (p >= a && p <= b) d += $NF}
    END {print d + 0}' /proc/net/udp
}
now() { date +%s.%N; }
calc() { awk "BEGIN {printf \"%.${2:-3}f\", ($1)}"; }
active_calls() {  # calls the server has started minus those it has ended
  awk '/ info call call=/ {s++} / info call ended / {e++} END {print s - e}' "$LOG"
}
snapshot() {  # $1 = name: cpu ticks, time, per-thread ticks, machine ticks, UDP counters
  local n=$1
  eval "${n}_t=$(now) ${n}_cpu=$(proc_ticks "$SERVER")"
  thread_ticks "$SERVER" >"$WORK/threads-$n"
  read -r "${n}_mbusy" "${n}_mall" < <(machine_ticks)
  read -r "${n}_udpin" "${n}_udpout" "${n}_udpdrop" < <(udp_counters)
}
threads_report() {  # per-label CPU between two snapshots, % of a core over $3 seconds
  local a=$1 b=$2 secs=$3
  join <(sort "$WORK/threads-$a") <(sort "$WORK/threads-$b") | while read -r tid x y; do
    echo "$tid ${TLABEL[$tid]:-new-thread} $((y - x))"
  done | awk -v hz="$HZ" -v s="$secs" '
    {c[$2] += $3; n[$2]++; if ($2 == "media-worker") w[++k] = $3}
    END {for (l in c) if (c[l] > 0 || l == "media-worker")
           printf "    %-16s x%d  %7.2f CPU s  %5.1f%% of a core\n", l, n[l], c[l] / hz, 100 * c[l] / hz / s;
         if (k) {printf "    media workers, each:"; for (i = 1; i <= k; i++)
           printf " %.1f%%", 100 * w[i] / hz / s; printf " of a core\n"}}' | sort -k3 -rn
}
# A SIPp statistics CSV (-trace_stat): value of column $2 in the last row.
stat_col() {
  awk -F';' -v c="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == c) k = i; next}
                       k {v = $k} END {print v}' "$1"
}
# hh:mm:ss:micro -> milliseconds
hms_ms() { awk -F: '{printf "%.1f", (($1 * 60 + $2) * 60 + $3) * 1000 + $4 / 1000}' <<<"$1"; }

# Calls in lines $2.. of the server log $1: per call, start to end; prints
# "started ended call_seconds first_start last_start" and the results tally to $3.
log_calls() {
  tail -n +"$2" "$1" | awk -v tally="$3" '
    function ts(s,   a) { split(substr(s, 12, 12), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    / info call call=/ { match($0, /call=[0-9]+/); id = substr($0, RSTART + 5, RLENGTH - 5);
                         t = ts($1); st[id] = t; n++; if (!f || t < f) f = t; if (t > l) l = t }
    / info call ended / { match($0, /call=[0-9]+/); id = substr($0, RSTART + 5, RLENGTH - 5);
                          if (id in st) { d = ts($1) - st[id]; if (d < 0) d += 86400; sum += d; e++ }
                          r = $0; sub(/.* result=/, "", r); sub(/ ended_by=.*/, "", r); res[r]++ }
    / call refused / { ref++ }
    / warn | error / { w[$3 " " $4 " " $5]++ }
    END { print n + 0, e + 0, sum + 0, f + 0, l + 0;
          for (r in res) printf "    %6d  ended: %s\n", res[r], r > tally;
          if (ref) printf "    %6d  refused\n", ref > tally;
          for (x in w) printf "    %6d  log: %s\n", w[x], x > tally }'
}

FAILED_TOTAL=0
REPORT=$WORK/report.txt
: >"$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }

machine_note() {
  say "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg) (shared with other work: CPU time, not wall time, is the figure)"
}

# ---------------------------------------------------------------- phase: calls per second
phase_cps() {
  start_server cps
  local calls=$((CPS_RATE * CPS_SECONDS)) sipp_port media_port line0 rc
  sipp_port=$(free_udp_port 16060 10)
  media_port=$(free_udp_port 36000 10)
  line0=$(($(wc -l <"$LOG") + 1))
  local rss0 peak_active=0 a
  rss0=$(rss_kb "$SERVER")
  echo "cps: $calls calls at $CPS_RATE/s (SIPp -r $CPS_RATE -rp 1000 -m $calls -l $CPS_LIMIT)"
  snapshot c0
  sipp "$SIP_ADDR" -sf "$HERE/ivr_cps.xml" -s 100 -i 127.0.0.1 -p "$sipp_port" -mp "$media_port" \
    -r "$CPS_RATE" -rp 1000 -m "$calls" -l "$CPS_LIMIT" -nostdin \
    -trace_stat -stf "$WORK/cps-stat.csv" -fd 1 -trace_err -error_file "$WORK/cps-errors.log" \
    -timeout "$((CPS_SECONDS * 3 + 60))s" -timeout_error >"$WORK/cps-screen.log" 2>&1 &
  local sp=$!
  SIPP_PIDS+=("$sp")
  local sipp_cpu=0 t0 t1
  # once a second: calls up, and each server thread's CPU in that second (for the busiest second)
  thread_ticks "$SERVER" >"$WORK/tick-prev"; t0=$(now); : >"$WORK/cps-seconds"
  while kill -0 "$sp" 2>/dev/null; do
    sleep 1
    a=$(active_calls); ((a > peak_active)) && peak_active=$a
    a=$(proc_ticks "$sp"); ((a > sipp_cpu)) && sipp_cpu=$a
    thread_ticks "$SERVER" >"$WORK/tick-cur"; t1=$(now)
    join <(sort "$WORK/tick-prev") <(sort "$WORK/tick-cur") | while read -r tid x y; do
      echo "${TLABEL[$tid]:-new-thread} $((y - x)) $(calc "$t1 - $t0")"
    done >>"$WORK/cps-seconds"
    mv "$WORK/tick-cur" "$WORK/tick-prev"; t0=$t1
  done
  wait "$sp"; rc=$?
  local i
  for ((i = 0; i < 40; i++)); do [[ $(active_calls) -le 0 ]] && break; sleep 0.25; done
  snapshot c1
  local secs cpu
  secs=$(calc "$c1_t - $c0_t")
  cpu=$(calc "($c1_cpu - $c0_cpu) / $HZ" 2)
  local csv=$WORK/cps-stat.csv created ok failed rtd elapsed
  created=$(stat_col "$csv" "TotalCallCreated")
  ok=$(stat_col "$csv" "SuccessfulCall(C)")
  failed=$(stat_col "$csv" "FailedCall(C)")
  rtd=$(hms_ms "$(stat_col "$csv" "ResponseTime1(C)")")
  local sipp_len
  sipp_len=$(hms_ms "$(stat_col "$csv" "CallLength(C)")")
  local started ended callsec first last
  read -r started ended callsec first last < <(log_calls "$LOG" "$line0" "$WORK/cps-tally")
  local span cps
  span=$(calc "$last - $first")
  cps=$(calc "($started > 1 && $span > 0) ? ($started - 1) / $span : 0" 1)
  FAILED_TOTAL=$((FAILED_TOTAL + ${failed:-0}))
  say ""
  say "== calls per second: IVR, prompt + digit 2 + \"Support.\" + server BYE =="
  say "  target             $CPS_RATE calls/s for $CPS_SECONDS s ($calls calls, -l $CPS_LIMIT)"
  say "  SIPp               created ${created:-?}, successful ${ok:-?}, failed ${failed:-?}, exit status $rc"
  if [[ ${failed:-0} != 0 ]]; then
    awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) h[i] = $i; next} {for (i in h) v[i] = $i}
      END {for (i in h) if (h[i] ~ /^Failed.*\(C\)$/ && v[i] + 0 > 0) printf "    %s = %s\n", h[i], v[i]}' \
      "$csv" | tee -a "$REPORT"
    say "    SIPp errors: $(wc -l <"$WORK/cps-errors.log" 2>/dev/null || echo 0) lines in $WORK/cps-errors.log"
  fi
  say "  server             $started calls started, $ended ended"
  tee -a "$REPORT" <"$WORK/cps-tally"
  say "  achieved rate      $cps calls/s (server's first to last call start: $span s)"
  say "  peak concurrent    $peak_active calls"
  say "  INVITE -> 200 OK   $rtd ms mean (SIPp's response time, 1 ms resolution)"
  say "  call length        $(calc "$ended > 0 ? $callsec / $ended : 0" 2) s mean (server: INVITE to hang-up), SIPp: $sipp_len ms"
  say "  server CPU         $cpu s over $secs s wall = $(calc "100 * $cpu / $secs" 1)% of a core"
  say "  per call           $(calc "$ended > 0 ? 1000 * $cpu / $ended : 0" 2) ms CPU"
  say "  per call-minute    $(calc "$callsec > 0 ? $cpu / ($callsec / 60) : 0" 4) CPU s ($(calc "$callsec / 60" 1) call-minutes)"
  say "  server RSS         $((rss0 / 1024)) MB before, peak $(( $(hwm_kb "$SERVER") / 1024 )) MB"
  say "  SIPp CPU           $(calc "$sipp_cpu / $HZ" 2) s; machine busy $(calc "100 * ($c1_mbusy - $c0_mbusy) / ($c1_mall - $c0_mall)" 0)% of all cores"
  say "  server threads (whole run; busiest second):"
  threads_report c0 c1 "$secs" | tee -a "$REPORT"
  awk -v hz="$HZ" '{if ($2 / hz / $3 > m[$1]) m[$1] = $2 / hz / $3}
    END {printf "    busiest second, per thread:"; for (l in m) if (m[l] >= 0.05) printf " %s %.0f%%", l, 100 * m[l];
         printf " of a core\n"}' "$WORK/cps-seconds" | tee -a "$REPORT"
  if [[ -s $WORK/cps-errors.log ]]; then
    say "  SIPp's error log: $(grep -c 'Overload warning' "$WORK/cps-errors.log") watchdog trips (SIPp itself late by 500 ms+), $(grep -c 'Dead call' "$WORK/cps-errors.log") messages for calls it had already ended, $(grep -c 'Aborting call' "$WORK/cps-errors.log") aborted calls"
  fi
  stop_server
}

# ---------------------------------------------------------------- phase: concurrent calls with media
phase_hold() {
  start_server hold
  # SIPp's rtp_stream does not expand keywords: the file is named in the scenario, relative to here.
  extract_alaw /usr/share/sip-tester/g711a.pcap >"$WORK/hold.alaw"
  local n=$HOLD_CALLS sipp_port media_port line0 ramp dur rc
  sipp_port=$(free_udp_port 17060 10)
  media_port=$(free_udp_port 37000 10)
  line0=$(($(wc -l <"$LOG") + 1))
  ramp=$(((n + HOLD_RATE - 1) / HOLD_RATE))
  # every call stays up until the last one has been up for the whole window, with room for a slow ramp
  dur=$((ramp * 2 + 8 + HOLD_SECONDS))
  local rss0 rtp_lo rtp_hi
  rss0=$(rss_kb "$SERVER")
  IFS=- read -r rtp_lo rtp_hi < <(grep -o 'rtp=[0-9]*-[0-9]*' "$LOG" | head -1 | cut -d= -f2)
  echo "hold: ramping to $n calls at $HOLD_RATE/s, each up for $dur s"
  sipp "$SIP_ADDR" -sf "$HERE/hold_media.xml" -s 200 -i 127.0.0.1 -p "$sipp_port" -mp "$media_port" \
    -r "$HOLD_RATE" -rp 1000 -m "$n" -l "$n" -d "$((dur * 1000))" -nostdin \
    -trace_stat -stf "$WORK/hold-stat.csv" -fd 1 -trace_err -error_file "$WORK/hold-errors.log" \
    -timeout "$((dur + ramp * 3 + 60))s" -timeout_error >"$WORK/hold-screen.log" 2>&1 &
  local sp=$!
  SIPP_PIDS+=("$sp")
  local i a=0 reached=""
  for ((i = 0; i < (ramp * 2 + 6) * 4; i++)); do
    a=$(active_calls)
    ((a >= n)) && { reached=1; break; }
    kill -0 "$sp" 2>/dev/null || break
    sleep 0.25
  done
  [[ -n $reached ]] || echo "hold: only $a of $n calls came up" >&2
  sleep 2  # let the last calls' prompts start
  local amin=$a amax=$a sp_cpu0 sp_cpu1 drops0 drops1
  snapshot h0
  sp_cpu0=$(proc_ticks "$sp")
  drops0=$(socket_drops "$rtp_lo" "$rtp_hi")
  local sdrops0 sdrops1
  sdrops0=$(socket_drops "$media_port" "$((media_port + 3))")
  local rssn=0 r
  for ((i = 0; i < HOLD_SECONDS; i++)); do
    sleep 1
    a=$(active_calls); ((a < amin)) && amin=$a; ((a > amax)) && amax=$a
    r=$(rss_kb "$SERVER"); ((r > rssn)) && rssn=$r
  done
  snapshot h1
  sp_cpu1=$(proc_ticks "$sp")
  drops1=$(socket_drops "$rtp_lo" "$rtp_hi")
  sdrops1=$(socket_drops "$media_port" "$((media_port + 3))")
  echo "hold: window done; waiting for SIPp to hang up"
  wait "$sp"; rc=$?
  for ((i = 0; i < 40; i++)); do [[ $(active_calls) -le 0 ]] && break; sleep 0.25; done
  sleep 1
  local rss_after
  rss_after=$(rss_kb "$SERVER")
  local secs cpu csv created ok failed started ended callsec first last
  secs=$(calc "$h1_t - $h0_t")
  cpu=$(calc "($h1_cpu - $h0_cpu) / $HZ" 2)
  csv=$WORK/hold-stat.csv
  created=$(stat_col "$csv" "TotalCallCreated")
  ok=$(stat_col "$csv" "SuccessfulCall(C)")
  failed=$(stat_col "$csv" "FailedCall(C)")
  read -r started ended callsec first last < <(log_calls "$LOG" "$line0" "$WORK/hold-tally")
  FAILED_TOTAL=$((FAILED_TOTAL + ${failed:-0}))
  local callmin
  callmin=$(calc "$amin * $secs / 60" 2)
  say ""
  say "== concurrent calls with media both ways (PCMA, 20 ms, 50 packets/s each way per call) =="
  say "  target             $n calls (ramp $HOLD_RATE/s), window $HOLD_SECONDS s with all up"
  say "  SIPp               created ${created:-?}, successful ${ok:-?}, failed ${failed:-?}, exit status $rc"
  if [[ ${failed:-0} != 0 ]]; then
    awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) h[i] = $i; next} {for (i in h) v[i] = $i}
      END {for (i in h) if (h[i] ~ /^Failed.*\(C\)$/ && v[i] + 0 > 0) printf "    %s = %s\n", h[i], v[i]}' \
      "$csv" | tee -a "$REPORT"
  fi
  say "  server             $started calls started, $ended ended"
  tee -a "$REPORT" <"$WORK/hold-tally"
  say "  calls up in window $amin..$amax"
  say "  server CPU         $cpu s over $secs s = $(calc "100 * $cpu / $secs" 1)% of a core"
  say "  per call-minute    $(calc "$callmin > 0 ? $cpu / $callmin : 0" 4) CPU s ($callmin call-minutes)"
  say "  per call           $(calc "$amin > 0 ? 100 * $cpu / $secs / $amin : 0" 4)% of a core"
  say "  server RSS         $((rss0 / 1024)) MB at 0 calls, $((rssn / 1024)) MB at $amin calls, $((rss_after / 1024)) MB after"
  say "  RSS per call       $(calc "$amin > 0 ? ($rssn - $rss0) / $amin : 0" 1) KB"
  say "  UDP on the machine $(calc "($h1_udpout - $h0_udpout) / $secs" 0) datagrams/s sent (both sides; these calls alone: ~$((amin * 100))), $(calc "($h1_udpin - $h0_udpin) / $secs" 0)/s delivered"
  say "  receive drops      $(calc "($drops1 - $drops0) / $secs" 0)/s on the server's RTP sockets, $(calc "($sdrops1 - $sdrops0) / $secs" 0)/s on SIPp's media socket (SIPp does not read what the server sends), $(calc "($h1_udpdrop - $h0_udpdrop) / $secs" 0)/s on the machine"
  say "  SIPp CPU           $(calc "($sp_cpu1 - $sp_cpu0) / $HZ" 2) s in the window; machine busy $(calc "100 * ($h1_mbusy - $h0_mbusy) / ($h1_mall - $h0_mall)" 0)% of all cores"
  say "  server threads (window):"
  threads_report h0 h1 "$secs" | tee -a "$REPORT"
  stop_server
}

# ---------------------------------------------------------------- phases: IVR -> queue -> agent
# One server with queue.yaml (queue.yaml.in and N agents). SIPp plays every part:
#   answer  K UASs (agent_answer.xml, -rtp_echo): every agent's Contact points at one of them, so
#           each call the queue offers rings there and is answered at once; what the server sends
#           the agent is echoed back as the agent's voice.
#   login   one UAC (agent_login.xml, -inf agents.csv; the tenant challenges with MD5 only, which
#           is all SIPp 3.6.1 reads): REGISTER with digest
#           authentication, then *11 (407, then 200), for every agent.
#   callers K UACs (queue_caller.xml): the IVR, digit 1, A-law streamed until they hang up.
# K = --sipp-procs: SIPp handles SIP in one thread (rtp_stream and -rtp_echo have threads of their
# own), so the callers and the answering side can be split over K processes each when one of them
# would be the bottleneck. At 1,000 calls on 2 cores none was: the busiest SIPp thread was the
# answering side's echo, at ~25% of a core.
SIPP_NEXT_PORT=18000
declare -A SIPP_ROLE
next_sipp_ports() {  # sets SP and SMP: free signalling and media ports for one more program
  SP=$(free_udp_port "$SIPP_NEXT_PORT" 10)
  SMP=$(free_udp_port $((SP + 20000)) 10)
  SIPP_NEXT_PORT=$((SP + 10))  # not picked again even before the program has bound it
}
iso_now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

write_queue_config() {  # $1 = file, $2 = agents
  local i
  {
    sed -e "s/@RING_TIMEOUT@/$QUEUE_RING_TIMEOUT/" -e "s/@WRAP_UP@/$QUEUE_WRAP_UP/" "$HERE/queue.yaml.in"
    for ((i = 0; i < $2; i++)); do
      echo "      - {extension: \"$((2000 + i))\", password: secret$((2000 + i)), queues: [agents]}"
    done
  } >"$1"
}

ANSWER_PIDS=()
ANSWER_PORTS=()
ANSWER_LABEL=""
start_answerers() {  # $1 = label: SIPP_PROCS SIPp UASs answering the agents' calls
  local i p mp
  ANSWER_PIDS=(); ANSWER_PORTS=(); ANSWER_LABEL=$1
  for ((i = 1; i <= SIPP_PROCS; i++)); do
    next_sipp_ports; p=$SP mp=$SMP
    sipp -sf "$HERE/agent_answer.xml" -i 127.0.0.1 -p "$p" -mp "$mp" -rtp_echo -l 100000 -nostdin \
      -trace_stat -stf "$WORK/$1-answer$i-stat.csv" -fd 1 -trace_err -error_file "$WORK/$1-answer$i-errors.log" \
      >"$WORK/$1-answer$i-screen.log" 2>&1 &
    SIPP_PIDS+=($!); ANSWER_PIDS+=($!); ANSWER_PORTS+=("$p"); SIPP_ROLE[$!]=answer$i
  done
  sleep 0.5
  for p in "${ANSWER_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || die "the answering SIPp exited: $(tail -3 "$WORK/$1-answer1-screen.log")"
  done
  echo "answering SIPp: ${#ANSWER_PIDS[@]} process(es) on ports ${ANSWER_PORTS[*]}"
}

# Registers and logs in agents 2000..2000+$2-1; fails the phase unless every one is available.
login_agents() {  # $1 = label, $2 = agents
  local n=$2 csv=$WORK/$1-agents.csv i p mp line0 rc ok t0
  {
    echo SEQUENTIAL
    for ((i = 0; i < n; i++)); do
      echo "$((2000 + i));[authentication username=$((2000 + i)) password=secret$((2000 + i))];127.0.0.1:${ANSWER_PORTS[i % ${#ANSWER_PORTS[@]}]}"
    done
  } >"$csv"
  next_sipp_ports; p=$SP mp=$SMP
  line0=$(($(wc -l <"$LOG") + 1))
  t0=$(now)
  echo "login: $n agents at $LOGIN_RATE/s (REGISTER + *11; the tenant challenges with MD5 only)"
  sipp "$SIP_ADDR" -sf "$HERE/agent_login.xml" -s '*11' -inf "$csv" -i 127.0.0.1 \
    -p "$p" -mp "$mp" -r "$LOGIN_RATE" -rp 1000 -m "$n" -l "$n" -nostdin \
    -trace_stat -stf "$WORK/$1-login-stat.csv" -fd 1 -trace_err -error_file "$WORK/$1-login-errors.log" \
    -timeout "$((n / LOGIN_RATE + 60))s" -timeout_error >"$WORK/$1-login-screen.log" 2>&1
  rc=$?
  ok=$(tail -n +"$line0" "$LOG" | grep -c ' info agent status .*code=\*11 status=available')
  say "  agents logged in   $ok of $n in $(calc "$(now) - $t0" 1) s (REGISTER 401 -> 200, *11 407 -> 200; SIPp: successful $(stat_col "$WORK/$1-login-stat.csv" "SuccessfulCall(C)"), failed $(stat_col "$WORK/$1-login-stat.csv" "FailedCall(C)"), exit status $rc)"
  if ((ok != n)); then
    FAILED_TOTAL=$((FAILED_TOTAL + n - ok))
    say "    not every agent is available: see $WORK/$1-login-errors.log and $LOG"
  fi
}

CALLER_PIDS=()
CALLER_STATS=()
CALLER_MPORTS=()
# Datagrams dropped at the callers' media sockets: SIPp does not read what it is sent, so this
# counts what the server sent the callers (prompts, music, announcements, the agent's voice).
caller_drops() {
  local m s=0
  for m in "${CALLER_MPORTS[@]}"; do s=$((s + $(socket_drops "$m" "$((m + 3))"))); done
  echo "$s"
}
start_callers() {  # $1 = label, $2 = rate, $3 = calls, $4 = talk seconds (-d), $5 = -l per process
  local label=$1 i p mp r m
  CALLER_PIDS=(); CALLER_STATS=(); CALLER_MPORTS=()
  for ((i = 1; i <= SIPP_PROCS; i++)); do
    next_sipp_ports; p=$SP mp=$SMP
    r=$(calc "$2 / $SIPP_PROCS" 3)
    m=$(($3 / SIPP_PROCS + (i <= $3 % SIPP_PROCS ? 1 : 0)))
    sipp "$SIP_ADDR" -sf "$HERE/queue_caller.xml" -s 100 -i 127.0.0.1 -p "$p" -mp "$mp" \
      -r "$r" -rp 1000 -m "$m" -l "$5" -d "$(($4 * 1000))" -nostdin \
      -trace_stat -stf "$WORK/$label-caller$i-stat.csv" -fd 1 \
      -trace_err -error_file "$WORK/$label-caller$i-errors.log" \
      -timeout "$(($3 / $2 * 3 + $4 + 120))s" -timeout_error >"$WORK/$label-caller$i-screen.log" 2>&1 &
    SIPP_PIDS+=($!); CALLER_PIDS+=($!); CALLER_STATS+=("$WORK/$label-caller$i-stat.csv")
    CALLER_MPORTS+=("$mp")
    SIPP_ROLE[$!]=caller$i
  done
}
wait_callers() {  # exit status: the worst of the callers'
  local p rc=0 r
  for p in "${CALLER_PIDS[@]}"; do wait "$p"; r=$?; ((r > rc)) && rc=$r; done
  return "$rc"
}
sum_stat() {  # $1 = column, files after: the sum of the column's last value
  local c=$1 f s=0 v
  shift
  for f in "$@"; do v=$(stat_col "$f" "$c"); s=$((s + ${v:-0})); done
  echo "$s"
}
failed_detail() {  # the failure columns that are not 0, summed over the files
  awk -F';' 'FNR == 1 {delete h; for (i = 1; i <= NF; i++) h[i] = $i; next}
    {for (i in h) v[FILENAME, h[i]] = $i; last[FILENAME] = 1}
    END {for (k in v) {split(k, a, SUBSEP); if (a[2] ~ /^Failed.*\(C\)$/) s[a[2]] += v[k]}
         for (c in s) if (s[c] > 0) printf "    %s = %d\n", c, s[c]}' "$@"
}

# From line $1 of the server log: "bridged waiting" now (connected and not ended; queued and
# neither connected nor ended).
queue_state() {
  tail -n +"$1" "$LOG" | awk '
    function id() { match($0, /call=[0-9]+/); return substr($0, RSTART + 5, RLENGTH - 5) }
    / info queued call=/ { q[id()] = 1 }
    / info connected call=/ { i = id(); c[i] = 1; delete q[i] }
    / info call ended call=/ { i = id(); delete q[i]; delete c[i] }
    END { n = 0; m = 0; for (i in c) n++; for (i in q) m++; print n, m }'
}
# Calls to the IVR number (100) from line $1 of the server log not yet ended (the agents' *11 calls
# are not counted: they end without an "call ended" line).
queue_active() {
  tail -n +"$1" "$LOG" | awk '
    function id() { match($0, /call=[0-9]+/); return substr($0, RSTART + 5, RLENGTH - 5) }
    / info call call=.* to=100 / { a[id()] = 1 }
    / info call ended call=/ { delete a[id()] }
    END { n = 0; for (i in a) n++; print n }'
}
# Lines of the server log from $1 matching $2.
log_count() { tail -n +"$1" "$LOG" | grep -c -- "$2"; }
# Timestamps (s of the day) of the first and last log line from $1 matching $2: "first last count".
log_span() {
  tail -n +"$1" "$LOG" | awk -v pat="$2" '
    function ts(s,   a) { split(substr(s, 12, 12), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    $0 ~ pat { t = ts($1); if (!n || t < f) f = t; if (t > l) l = t; n++ }
    END { printf "%.3f %.3f %d\n", f, l, n }'
}

# SIPp processes' CPU between two snapshots: per process, and its busiest thread.
sipp_snapshot() {  # $1 = name
  local p
  rm -f "$WORK/sipp-$1-"*
  for p in "${!SIPP_ROLE[@]}"; do
    kill -0 "$p" 2>/dev/null && thread_ticks "$p" >"$WORK/sipp-$1-$p"
  done
}
sipp_report() {  # $1, $2 = snapshot names, $3 = seconds
  local p
  for p in "${!SIPP_ROLE[@]}"; do
    [[ -f $WORK/sipp-$1-$p && -f $WORK/sipp-$2-$p ]] || continue
    join <(sort "$WORK/sipp-$1-$p") <(sort "$WORK/sipp-$2-$p") | awk -v hz="$HZ" -v s="$3" \
      -v role="${SIPP_ROLE[$p]}" '{d = $3 - $2; t += d; if (d > m) m = d; n++}
      END {printf "    SIPp %-9s %5.1f%% of a core (busiest of its %d threads: %.1f%%)\n",
           role, 100 * t / hz / s, n, 100 * m / hz / s}'
  done | sort
}
# CPU ticks of the reaped children of $1 (the server's espeak-ng runs).
child_ticks() { awk '{print $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }
log_epoch() { date -u -d "$1" +%s.%N; }  # a log line's ISO time -> seconds since 1970
# CPU seconds of all SIPp processes between two snapshots.
sipp_cpu() {  # $1, $2 = snapshot names
  local p
  for p in "${!SIPP_ROLE[@]}"; do
    [[ -f $WORK/sipp-$1-$p && -f $WORK/sipp-$2-$p ]] || continue
    join <(sort "$WORK/sipp-$1-$p") <(sort "$WORK/sipp-$2-$p")
  done | awk -v hz="$HZ" '{t += $3 - $2} END {printf "%.2f", t / hz}'
}
# "machine busy" with how much of it the server and SIPp account for; $1 $2 = snapshot names,
# $3 = server CPU s, $4 = SIPp CPU s, $5 = seconds.
machine_line() {
  local a=$1 b=$2 busy all
  eval "busy=\$(( ${b}_mbusy - ${a}_mbusy )) all=\$(( ${b}_mall - ${a}_mall ))"
  say "  machine            $(calc "100 * $busy / $all" 0)% of all $(nproc) cores busy = $(calc "$(nproc) * 100 * $busy / $all" 0)% of a core: server $(calc "100 * $3 / $5" 0)%, SIPp $(calc "100 * $4 / $5" 0)%, the rest (kernel softirq, the server's espeak-ng children, other work on the machine) $(calc "$(nproc) * 100 * $busy / $all - 100 * ($3 + $4) / $5" 0)%; load average $(cut -d' ' -f1 /proc/loadavg)"
}
# Recording files and their sizes, to count those still growing.
recording_sizes() { find "$WORK/data/recordings" -name '*.wav' -printf '%f %s\n' 2>/dev/null | sort; }

check_recordings() {  # $1 = label, $2 = since (ISO): counts records and checks recordings
  local out
  out=$("$TAMAS" interactions --config "$QCONFIG" --data-dir "$WORK/data" --json 2>"$WORK/$1-interactions.err" |
        python3 "$HERE/check_records.py" --since "$2")
  echo "$out" >"$WORK/$1-records.txt"
  rec() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ /, ""); print; exit}' <<<"$out"; }
  say "  records            $(rec records) ($(grep '^result:' <<<"$out" | sed 's/^result://' | awk '{printf "%s%s %s", s, $1, $2; s = ", "}')); through the queue to an agent with a recording: $(rec via_queue)"
  say "  recordings         $(rec recordings_present) present, $(rec recordings_nonempty) non-empty, $(( $(rec recordings_bytes) / 1048576 )) MB; sample of $(rec sample_checked): $(rec sample_stereo) stereo 16-bit 8 kHz, $(rec sample_both_channels) with sound on both channels"
  say "    e.g. $(rec sample_example)"
  say "  audio vs talk      $(rec audio_vs_talk) (seconds recorded / talk seconds of the records; lowest $(rec audio_vs_talk_min), $(rec audio_short) under 0.95: below 1 the media worker was late and dropped 20-ms ticks)"
  say "  per record (mean)  wait $(rec wait_mean) s (max $(rec wait_max) s), ring $(rec ring_mean) s, talk $(rec talk_mean) s"
}

queue_latency_line() {
  local l
  l=$(grep ' routing latency ' "$LOG" | tail -1)
  if [[ -n $l ]]; then
    say "  routing latency    ${l#* routing latency }   (queue join with an idle agent -> the agent's INVITE leaving the SIP stack; whole server run)"
  else
    say "  routing latency    not reported (this tamas logs no 'routing latency' line at SIGTERM)"
  fi
}

stop_sipps() {  # stops the given SIPp processes (by pid) and waits for them
  local p
  for p in "$@"; do kill "$p" 2>/dev/null; done
  for p in "$@"; do wait "$p" 2>/dev/null; done
}

# One calls-per-second step of the queue phase: $1 = rate.
queue_cps_step() {
  local rate=$1 label=qcps$1 calls=$(($1 * QUEUE_SECONDS)) line0 since rc a b w pb=0 pw=0
  local lim=$((rate * (QUEUE_TALK + 15) / SIPP_PROCS + 10))
  since=$(iso_now)
  line0=$(($(wc -l <"$LOG") + 1))
  local ans0 ans_f0
  ans0=$(sum_stat "SuccessfulCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  ans_f0=$(sum_stat "FailedCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  echo "queue cps: $calls calls at $rate/s, $QUEUE_TALK s with the agent"
  snapshot q0
  start_callers "$label" "$rate" "$calls" "$QUEUE_TALK" "$lim"
  sipp_snapshot q0
  local busy=0
  while :; do
    busy=0
    for a in "${CALLER_PIDS[@]}"; do kill -0 "$a" 2>/dev/null && busy=1; done
    ((busy)) || break
    sleep 1
    read -r b w < <(queue_state "$line0")
    ((b > pb)) && pb=$b; ((w > pw)) && pw=$w
    sipp_snapshot q1  # the callers' last figures before they exit
  done
  wait_callers; rc=$?
  for ((a = 0; a < 40; a++)); do [[ $(queue_active "$line0") -le 0 ]] && break; sleep 0.25; done
  snapshot q1
  sleep 1  # the store writes the last records
  local secs cpu created ok failed rtd first last n cps
  secs=$(calc "$q1_t - $q0_t")
  cpu=$(calc "($q1_cpu - $q0_cpu) / $HZ" 2)
  created=$(sum_stat TotalCallCreated "${CALLER_STATS[@]}")
  ok=$(sum_stat "SuccessfulCall(C)" "${CALLER_STATS[@]}")
  failed=$(sum_stat "FailedCall(C)" "${CALLER_STATS[@]}")
  rtd=$(hms_ms "$(stat_col "${CALLER_STATS[0]}" "ResponseTime1(C)")")
  read -r first last n < <(log_span "$line0" " info connected call=")
  cps=$(calc "($n > 1 && $last > $first) ? ($n - 1) / ($last - $first) : 0" 1)
  local ans1 ans_f1
  ans1=$(sum_stat "SuccessfulCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  ans_f1=$(sum_stat "FailedCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  FAILED_TOTAL=$((FAILED_TOTAL + failed + ans_f1 - ans_f0))
  say ""
  say "== IVR -> queue -> agent, calls per second: $rate/s for $QUEUE_SECONDS s, $QUEUE_TALK s talk =="
  say "  callers (SIPp)     created $created, successful $ok, failed $failed, exit status $rc ($SIPP_PROCS process(es))"
  ((failed > 0)) && failed_detail "${CALLER_STATS[@]}" | tee -a "$REPORT"
  say "  agents (SIPp UAS)  answered and hung up $((ans1 - ans0)), failed $((ans_f1 - ans_f0))"
  say "  server             $(log_count "$line0" ' info queued call=') queued, $n connected to an agent, $(log_count "$line0" ' info call ended call=') ended; $(log_count "$line0" ' warn \| error ') warn/error lines"
  tail -n +"$line0" "$LOG" | grep ' warn \| error ' | awk '{$1 = ""; sub(/call=[0-9]+/, "call=N"); sub(/task [0-9]+/, "task N"); print}' |
    sort | uniq -c | sort -rn | head -5 | sed 's/^/    /' | tee -a "$REPORT"
  say "  achieved rate      $cps calls/s connected to agents (server's first to last 'connected': $(calc "$last - $first" 1) s)"
  say "  peak at once       $pb bridged to agents, $pw waiting in the queue"
  say "  INVITE -> 200 OK   $rtd ms mean (caller 1's SIPp)"
  say "  server CPU         $cpu s over $secs s = $(calc "100 * $cpu / $secs" 1)% of a core; $(calc "$n > 0 ? 1000 * $cpu / $n : 0" 2) ms per call; peak RSS $(( $(hwm_kb "$SERVER") / 1024 )) MB"
  machine_line q0 q1 "$cpu" "$(sipp_cpu q0 q1)" "$secs"
  sipp_report q0 q1 "$secs" | tee -a "$REPORT"
  check_recordings "$label" "$since"
}

# Ramp to $2 callers at $3/s, each staying $4 s; measure a $5-s window with them all up.
# $1 = label. Sets HOLD_SUMMARY for the caller.
queue_hold_step() {
  local label=$1 n=$2 rate=$3 window=$5 line0 since ramp dur rc i b=0 w=0
  local want=${6:-$n}   # bridged calls to wait for (queue-wait: the agents)
  since=$(iso_now)
  line0=$(($(wc -l <"$LOG") + 1))
  ramp=$(((n + rate - 1) / rate))
  dur=$4
  local t_start kids0
  t_start=$(now); kids0=$(child_ticks "$SERVER")
  local rss0 ans0 ans_f0
  rss0=$(rss_kb "$SERVER")
  ans0=$(sum_stat "SuccessfulCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  ans_f0=$(sum_stat "FailedCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  echo "$label: ramping to $n callers at $rate/s, each up for $dur s"
  start_callers "$label" "$rate" "$n" "$dur" "$((n / SIPP_PROCS + 10))"
  local reached=""
  for ((i = 0; i < (ramp * 2 + 20) * 2; i++)); do
    read -r b w < <(queue_state "$line0")
    ((b + w >= n && b >= want)) && { reached=1; break; }
    sleep 0.5
  done
  [[ -n $reached ]] || echo "$label: only $b bridged and $w waiting of $n callers" >&2
  sleep 2  # the last calls' media settle
  local bmin=$b bmax=$b wmin=$w wmax=$w rssn=0 r ann0
  ann0=$(log_count "$line0" ' info announced ')
  recording_sizes >"$WORK/$label-rec0"
  snapshot w0; sipp_snapshot w0
  local rtp_lo rtp_hi drops0 drops1
  IFS=- read -r rtp_lo rtp_hi < <(grep -o 'rtp=[0-9]*-[0-9]*' "$LOG" | head -1 | cut -d= -f2)
  drops0=$(socket_drops "$rtp_lo" "$rtp_hi")
  local cdrops0 cdrops1
  cdrops0=$(caller_drops)
  for ((i = 0; i < window; i++)); do
    sleep 1
    read -r b w < <(queue_state "$line0")
    ((b < bmin)) && bmin=$b; ((b > bmax)) && bmax=$b; ((w < wmin)) && wmin=$w; ((w > wmax)) && wmax=$w
    r=$(rss_kb "$SERVER"); ((r > rssn)) && rssn=$r
  done
  snapshot w1; sipp_snapshot w1
  drops1=$(socket_drops "$rtp_lo" "$rtp_hi")
  cdrops1=$(caller_drops)
  recording_sizes >"$WORK/$label-rec1"
  local growing recfiles ann1
  ann1=$(log_count "$line0" ' info announced ')
  recfiles=$(wc -l <"$WORK/$label-rec1")
  growing=$(join "$WORK/$label-rec0" "$WORK/$label-rec1" | awk '$3 > $2 {n++} END {print n + 0}')
  echo "$label: window done; waiting for the callers to hang up"
  wait_callers; rc=$?
  for ((i = 0; i < 60; i++)); do [[ $(queue_active "$line0") -le 0 ]] && break; sleep 0.5; done
  sleep 1
  local secs cpu created ok failed
  secs=$(calc "$w1_t - $w0_t")
  cpu=$(calc "($w1_cpu - $w0_cpu) / $HZ" 2)
  created=$(sum_stat TotalCallCreated "${CALLER_STATS[@]}")
  ok=$(sum_stat "SuccessfulCall(C)" "${CALLER_STATS[@]}")
  failed=$(sum_stat "FailedCall(C)" "${CALLER_STATS[@]}")
  sleep 1  # the answering SIPps' statistics (-fd 1)
  local ans1 ans_f1
  ans1=$(sum_stat "SuccessfulCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  ans_f1=$(sum_stat "FailedCall(C)" "$WORK/$ANSWER_LABEL"-answer*-stat.csv)
  FAILED_TOTAL=$((FAILED_TOTAL + failed + ans_f1 - ans_f0))
  say "  callers (SIPp)     created $created, successful $ok, failed $failed, exit status $rc ($SIPP_PROCS process(es))"
  ((failed > 0)) && failed_detail "${CALLER_STATS[@]}" | tee -a "$REPORT"
  say "  agents (SIPp UAS)  answered and hung up $((ans1 - ans0)), failed $((ans_f1 - ans_f0))"
  say "  in the window      $bmin..$bmax bridged to agents (and recorded: $growing recordings grew in the window; $recfiles files in all), $wmin..$wmax waiting in the queue"
  say "  announcements      $((ann1 - ann0)) in the window, $ann1 since the first caller (position and wait, synthesized per caller)"
  if ((ann1 > 0)); then
    local syn_n syn_first syn_last last_join
    read -r syn_n syn_first syn_last < <(find "$WORK/data/prompts" -name '*.wav' -newermt "@$t_start" \
      -printf '%T@\n' 2>/dev/null | sort -n | awk 'NR == 1 {f = $1} {l = $1; n++} END {printf "%d %.3f %.3f\n", n, f, l}')
    last_join=$(log_epoch "$(tail -n +"$line0" "$LOG" | grep ' info queued call=' | tail -1 | cut -d' ' -f1)")
    say "  synthesis          $syn_n new prompt files (espeak-ng, one process each) from +$(calc "$syn_first - $t_start" 1) s to +$(calc "$syn_last - $t_start" 1) s after the ramp began ($(calc "$syn_last > $syn_first ? ($syn_n - 1) / ($syn_last - $syn_first) : 0" 1)/s); the last $(calc "$syn_last - $last_join" 1) s after the last caller joined; espeak-ng CPU (reaped children) $(calc "($(child_ticks "$SERVER") - $kids0) / $HZ" 2) s"
  fi
  say "  server CPU         $cpu s over $secs s = $(calc "100 * $cpu / $secs" 1)% of a core"
  say "  server RSS         $((rss0 / 1024)) MB before, $((rssn / 1024)) MB in the window ($(calc "$bmin + $wmin > 0 ? ($rssn - $rss0) / ($bmin + $wmin) : 0" 1) KB per caller)"
  say "  UDP                $(calc "($w1_udpout - $w0_udpout) / $secs" 0) datagrams/s sent on the machine, $(calc "($w1_udpdrop - $w0_udpdrop) / $secs" 0)/s receive errors on the machine, $(calc "($drops1 - $drops0) / $secs" 0)/s on the server's RTP sockets"
  say "  to the callers     $(calc "($cdrops1 - $cdrops0) / $secs" 0) RTP packets/s from the server = $(calc "$bmin + $wmin > 0 ? ($cdrops1 - $cdrops0) / $secs / ($bmin + $wmin) : 0" 1) per caller (of 50: a waiting caller's music and announcements come from the server's 20-ms tick; a bridged caller's are the agent's packets relayed one by one, here SIPp's own stream echoed back, so they fall when SIPp sends late; counted as drops at the callers' media sockets, which SIPp does not read)"
  machine_line w0 w1 "$cpu" "$(sipp_cpu w0 w1)" "$secs"
  say "  server threads (window):"
  threads_report w0 w1 "$secs" | tee -a "$REPORT"
  say "  load generators (window):"
  sipp_report w0 w1 "$secs" | tee -a "$REPORT"
  local e
  for e in "$WORK/$label"-caller*-errors.log "$WORK/$ANSWER_LABEL"-answer*-errors.log; do
    [[ -s $e ]] || continue
    say "  $(basename "$e"): $(grep -c 'Overload warning' "$e") watchdog trips (SIPp late by 500 ms+), $(grep -c 'Aborting call' "$e") aborted calls, $(wc -l <"$e") lines"
  done
  HOLD_SINCE=$since
}

QCONFIG=""
phase_queue() {
  local agents=$QUEUE_AGENTS need r maxrate=0
  for r in $QUEUE_RATE; do ((r > maxrate)) && maxrate=$r; done
  QCONFIG=$WORK/queue.yaml
  write_queue_config "$QCONFIG" "$agents"
  need=$(( (QUEUE_CALLS > maxrate * (QUEUE_TALK + 4) ? QUEUE_CALLS : maxrate * (QUEUE_TALK + 4)) * 4 + agents * 2 + 1000 ))
  start_server queue "$QCONFIG" "$need"
  extract_alaw /usr/share/sip-tester/g711a.pcap >"$WORK/hold.alaw"
  start_answerers queue
  say ""
  say "== IVR -> queue -> agent: $agents agents (ring_timeout $QUEUE_RING_TIMEOUT, wrap_up $QUEUE_WRAP_UP, recording stereo) =="
  login_agents queue "$agents"
  for r in $QUEUE_RATE; do
    ((r * (QUEUE_TALK + 1) > agents)) &&
      echo "queue: $r/s x $QUEUE_TALK s needs more than $agents agents; callers will wait" >&2
    queue_cps_step "$r"
  done
  if ((QUEUE_CALLS > 0)); then
    local ramp=$(((QUEUE_CALLS + QUEUE_HOLD_RATE - 1) / QUEUE_HOLD_RATE))
    say ""
    say "== IVR -> queue -> agent, held: $QUEUE_CALLS callers (ramp $QUEUE_HOLD_RATE/s), window $QUEUE_HOLD_SECONDS s =="
    ((QUEUE_CALLS > agents)) && say "  (more callers than the $agents agents: the rest wait in the queue)"
    queue_hold_step qhold "$QUEUE_CALLS" "$QUEUE_HOLD_RATE" "$((ramp * 2 + 15 + QUEUE_HOLD_SECONDS))" \
      "$QUEUE_HOLD_SECONDS" "$((QUEUE_CALLS < agents ? QUEUE_CALLS : agents))"
  fi
  stop_sipps "${ANSWER_PIDS[@]}"
  stop_server
  queue_latency_line
  [[ $QUEUE_CALLS -gt 0 ]] && check_recordings qhold "$HOLD_SINCE"
  [[ -n $KEEP_RECORDINGS ]] || rm -rf "$WORK/data/recordings"
}

# Fewer agents than callers: most callers wait with music and announcements.
phase_queue_wait() {
  local agents=$WAIT_AGENTS n=$WAIT_CALLS ramp
  QCONFIG=$WORK/queue-wait.yaml
  write_queue_config "$QCONFIG" "$agents"
  start_server queue-wait "$QCONFIG" "$((n * 2 + agents * 4 + 1000))"
  extract_alaw /usr/share/sip-tester/g711a.pcap >"$WORK/hold.alaw"
  start_answerers queuew
  say ""
  say "== IVR -> queue with $agents agents and $n callers (ramp $WAIT_RATE/s), window $QUEUE_HOLD_SECONDS s: waiting with music and announcements =="
  login_agents queuew "$agents"
  ramp=$(((n + WAIT_RATE - 1) / WAIT_RATE))
  queue_hold_step qwait "$n" "$WAIT_RATE" "$((ramp * 2 + 15 + QUEUE_HOLD_SECONDS))" "$QUEUE_HOLD_SECONDS" "$agents"
  stop_sipps "${ANSWER_PIDS[@]}"
  stop_server
  queue_latency_line
  check_recordings qwait "$HOLD_SINCE"
  [[ -n $KEEP_RECORDINGS ]] || rm -rf "$WORK/data/recordings"
}

# RTP payloads of a pcap (Ethernet or Linux cooked, IPv4/UDP), concatenated: raw A-law for
# SIPp's rtp_stream, which re-packetizes it into 20 ms packets.
extract_alaw() {
  local off len
  od -An -v -tu1 -w1 "$1" | awk '
    {b[n++] = $1 + 0}
    END {
      le = (b[0] == 212); off = 24
      lt = le ? b[20] + 256 * b[21] : b[23] + 256 * b[22]
      while (off + 16 <= n) {
        il = le ? b[off+8] + 256*b[off+9] + 65536*b[off+10] : b[off+11] + 256*b[off+10] + 65536*b[off+9]
        p = off + 16; ip = p + (lt == 113 ? 16 : 14)
        ihl = (b[ip] % 16) * 4; rtp = ip + ihl + 8; cc = b[rtp] % 16; start = rtp + 12 + 4 * cc
        if (start < p + il) print start, p + il - start
        off = p + il
      }
    }' | while read -r off len; do tail -c +"$((off + 1))" "$1" | head -c "$len"; done
}

machine_note
echo "work dir: $WORK"
for ph in $PHASES; do
  case $ph in
    cps) phase_cps ;;
    hold) phase_hold ;;
    queue) phase_queue ;;
    queue-wait) phase_queue_wait ;;
    *) die "unknown phase $ph" ;;
  esac
done
say ""
say "report: $REPORT"
[[ $FAILED_TOTAL -eq 0 ]]
