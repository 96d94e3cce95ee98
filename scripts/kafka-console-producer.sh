#!/usr/bin/env bash
# kafka-console-producer.sh: Kafka's options (see --help); a thin wrapper over `ferry console-producer`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" console-producer "$@"
