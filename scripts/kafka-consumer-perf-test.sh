#!/usr/bin/env bash
# kafka-consumer-perf-test.sh: Kafka's options (see --help); a thin wrapper over `ferry consumer-perf-test`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" consumer-perf-test "$@"
