# Shared by the scripts: repository root and how to find the ferry binary.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export FERRY_ROOT="$ROOT"

# The ferry binary: $FERRY_BIN if set, else the release build, else the debug build.
ferry_bin() {
    if [ -n "${FERRY_BIN:-}" ]; then echo "$FERRY_BIN"; return; fi
    local candidate
    for candidate in "$ROOT/.build/release/ferry" "$ROOT/.build/debug/ferry"; do
        if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
    echo "ferry: no binary built yet; run scripts/local-cluster.sh start (or swift build -c release)" >&2
    return 1
}
