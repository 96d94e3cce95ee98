#!/usr/bin/env bash
# kafka-get-offsets.sh: Kafka's options (see --help); a thin wrapper over `ferry get-offsets`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" get-offsets "$@"
