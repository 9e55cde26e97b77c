#!/usr/bin/env bash
# Installs the Debian packages Tamas needs to build, test and run. Idempotent: when every package is
# already installed it does nothing; otherwise it runs `apt-get update` once and installs the missing ones.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libsofia-sip-ua-dev libssl-dev libspandsp-dev libsndfile1-dev libsamplerate0-dev libsqlite3-dev
  espeak-ng sip-tester libhowardhinnant-date-dev python3
  libboost-dev libsodium-dev
  wrk sqlite3 curl  # bench/http/run.sh: HTTP load, filling the records table, set-up requests
  chromium fonts-noto-core  # the web UI's browser tests (tests/e2e); Noto draws Persian and Arabic
)
# The web UI is built with Node.js and npm: the machine's own when it has them, else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
