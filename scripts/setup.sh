#!/usr/bin/env bash
# Installs what Ferry needs to build, run and test, skipping whatever is already there:
#   * Debian packages: ZooKeeper (server + multithreaded C client), kcat, compression libraries;
#   * a Python venv in .venv/ with the client libraries the interop tests use (Tests/Interop/requirements.txt).
# Needs root (or sudo) only when a Debian package is missing. Swift 6 must already be on PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

log() { echo "setup: $*" >&2; }

command -v swift >/dev/null || { log "no swift on PATH: install a Swift 6 toolchain first"; exit 1; }

packages=(zookeeper libzookeeper-mt-dev kcat zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { log "missing ${missing[*]} and not root: install them as root"; exit 1; }
        sudo=(sudo)
    fi
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

requirements="$ROOT/Tests/Interop/requirements.txt"
stamp="$ROOT/.venv/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$ROOT/.venv/bin/python" ]; then
    log "creating the Python venv in .venv/"
    python3 -m venv "$ROOT/.venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    log "installing Python test clients into .venv/ (kafka-python, confluent-kafka, aiokafka, pykafka, kazoo, pytest)"
    "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
fi
