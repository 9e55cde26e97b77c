#!/usr/bin/env bash
# Runs the browser tests (ctest: e2e) with Node's test runner: builds web/dist, then
# node --test tests/e2e/*.test.mjs. Exits 77 (ctest's SKIP_RETURN_CODE) when something they
# need is missing — node, web/node_modules (npm ci in web/), /usr/bin/chromium, sipp, espeak-ng —
# so that a machine without them reports the test as skipped, never as passed.
# Environment: TAMAS_BIN (default build/tamas), KEEP_E2E=1 keeps the server's folder and logs.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export TAMAS_BIN=${TAMAS_BIN:-$ROOT/build/tamas}
skip() { echo "e2e: SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed"
[[ -d $ROOT/web/node_modules/playwright-core ]] || skip "web/node_modules is missing (cd web && npm ci)"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || skip "/usr/bin/chromium is missing (scripts/install-deps.sh)"
command -v sipp >/dev/null || skip "sipp is missing (apt-get install sip-tester)"
command -v espeak-ng >/dev/null || skip "espeak-ng is missing"
[[ -x $TAMAS_BIN ]] || { echo "e2e: $TAMAS_BIN is not built" >&2; exit 1; }
(cd "$ROOT/web" && node_modules/.bin/tsc --noEmit) || { echo "e2e: the web UI does not type-check" >&2; exit 1; }
node "$ROOT/web/build.mjs" || { echo "e2e: the web UI does not build" >&2; exit 1; }
# The tests run in a process group of their own; whatever is left of it when they end, or when
# this script is stopped (ctest's timeout, ^C), is stopped with it: the server, SIPp, Chromium.
# Their temporary files (data folders, logs, browser profiles) go to one folder, removed at the
# end unless KEEP_E2E is set.
export TMPDIR
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/tamas-e2e-run.XXXXXX")
setsid node --test --test-reporter=spec "$ROOT"/tests/e2e/*.test.mjs &
group=$!
finish() {
  kill -TERM -- "-$group" 2>/dev/null && sleep 1
  kill -KILL -- "-$group" 2>/dev/null
  if [[ -n ${KEEP_E2E:-} ]]; then echo "e2e: kept $TMPDIR"; else rm -rf "$TMPDIR"; fi
}
trap 'finish; exit 130' INT TERM
wait "$group"
rc=$?
finish
exit "$rc"
