#!/usr/bin/env bash
# The main job: installs what Tamas needs, builds it, and runs the demo center.
#
# First a simulated day of a retailer's center (config/demo-sim.yaml) through the routing engine,
# with the staffing Erlang A recommends at its peak; then the live server with the demo
# configuration (config/demo.yaml): SIP on port 5060 of every address, numbers 100 (English),
# 200 (Persian) and 300 (Arabic). Stop it with Ctrl-C (it drains calls first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build

echo
echo "== tamas sim config/demo-sim.yaml =="
build/tamas sim config/demo-sim.yaml
echo
echo "== tamas erlang: support calls at the 9-11h peak (210/h, 5 min talk + 30 s wrap-up, 80% in 30 s, patience 3 min) =="
build/tamas erlang --calls-per-hour 210 --aht 330 --sl-seconds 30 --sl-target 0.8 --patience 180
echo
echo "== tamas serve --config config/demo.yaml =="
echo "Call sip:100@<this machine> (English), 200 (Persian) or 300 (Arabic) from a softphone on"
echo "this machine (calls from 127.0.0.1 are the demo's trunk). Press 1 sales, 2 support, 9 voicemail."
echo "Records: build/tamas interactions --config config/demo.yaml --json"
exec build/tamas serve --config config/demo.yaml "$@"
