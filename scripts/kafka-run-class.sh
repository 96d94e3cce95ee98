#!/usr/bin/env bash
# kafka-run-class.sh <class> [args]: the Kafka tool classes users call by name, mapped to `ferry` subcommands
# (there is no JVM here). Classes Ferry does not provide are one clear error line and exit 1.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
if [ $# -lt 1 ]; then
    echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
    exit 1
fi
class=$1
shift
case "$class" in
    kafka.tools.EndToEndLatency|org.apache.kafka.tools.EndToEndLatency) command=e2e-latency ;;
    kafka.tools.GetOffsetShell|org.apache.kafka.tools.GetOffsetShell) command=get-offsets ;;
    kafka.tools.ConsumerPerformance|org.apache.kafka.tools.ConsumerPerformance) command=consumer-perf-test ;;
    org.apache.kafka.tools.ProducerPerformance) command=producer-perf-test ;;
    kafka.tools.DumpLogSegments|org.apache.kafka.tools.DumpLogSegments) command=dump-log ;;
    kafka.admin.TopicCommand|org.apache.kafka.tools.TopicCommand) command=topics ;;
    kafka.admin.ConfigCommand) command=configs ;;
    kafka.admin.ConsumerGroupCommand|org.apache.kafka.tools.consumer.group.ConsumerGroupCommand) command=consumer-groups ;;
    kafka.admin.LogDirsCommand|org.apache.kafka.tools.LogDirsCommand) command=log-dirs ;;
    *) echo "kafka-run-class.sh: Ferry has no tool for class $class" >&2; exit 1 ;;
esac
bin=$(ferry_bin) || exit 1
exec "$bin" "$command" "$@"
