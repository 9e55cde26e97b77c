#!/usr/bin/env bash
# Simulated agents and callers for the demo center, through real SIP (SIPp), so that the wallboard
# moves. scripts/demo.sh --demo-traffic starts it beside `tamas serve`; it can also be run by hand
# against a demo server that is already up.
#
#   scripts/demo-traffic.sh [--sip HOST:PORT] [--server-pid PID] [--config FILE] [--work DIR]
#
# Agents: each agent of the demo tenant (config/demo.yaml: 1001..1004, password secret<ext>) gets a
# phone, a SIPp UAS (scripts/demo-sipp/agent_phone.xml), registers it with digest authentication
# and logs in with *11 (agent_login.xml); the registration is renewed every half hour. A phone
# rings 2-6 s before it answers, the agent talks 8-25 s and hangs up; then the queue's wrap-up.
# Callers: one every DEMO_CALL_GAP seconds (random, default "5 10": between 5 and 10 s) dials 100
# (English, most), 200 (Persian) or 300 (Arabic) from a number of a pool of regular customers,
# presses 1 (sales, 40 %) or 2 (support) after 1.5 s (RFC 2833) and waits, streaming a voice. A
# DEMO_IMPATIENT percent of them (default 30) hang up 7-20 s after the key press if no agent has
# ended the call by then (abandoned, if still waiting); the others after 2.5-4 minutes at most.
#
# Every SIPp binds 127.0.0.1 on free ports in 41000-44999. It stops (and stops every SIPp it
# started) when the server's process (--server-pid) ends, or on SIGINT/SIGTERM. Logs and SIPp's
# error files go to --work (default: a new folder under /tmp, removed at the end unless
# DEMO_KEEP_WORK is set; a --work folder is kept).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SCEN=$HERE/demo-sipp
SIP=127.0.0.1:5060
SERVER_PID=""
CONFIG=$ROOT/config/demo.yaml
WORK=""
REALM=${DEMO_REALM:-demo}
read -r GAP_MIN GAP_MAX <<<"${DEMO_CALL_GAP:-5 10}"
IMPATIENT=${DEMO_IMPATIENT:-30}

while [[ $# -gt 0 ]]; do
  case $1 in
    --sip) SIP=$2; shift 2 ;;
    --server-pid) SERVER_PID=$2; shift 2 ;;
    --config) CONFIG=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo-traffic: unknown option $1" >&2; exit 2 ;;
  esac
done

CONFIG=$(realpath "$CONFIG")
say() { echo "demo-traffic: $*" >&2; }
die() { say "$*"; exit 1; }
command -v sipp >/dev/null || die "sipp is missing (apt-get install sip-tester; scripts/install-deps.sh)"
own_work=""
[[ -n $WORK ]] || { WORK=$(mktemp -d /tmp/tamas-demo-traffic.XXXXXX); own_work=1; }
mkdir -p "$WORK"
cd "$WORK" || exit 1

# Whatever this script started stops with it: the agents' phones and the callers.
stopping=""
finish() {
  [[ -n $stopping ]] && return
  stopping=1
  local pids
  pids=$(jobs -p)
  if [[ -n $pids ]]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    sleep 0.5
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
  fi
  wait 2>/dev/null
  if [[ -n $own_work && -z ${DEMO_KEEP_WORK:-} ]]; then rm -rf "$WORK"; else say "logs in $WORK"; fi
}
trap finish EXIT
trap 'exit 0' INT TERM HUP

server_alive() { [[ -z $SERVER_PID ]] || kill -0 "$SERVER_PID" 2>/dev/null; }

# ---------------------------------------------------------------- ports
# A SIPp takes its SIP port P and media ports P+2..P+5 (audio RTP and RTCP, video's two).
PORT_NEXT=41000
bound_udp() { ss -Huan 2>/dev/null | awk '{n = split($4, a, ":"); print a[n]}' | sort -un; }
alloc_port() {  # sets PORT to a free P (and P+2..P+5), stepping by 10 through 41000-44990
  local tries p bound
  bound=$(bound_udp)
  for ((tries = 0; tries < 400; tries++)); do
    p=$PORT_NEXT
    PORT_NEXT=$((PORT_NEXT + 10))
    ((PORT_NEXT > 44990)) && PORT_NEXT=41000
    if ! grep -qxE "$p|$((p + 2))|$((p + 3))|$((p + 4))|$((p + 5))" <<<"$bound"; then
      PORT=$p
      return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------- the server
sip_port=${SIP##*:}
sip_host=${SIP%:*}
case $sip_host in 0.0.0.0|"[::]"|"") sip_host=127.0.0.1 ;; esac
SIP=$sip_host:$sip_port
say "waiting for the server's SIP port $SIP"
for ((i = 0; i < 1200; i++)); do
  server_alive || exit 0
  bound_udp | grep -qx "$sip_port" && break
  sleep 0.1
done
bound_udp | grep -qx "$sip_port" || die "nothing listens on UDP port $sip_port after 2 minutes"
sleep 1

# The callers' voice: the A-law payload of the pcap SIPp ships, for rtp_stream (looped).
python3 - /usr/share/sip-tester/g711a.pcap voice.alaw <<'EOF' || head -c 8000 /dev/zero | tr '\0' '\325' >voice.alaw
import struct, sys
data = open(sys.argv[1], 'rb').read()
e = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
link = struct.unpack(e + 'I', data[20:24])[0]
off, out = 24, bytearray()
while off + 16 <= len(data):
    incl = struct.unpack(e + 'I', data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = 16 if link == 113 else 14
    if len(pkt) < ip + 20 or pkt[ip] >> 4 != 4:
        continue
    rtp = ip + (pkt[ip] & 15) * 4 + 8
    if len(pkt) >= rtp + 12:
        out += pkt[rtp + 12 + 4 * (pkt[rtp] & 15):]
if not out:
    sys.exit(1)
open(sys.argv[2], 'wb').write(out)
EOF

# ---------------------------------------------------------------- agents
# "extension password" per agent of the configuration's agents: list (flow or block style).
agents=$(awk '/^ *agents:/ {a = 1; next} a && /^ {0,4}[a-z_]+:/ {a = 0} a' "$CONFIG" |
  grep -oE '(extension|password): *"?[^",}[:space:]]+' | sed -E 's/^[a-z]+: *"?//' | paste -d' ' - -)
[[ -n $agents ]] || die "no agents found in $CONFIG"

register_agent() {  # $1 = scenario, $2 = extension; uses the agent's csv
  alloc_port || return 1
  timeout 30 sipp "$SIP" -sf "$SCEN/$1" -s '*11' -key realm "$REALM" -inf "agent-$2.csv" \
    -i 127.0.0.1 -p "$PORT" -mp "$((PORT + 2))" -m 1 -nostdin -timeout 20s -timeout_error \
    -trace_err -error_file "$1-$2-errors.log" >"$1-$2.log" 2>&1
}

n_agents=0
while read -r ext pw; do
  server_alive || exit 0
  alloc_port || die "no free UDP ports for agent $ext's phone"
  phone=$PORT
  sipp -sf "$SCEN/agent_phone.xml" -i 127.0.0.1 -p "$phone" -mp "$((phone + 2))" -rtp_echo -nostdin \
    -trace_err -error_file "phone-$ext-errors.log" >"phone-$ext.log" 2>&1 &
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s];127.0.0.1:%s\n' \
    "$ext" "$ext" "$pw" "$phone" >"agent-$ext.csv"
  sleep 0.5
  if register_agent agent_login.xml "$ext"; then
    say "agent $ext: phone (SIPp) on 127.0.0.1:$phone registered, logged in with *11"
    n_agents=$((n_agents + 1))
  else
    say "agent $ext: registering or logging in failed (see $WORK/agent_login.xml-$ext.log)"
  fi
  sleep 1.5
done <<<"$agents"
((n_agents > 0)) || die "no agent could log in"

# Registrations are for an hour (Expires: 3600): renewed every half hour, in the callers' loop.
renew_at=$((SECONDS + 1800))

# ---------------------------------------------------------------- callers
# A pool of regular customers (repeat callers have previous contacts on the agent desktop).
pool=()
for ((i = 0; i < 40; i++)); do pool+=("+98912$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"); done
rand() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }  # an integer in [$1, $2]

say "callers: one every $GAP_MIN-$GAP_MAX s; $IMPATIENT % of them impatient (Ctrl-C stops everything)"
n=0
while server_alive; do
  sleep "$(rand "$GAP_MIN" "$GAP_MAX")" &
  wait $!
  server_alive || break
  if ((SECONDS >= renew_at)); then
    while read -r ext _; do
      register_agent agent_register.xml "$ext" || say "agent $ext: renewing its registration failed"
    done <<<"$agents"
    renew_at=$((SECONDS + 1800))
  fi
  rm -f "caller-$((n - 60)).log" "caller-$((n - 60))-errors.log"  # long over (at most 300 s each)
  # at most about 40 callers at once
  (($(jobs -rp | wc -l) > n_agents + 41)) && continue
  r=$(rand 1 100)
  if ((r <= 60)); then number=100; elif ((r <= 80)); then number=200; else number=300; fi
  if (($(rand 1 100) <= 40)); then digit=1 queue=sales; else digit=2 queue=support; fi
  if (($(rand 1 100) <= IMPATIENT)); then patience=$(rand 7 20); else patience=$(rand 150 240); fi
  caller=${pool[$(rand 0 39)]}
  alloc_port || { say "no free UDP port for a caller"; continue; }
  n=$((n + 1))
  sipp "$SIP" -sf "$SCEN/caller.xml" -s "$number" -key caller "$caller" -key digit "$digit" \
    -key patience "$((patience * 1000))" -i 127.0.0.1 -p "$PORT" -mp "$((PORT + 2))" -m 1 -nostdin \
    -timeout 300s -timeout_error -trace_err -error_file "caller-$n-errors.log" \
    >"caller-$n.log" 2>&1 &
  say "caller $n: $caller dials $number, presses $digit ($queue), hangs up after $patience s at most"
done
