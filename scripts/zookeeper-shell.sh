#!/usr/bin/env bash
# zookeeper-shell.sh host:port[/chroot] [command args...]: Kafka's ZooKeeper shell, served by `ferry zookeeper-shell`.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" zookeeper-shell "$@"
