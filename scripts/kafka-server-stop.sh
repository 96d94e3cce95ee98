#!/usr/bin/env bash
# kafka-server-stop.sh: asks every running `ferry server` to shut down cleanly (SIGTERM), as Kafka's script does
# for its brokers, and waits up to 30 s for them to exit.
pids=$(pgrep -f 'ferry server ' || true)
if [ -z "$pids" ]; then
    echo "No kafka server to stop"
    exit 1
fi
kill -TERM $pids
for _ in $(seq 1 300); do
    alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && exit 0
    sleep 0.1
done
echo "kafka-server-stop: brokers still running after 30 s: $pids" >&2
exit 1
