#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts a private 3-node ZooKeeper ensemble on ports that
# do not collide with the local cluster (client ports 12181-12183), runs `swift test` and the Python interop
# tests (pytest, Tests/Interop), and stops everything it started, also on failure or Ctrl-C.
#
#   scripts/test.sh                 everything
#   scripts/test.sh --swift-only    swift test only (still with the ensemble)
#   scripts/test.sh --interop-only  pytest only
# Extra arguments after `--` go to pytest.
# FERRY_SKIP_BUILD=1 tests the binaries already built (to run new tests against an older build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

run_swift=1 run_interop=1 pytest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --swift-only) run_interop=0 ;;
        --interop-only) run_swift=0 ;;
        --) shift; pytest_args=("$@"); break ;;
        *) echo "usage: scripts/test.sh [--swift-only|--interop-only] [-- pytest args]" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "test.sh: $*" >&2; }

bash scripts/setup.sh

bash scripts/check-generated.sh

log "building (debug, with tests)"
[ -n "${FERRY_SKIP_BUILD:-}" ] || swift build --build-tests

# A private ensemble under var/test, regenerated and wiped on every run so no state leaks between runs.
TEST_VAR="$ROOT/var/test"
ZK_CONF="$TEST_VAR/zk-conf"
mkdir -p "$ZK_CONF"
for n in 1 2 3; do
    cat > "$ZK_CONF/zoo$n.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$TEST_VAR/zk/$n
clientPortAddress=127.0.0.1
clientPort=1218$n
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,stat,mntr
server.1=127.0.0.1:12888:13888
server.2=127.0.0.1:12889:13889
server.3=127.0.0.1:12890:13890
CFG
done

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    log "stopping the test ensemble"
    bash scripts/zk-ensemble.sh --conf-dir "$ZK_CONF" stop || true
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/zk-ensemble.sh --conf-dir "$ZK_CONF" wipe
bash scripts/zk-ensemble.sh --conf-dir "$ZK_CONF" start

export ZK_CONNECT="127.0.0.1:12181,127.0.0.1:12182,127.0.0.1:12183"
export ZK_ENSEMBLE_CONF_DIR="$ZK_CONF"
export FERRY_BIN="$ROOT/.build/debug/ferry"

failed=0
if [ $run_swift -eq 1 ]; then
    log "swift test"
    swift test --skip-build || failed=1
fi
if [ $run_interop -eq 1 ]; then
    log "pytest Tests/Interop"
    # Arguments after `--` replace the default selection (all of Tests/Interop) when they name tests.
    selection=(Tests/Interop)
    for arg in ${pytest_args[@]+"${pytest_args[@]}"}; do [[ $arg == Tests/* ]] && selection=(); done
    "$ROOT/.venv/bin/python" -m pytest ${selection[@]+"${selection[@]}"} -q -p no:cacheprovider --timeout=300 -W ignore::DeprecationWarning \
        ${pytest_args[@]+"${pytest_args[@]}"} || failed=1
fi
exit $failed
