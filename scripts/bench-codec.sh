#!/usr/bin/env bash
# Codec benchmark: CRC-32C throughput, decode+validate of a 1 MB produce request, fetch response encoding.
# Builds ferry-bench in release and prints its figures; record them in BENCHMARKS.md with the machine and date.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
swift build -c release --product ferry-bench >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
"$ROOT/.build/release/ferry-bench" codec
