#!/usr/bin/env bash
# SIPp load harness for `tamas serve` (see docs/performance.md, "Telephony load (SIPp)").
#
#   bench/sipp/run.sh [options]
#
# Two phases, each against a fresh `tamas serve` (bench/sipp/bench.yaml) on 127.0.0.1 with free
# ports:
#   cps   SIPp places calls at a fixed rate into the IVR (ivr_cps.xml): menu prompt, digit 2 after
#         1 s (RFC 2833), "Support.", the server hangs up. Failures = SIPp's failed calls.
#   hold  SIPp ramps up to N calls (hold_media.xml) that stream A-law both ways and holds them;
#         the server's CPU is measured over a window in which all N calls are up, and its VmRSS
#         at 0 calls vs N calls.
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
start_server() {  # $1 = label
  local label=$1 sip_port rtp need
  # two ports a call; an IVR call lasts about 2 s, so CPS_RATE * 5 is room for a slow server
  need=$(( (HOLD_CALLS > CPS_RATE * 5 ? HOLD_CALLS : CPS_RATE * 5) * 2 + 1000 ))
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
  "${env[@]}" "$TAMAS" serve --config "$HERE/bench.yaml" --data-dir "$WORK/data" \
    --sip-listen "$SIP_ADDR" --rtp-ports "$rtp" --drain-timeout 2s 2>"$LOG" &
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
    *) die "unknown phase $ph" ;;
  esac
done
say ""
say "report: $REPORT"
[[ $FAILED_TOTAL -eq 0 ]]
