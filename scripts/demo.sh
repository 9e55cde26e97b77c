#!/usr/bin/env bash
# The main job: installs what Tamas needs, builds it, and runs the demo center.
# For now the demo center is a simulation (config/demo-sim.yaml) of a day with two queues,
# driven through the real routing engine on a virtual clock, printing its KPIs; it is followed by
# the staffing that Erlang C and Erlang A recommend for its busiest queue.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
echo
echo "== tamas sim config/demo-sim.yaml =="
build/tamas sim config/demo-sim.yaml
echo
echo "== tamas erlang: support at its peak (120 calls/h, 4 min AHT, 80% in 20 s, patience 2 min) =="
build/tamas erlang --calls-per-hour 120 --aht 240 --sl-seconds 20 --sl-target 0.8 --patience 120
