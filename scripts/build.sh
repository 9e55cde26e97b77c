#!/usr/bin/env bash
# Configures (once) and builds Tamas.   usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options]
# The default build dir is build/ (RelWithDebInfo); the binary lands at BUILD_DIR/tamas.
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
