#!/usr/bin/env bash
# kafka-configs.sh: Kafka's options (see --help); a thin wrapper over `ferry configs`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" configs "$@"
