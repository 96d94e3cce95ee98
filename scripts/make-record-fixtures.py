#!/usr/bin/env python3
"""Writes record-format fixtures made by kafka-python's own encoders (an implementation independent of ours):
Tests/KafkaRecordsTests/Fixtures/<format>_<codec>.bin plus manifest.json describing each file's records.

    .venv/bin/python scripts/make-record-fixtures.py

Formats: v2 record batches (kafka-python's DefaultRecordBatchBuilder) and legacy message sets magic 0 and 1
(LegacyRecordBatchBuilder). Codecs: none, gzip, snappy (xerial framing, as Java writes), lz4, zstd (v2 only).
"""
import json
import os

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "KafkaRecordsTests", "Fixtures")
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
BASE_TIMESTAMP = 1_700_000_000_000


def records():
    """Five records with null and empty keys, a tombstone, headers and a large compressible value."""
    return [
        (None, b"first value", [("trace", b"abc")]),
        (b"key-2", b"", []),
        (b"", None, [("h1", None), ("h2", b"\x00\x01")]),
        (b"key-4", b"x" * 3000, []),
        (b"\xe4\xbd\xa0\xe5\xa5\xbd", "héllo".encode(), []),
    ]


def hexlify(value):
    return None if value is None else value.hex()


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for codec, code in CODECS.items():
        builder = DefaultRecordBatchBuilder(
            magic=2, compression_type=code, is_transactional=0, producer_id=-1, producer_epoch=-1,
            base_sequence=-1, batch_size=1 << 20)
        for index, (key, value, headers) in enumerate(records()):
            builder.append(index, BASE_TIMESTAMP + index * 7, key, value, headers)
        name = f"v2_{codec}"
        with open(os.path.join(OUT, name + ".bin"), "wb") as handle:
            handle.write(bytes(builder.build()))
        manifest[name] = {"magic": 2, "codec": codec, "records": [
            {"offset": i, "timestamp": BASE_TIMESTAMP + i * 7, "key": hexlify(k), "value": hexlify(v),
             "headers": [[hk, hexlify(hv)] for hk, hv in h]}
            for i, (k, v, h) in enumerate(records())]}

        if codec == "zstd":
            continue  # zstd exists only in magic 2
        for magic in (0, 1):
            builder = LegacyRecordBatchBuilder(magic=magic, compression_type=code, batch_size=1 << 20)
            for index, (key, value, _) in enumerate(records()):
                builder.append(index, BASE_TIMESTAMP + index * 7 if magic else None, key, value)
            name = f"magic{magic}_{codec}"
            with open(os.path.join(OUT, name + ".bin"), "wb") as handle:
                handle.write(bytes(builder.build()))
            manifest[name] = {"magic": magic, "codec": codec, "records": [
                {"offset": i, "timestamp": (BASE_TIMESTAMP + i * 7) if magic else None, "key": hexlify(k),
                 "value": hexlify(v), "headers": []}
                for i, (k, v, _) in enumerate(records())]}

    with open(os.path.join(OUT, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"make-record-fixtures: wrote {len(manifest)} fixtures to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
