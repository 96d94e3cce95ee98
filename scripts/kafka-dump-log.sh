#!/usr/bin/env bash
# kafka-dump-log.sh --files <segment>.log[,...] [--print-data-log] [--deep-iteration]
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" dump-log "$@"
