#!/usr/bin/env bash
# kafka-log-dirs.sh: Kafka's options (see --help); a thin wrapper over `ferry log-dirs`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" log-dirs "$@"
