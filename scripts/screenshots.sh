#!/usr/bin/env bash
# Regenerates the web UI's screenshots in docs/screenshots (agent.png, wallboard.png, admin.png,
# admin-queue.png (the queue editor),
# wallboard-fa.png; 1280×800): builds web/dist, starts `tamas serve` with tests/e2e/e2e.yaml on
# free ports, makes users, registers two SIPp agent phones, places a few SIPp calls and takes
# the pictures in headless Chromium (tests/e2e/screenshots.mjs). Stops everything it starts.
#   scripts/screenshots.sh [OUT_DIR]        (TAMAS_BIN: the binary, default build/tamas)
# Needs what the e2e tests need: node with web/node_modules, /usr/bin/chromium, sipp, espeak-ng.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TAMAS_BIN=${TAMAS_BIN:-$ROOT/build/tamas}
[[ -x $TAMAS_BIN ]] || { echo "screenshots.sh: $TAMAS_BIN is not built (scripts/build.sh)" >&2; exit 2; }
[[ -d $ROOT/web/node_modules ]] || { echo "screenshots.sh: run npm ci in web/ first" >&2; exit 2; }
[[ -x /usr/bin/chromium ]] || { echo "screenshots.sh: /usr/bin/chromium is missing (scripts/install-deps.sh)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "screenshots.sh: sipp is missing (apt-get install sip-tester)" >&2; exit 2; }
node "$ROOT/web/build.mjs"
exec node "$ROOT/tests/e2e/screenshots.mjs" "${1:-$ROOT/docs/screenshots}"
