#!/usr/bin/env bash
# Configures (once) and builds Tamas.   usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options]
# The default build dir is build/ (RelWithDebInfo); the binary lands at BUILD_DIR/tamas.
# Then, when node and npm are installed, the web UI: npm ci in web/ (when node_modules is missing
# or older than package-lock.json) and web/build.mjs into web/dist, which `tamas serve` serves.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "$@"
elif [ $# -gt 0 ]; then
  cmake "$dir" "$@" >/dev/null
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$dir" -j "$jobs"

if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
    if (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
      touch web/node_modules
    else
      echo "build.sh: npm ci failed in web/: the web UI is not built" >&2
    fi
  fi
  if [ -d web/node_modules ]; then node web/build.mjs; fi
fi
