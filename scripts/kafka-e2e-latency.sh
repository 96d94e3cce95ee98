#!/usr/bin/env bash
# kafka-e2e-latency.sh: Kafka's options (see --help); a thin wrapper over `ferry e2e-latency`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" e2e-latency "$@"
