#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override key=value ...]
# In the foreground the broker logs to the terminal; with -daemon it runs in the background, logging to
# var/log/ferry-server-<broker>.out (LOG_DIR overrides the directory) with its pid beside it.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
if [ $# -lt 1 ]; then
    echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
    exit 1
fi
bin=$(ferry_bin) || exit 1
if [ "$1" = "-daemon" ]; then
    shift
    log_dir=${LOG_DIR:-$ROOT/var/log}
    mkdir -p "$log_dir"
    name=$(basename "$1" .properties)
    nohup "$bin" server "$@" > "$log_dir/ferry-$name.out" 2>&1 < /dev/null &
    echo $! > "$log_dir/ferry-$name.pid"
    exit 0
fi
exec "$bin" server "$@"
