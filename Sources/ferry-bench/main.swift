// ferry-bench: throughput benchmarks for Ferry's hot paths, run by scripts/bench-*.sh in release builds.
// Each prints its figures; none is a test. Usage: ferry-bench codec
import CFerryChecksums
import Foundation
import KafkaModel
import KafkaProtocol
import KafkaRecords
import NIOCore

/// Runs `body` repeatedly for at least `minimum`, returning the best per-iteration time in seconds (best of
/// several rounds, to keep noise from the other core out of the figure).
func measure(minimum: Duration = .milliseconds(400), rounds: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<rounds {
        let clock = ContinuousClock()
        var iterations = 0
        let start = clock.now
        var elapsed: Duration = .zero
        repeat {
            try body()
            iterations += 1
            elapsed = clock.now - start
        } while elapsed < minimum
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        best = min(best, seconds / Double(iterations))
    }
    return best
}

func gbps(_ bytes: Int, _ seconds: Double) -> String { String(format: "%.2f GB/s", Double(bytes) / seconds / 1e9) }

func codecBenchmarks() throws {
    print("ferry-bench codec (release build, one core)")
    print("CRC32C hardware instruction: \(CRC32C.isHardwareAccelerated ? "yes" : "no")")

    // 1. CRC32C over 16 MiB.
    let block = ByteBuffer(bytes: (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
    var sink: UInt32 = 0
    let crcTime = measure { sink &+= CRC32C.checksum(block) }
    let softwareTime = measure {
        sink &+= block.withUnsafeReadableBytes { ferry_crc32c_software(0, $0.baseAddress, $0.count) }
    }
    let zlibTime = measure { sink &+= CRC32.checksum(block) }
    print("crc32c                      \(gbps(block.readableBytes, crcTime))  (target >= 5 GB/s)")
    print("crc32c software (fallback)  \(gbps(block.readableBytes, softwareTime))")
    print("crc32 zlib (legacy formats) \(gbps(block.readableBytes, zlibTime))")

    // 2. Decode and validate a 1 MB produce request of 100-byte records, as the broker must before appending:
    // frame header, request body, batch framing and CRC. Records are not decoded (the broker stores batches as
    // received).
    var builder = RecordBatchBuilder()
    let value = ByteBuffer(repeating: 0x61, count: 100)
    while builder.uncompressedRecordBytes < 1_000_000 {
        builder.append(timestamp: 1_700_000_000_000, key: nil, value: value)
    }
    let batch = try builder.build()
    let recordCount = builder.recordCount
    let request = ProduceRequest(
        acks: -1, timeoutMs: 30_000,
        topicData: [.init(name: "bench", partitionData: [.init(index: 0, records: batch.buffer)])])
    var frameBytes = ByteBuffer()
    try KafkaFrameEncoder.encodeRequest(request, version: 9, correlationId: 1, clientId: "bench", into: &frameBytes)
    let produceTime = try measure {
        var input = frameBytes
        var decoder = KafkaFrameDecoder()
        let frame = try decoder.decode(buffer: &input)!
        let parsed = try KafkaRequestFrame(parsing: frame)
        let body = try parsed.decodeBody(as: ProduceRequest.self)
        for topic in body.topicData {
            for partition in topic.partitionData {
                for batch in try RecordSet(partition.records!).batches() { try batch.validate() }
            }
        }
    }
    print(
        "produce decode+validate     \(gbps(frameBytes.readableBytes, produceTime)), "
            + String(format: "%.1f M records/s", Double(recordCount) / produceTime / 1e6)
            + "  (1 MB request, \(recordCount) records of 100 B; target >= 1 GB/s)")

    // 3. Decoding every record of that batch (what a consumer-side client does).
    let recordsTime = try measure { _ = try batch.records() }
    print("record decode (client side) " + String(format: "%.1f M records/s", Double(recordCount) / recordsTime / 1e6))

    // 4. Encode a fetch response carrying 8 partitions of 1 MB each.
    let response = FetchResponse(
        responses: [
            .init(
                topic: "bench",
                partitions: (0..<8).map { .init(partitionIndex: Int32($0), highWatermark: 100, records: batch.buffer) })
        ])
    var encodedBytes = 0
    let fetchTime = try measure {
        var out = ByteBuffer()
        try KafkaFrameEncoder.encodeResponse(response, version: 11, correlationId: 1, into: &out)
        encodedBytes = out.readableBytes
    }
    print("fetch response encode       \(gbps(encodedBytes, fetchTime))  (8 x 1 MB partitions, v11)")
    if sink == 42 { print("") }  // keep the checksums alive
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "codec":
    try codecBenchmarks()
default:
    print("usage: ferry-bench codec")
}
