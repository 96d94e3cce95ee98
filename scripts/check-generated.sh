#!/usr/bin/env bash
# Fails if the committed generated code differs from what scripts/generate-protocol.py makes from the Kafka
# specs. Needs the specs (../shared/reference/kafka-message-specs, or SPECS=dir); without them it says so and
# passes, since users' checkouts have no specs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
specs=${SPECS:-$ROOT/../shared/reference/kafka-message-specs}
if [ ! -d "$specs" ]; then
    echo "check-generated: no specs at $specs; skipped" >&2
    exit 0
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$ROOT/Sources" "$ROOT/Tests" "$ROOT/scripts" "$scratch/"
python3 "$scratch/scripts/generate-protocol.py" --specs "$specs" --out "$scratch/Sources/KafkaProtocol/Generated" 2>/dev/null
status=0
for dir in Sources/KafkaProtocol/Generated Sources/KafkaModel/Generated Tests/KafkaProtocolTests/Generated; do
    if ! diff -r -q "$ROOT/$dir" "$scratch/$dir" >/dev/null; then
        echo "check-generated: $dir is stale; run scripts/generate-protocol.py and commit the result" >&2
        diff -r "$ROOT/$dir" "$scratch/$dir" | head -20 >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "check-generated: generated code is current" >&2
exit $status
