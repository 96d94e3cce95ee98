#!/usr/bin/env bash
# The local Ferry cluster on loopback: a 3-node ZooKeeper ensemble (client ports 2181-2183, conf/zoo1..3.cfg).
#
#   scripts/local-cluster.sh start    install what is missing, build release, start the ensemble
#   scripts/local-cluster.sh status   one line per process with its pid, port and state
#   scripts/local-cluster.sh stop     stop everything this script started
#
# Brokers (conf/server-1..3.properties on 9092-9094) join this script when `ferry server` exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

case "${1:-}" in
    start)
        bash scripts/setup.sh
        echo "local-cluster: building ferry (release)" >&2
        swift build -c release
        bash scripts/zk-ensemble.sh start
        ;;
    status)
        bash scripts/zk-ensemble.sh status
        ;;
    stop)
        bash scripts/zk-ensemble.sh stop
        ;;
    *)
        echo "usage: scripts/local-cluster.sh start|status|stop" >&2
        exit 2
        ;;
esac
