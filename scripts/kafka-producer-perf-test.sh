#!/usr/bin/env bash
# kafka-producer-perf-test.sh: Kafka's options (see --help); a thin wrapper over `ferry producer-perf-test`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" producer-perf-test "$@"
