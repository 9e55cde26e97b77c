#!/usr/bin/env bash
# Builds Tamas and runs every test: the unit, simulator and command-line tests in a normal build
# (warnings are errors), then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# This is the README's test command and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo, -Werror) =="
scripts/build.sh build -DTAMAS_WERROR=ON
echo "== tests =="
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build (ASan + UBSan) =="
scripts/build.sh build-asan -DTAMAS_SANITIZE=ON -DTAMAS_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
  "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g"
echo "== tests under sanitizers =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit
