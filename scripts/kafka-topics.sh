#!/usr/bin/env bash
# kafka-topics.sh --zookeeper <hosts> --create|--list|--describe|--alter|--delete [--topic t] ... (Kafka 2.8's options)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
bin=$(ferry_bin) || exit 1
exec "$bin" topics "$@"
