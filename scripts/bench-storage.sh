#!/usr/bin/env bash
# Storage benchmark: append throughput of 1 MB batches next to dd on the same disk in the same run (plain and
# with an fdatasync per batch), sequential read throughput, recovery time of an unclean and a clean 1 GB log,
# and the log cleaner's rate on a compacted changelog a quarter that size.
#   scripts/bench-storage.sh [directory (default var/bench)] [megabytes (default 1024)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
swift build -c release --product ferry-bench >&2
directory=${1:-$ROOT/var/bench}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), disk: $(df -h "$(dirname "$directory")" | awk 'NR==2 {print $1, $2}'), $(date -u +%Y-%m-%d)"
"$ROOT/.build/release/ferry-bench" storage "$directory" "${2:-1024}"
