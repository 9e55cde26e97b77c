#!/usr/bin/env bash
# The main job: installs what Tamas needs, builds it, and runs the demo center.
# For now the demo center is a simulation (config/demo-sim.yaml) of a retailer's day (VIP, sales
# and support queues, support chat, shifts, a morning peak), driven through the real routing
# engine on a virtual clock, printing its KPIs; it is followed by the staffing that Erlang A
# recommends for the busiest queue at its peak.
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
