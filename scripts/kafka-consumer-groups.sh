#!/usr/bin/env bash
# kafka-consumer-groups.sh: Kafka's options (see --help); a thin wrapper over `ferry consumer-groups`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" consumer-groups "$@"
