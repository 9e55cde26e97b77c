#!/usr/bin/env bash
# The main job: installs what Tamas needs, builds it, and runs the demo center.
#
#   scripts/demo.sh [--demo-traffic] [tamas serve options...]
#
# First a simulated day of a retailer's center (config/demo-sim.yaml) through the routing engine,
# with the staffing Erlang A recommends at its peak; then the live server with the demo
# configuration (config/demo.yaml): SIP on port 5060 of every address, numbers 100 (English),
# 200 (Persian) and 300 (Arabic), the web UI and API on http://127.0.0.1:8080. Before it starts,
# the demo's web users are made (once; those that exist are kept): admin / demo-admin (no tenant),
# supervisor / demo-supervisor and the agents 1001..1004 / demo-<extension> (tenant demo).
#
# --demo-traffic also runs simulated agents and callers through real SIP (scripts/demo-traffic.sh,
# SIPp on 127.0.0.1): the four agents register and log in, callers arrive every 5-10 s, take the
# menu and wait, and some give up, so that the wallboard moves. Other options go to `tamas serve`
# (--sip-listen, --http-listen, --data-dir, ...).
#
# Stop it with Ctrl-C: the simulated traffic stops at once, then the server drains its calls.
set -euo pipefail
cd "$(dirname "$0")/.."

traffic=""
serve_args=()
for a in "$@"; do
  case $a in
    --demo-traffic) traffic=1 ;;
    *) serve_args+=("$a") ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh build

echo
echo "== tamas sim config/demo-sim.yaml =="
build/tamas sim config/demo-sim.yaml
echo
echo "== tamas erlang: support calls at the 9-11h peak (210/h, 5 min talk + 30 s wrap-up, 80% in 30 s, patience 3 min) =="
build/tamas erlang --calls-per-hour 210 --aht 330 --sl-seconds 30 --sl-target 0.8 --patience 180

config=config/demo.yaml
# The value of `$2:` under the top-level section `$1:` of the configuration (sip listen, ...).
config_value() {
  awk -v sec="$1" -v key="$2" '
    /^[a-z_]+:/ {in_sec = ($1 == sec ":")}
    in_sec && $1 == key ":" {print $2; exit}' "$config"
}
# The value of option $1 among the arguments for tamas serve, if given (--opt V or --opt=V).
serve_option() {
  local i
  for ((i = 0; i < ${#serve_args[@]}; i++)); do
    case ${serve_args[i]} in
      "$1") echo "${serve_args[i + 1]:-}"; return ;;
      "$1"=*) echo "${serve_args[i]#*=}"; return ;;
    esac
  done
}
sip_listen=$(serve_option --sip-listen); sip_listen=${sip_listen:-$(config_value sip listen)}
http_listen=$(serve_option --http-listen); http_listen=${http_listen:-$(config_value http listen)}
data_dir=$(serve_option --data-dir)
web_host=${http_listen%:*}
case $web_host in 0.0.0.0|"[::]"|"") web_host=127.0.0.1 ;; esac
web=http://$web_host:${http_listen##*:}

# ---------------------------------------------------------------- the demo's web users
# Made once in the data folder's database; a user that already exists is kept as it is.
add_user() {  # $1 = tenant ("" for admin), $2 = username, $3 = role, $4 = password, [$5 = name]
  local args=(user add --config "$config" --username "$2" --role "$3") out
  [[ -n $1 ]] && args+=(--tenant "$1")
  [[ -n $data_dir ]] && args+=(--data-dir "$data_dir")
  [[ -n ${5:-} ]] && args+=(--name "$5")
  if ! out=$(echo "$4" | build/tamas "${args[@]}" 2>&1); then
    if [[ $out != *"already exists"* ]]; then
      echo "$out" >&2
      return 1
    fi
  fi
}
add_user "" admin admin demo-admin
add_user demo supervisor supervisor demo-supervisor
agent_users=()
while read -r ext name; do
  add_user demo "$ext" agent "demo-$ext" "$name"
  agent_users+=("$ext")
done < <(awk '/^ *agents:/ {a = 1; next} a && /^ {0,4}[a-z_]+:/ {a = 0} a' "$config" |
         grep -oE '(extension|name): *"?[^",}[:space:]]+' | sed -E 's/^[a-z]+: *"?//' | paste -d' ' - -)

echo
echo "== tamas serve --config $config =="
echo "Call sip:100@<this machine> (English), 200 (Persian) or 300 (Arabic) from a softphone on"
echo "this machine (calls from 127.0.0.1 are the demo's trunk). Press 1 sales, 2 support, 9 voicemail."
echo "Records: build/tamas interactions --config $config --json"
echo
echo "Web UI: $web/   (the wallboard: $web/wallboard)"
[[ -f web/dist/index.html ]] ||
  echo "  (the web UI is not built: it needs node and npm, then scripts/build.sh; the API answers anyway)"
printf '  %-12s %-11s %-16s %s\n' tenant username password role
printf '  %-12s %-11s %-16s %s\n' "(empty)" admin demo-admin admin
printf '  %-12s %-11s %-16s %s\n' demo supervisor demo-supervisor supervisor
for ext in "${agent_users[@]}"; do printf '  %-12s %-11s %-16s %s\n' demo "$ext" "demo-$ext" agent; done
echo "  (demo passwords, for this machine; new ones: PUT /api/v1/tenants/demo/users/{username})"
if [[ -z $traffic ]]; then
  echo "To see the wallboard move, run scripts/demo.sh --demo-traffic: simulated agents and callers."
  echo
  exec build/tamas serve --config "$config" "${serve_args[@]}"
fi

# ---------------------------------------------------------------- with simulated traffic
echo "Simulated traffic: the agents ${agent_users[*]} log in from SIPp phones and callers arrive"
echo "every few seconds (scripts/demo-traffic.sh). Ctrl-C stops it all."
echo
server=""
traffic_pid=""
stop_traffic() {  # the traffic runs in a process group of its own: stop all of it
  [[ -n $traffic_pid ]] || return 0
  kill -TERM -- "-$traffic_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 20; i++)); do kill -0 -- "-$traffic_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$traffic_pid" 2>/dev/null || true
  wait "$traffic_pid" 2>/dev/null || true
  traffic_pid=""
}
# shellcheck disable=SC2317  # called from the traps
stop_all() {
  stop_traffic
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true  # drains the calls in progress, then stops
  fi
}
trap 'stop_all; wait "$server" 2>/dev/null || true' EXIT
trap 'stop_all' INT TERM HUP

# SIPp sends no BYE when it is stopped: the simulated calls still up at Ctrl-C would hold the
# server's drain for its default 30 s.
[[ -n $(serve_option --drain-timeout) ]] || serve_args+=(--drain-timeout 5s)
build/tamas serve --config "$config" "${serve_args[@]}" &
server=$!
setsid scripts/demo-traffic.sh --sip "${sip_listen:-127.0.0.1:5060}" --server-pid "$server" \
  --config "$config" &
traffic_pid=$!
# Until the server stops (Ctrl-C, or it could not start); a signal interrupts `wait` early.
while :; do
  status=0
  wait "$server" || status=$?
  kill -0 "$server" 2>/dev/null || break
done
stop_traffic
trap - EXIT
exit "$status"
