// ferry-bench: throughput benchmarks for Ferry's hot paths, run by scripts/bench-*.sh in release builds.
// Each prints its figures; none is a test. Usage: ferry-bench codec
import CFerryChecksums
import Foundation
import KafkaModel
import KafkaProtocol
import KafkaRecords
import LogStorage
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

/// Seconds taken by `body`.
func time(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Runs dd and returns its wall time in seconds.
func dd(_ arguments: [String]) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/dd")
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    return try time {
        try process.run()
        process.waitUntilExit()
    }
}

func storageBenchmarks(directory: String, megabytes: Int) throws {
    print("ferry-bench storage in \(directory), \(megabytes) MB of 1 MB batches")
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var builder = RecordBatchBuilder()
    while builder.uncompressedRecordBytes < 1_000_000 {
        builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(repeating: 0x62, count: 1000))
    }
    let batch = try builder.build()
    let mb = Double(megabytes * batch.sizeInBytes) / 1e6

    // 1. Appends through the page cache, against dd writing the same amount to the same disk.
    let log = try PartitionLog.open(directory: directory + "/bench-0")
    let appendTime = try time { for _ in 0..<megabytes { try log.append(batch, leaderEpoch: 0) } }
    let ddTime = try dd(["if=/dev/zero", "of=\(directory)/dd.bin", "bs=\(batch.sizeInBytes)", "count=\(megabytes)"])
    print(String(format: "append, page cache          %7.0f MB/s   dd %7.0f MB/s   ratio %.2f  (target >= 0.80)",
                 mb / appendTime, mb / ddTime, ddTime / appendTime))

    // 2. flush.messages=1: one fdatasync per 1 MB batch, against dd with oflag=dsync.
    let synced = min(megabytes, 256)
    var config = LogConfig()
    config.flushMessages = 1
    let syncLog = try PartitionLog.open(directory: directory + "/bench-sync-0", config: config)
    let syncTime = try time { for _ in 0..<synced { try syncLog.append(batch, leaderEpoch: 0) } }
    let ddSyncTime = try dd(["if=/dev/zero", "of=\(directory)/dd-sync.bin", "bs=\(batch.sizeInBytes)", "count=\(synced)", "oflag=dsync"])
    let syncMB = Double(synced * batch.sizeInBytes) / 1e6
    print(String(format: "append, flush.messages=1    %7.0f MB/s   dd %7.0f MB/s   ratio %.2f  (target >= 0.80)",
                 syncMB / syncTime, syncMB / ddSyncTime, ddSyncTime / syncTime))

    // 3. Sequential reads of everything, 1 MB at a time (page cache; pread into memory).
    var next: Int64 = 0
    let readTime = try time {
        while next < log.logEndOffset {
            for slice in try log.read(from: next, maxBytes: 1 << 20) {
                let bytes = try slice.bytes()
                next += Int64(bytes.getInteger(at: bytes.readerIndex + 23, endianness: .big, as: Int32.self)! + 1)
            }
        }
    }
    print(String(format: "read                        %7.0f MB/s", mb / readTime))

    // 4. Recovery of the whole log after an unclean shutdown (every batch scanned and CRC-checked), and the
    // open after a clean one.
    try log.flush()
    let recoverTime = try time { _ = try PartitionLog.open(directory: directory + "/bench-0", recoveryPoint: 0) }
    try log.close()
    let cleanTime = try time { _ = try PartitionLog.open(directory: directory + "/bench-0", recoveryPoint: .max) }
    print(String(format: "recovery, unclean %5.0f MB  %7.3f s   (target < 2 s for 1 GB)", mb, recoverTime))
    print(String(format: "open, clean       %5.0f MB  %7.3f s   (target < 0.05 s)", mb, cleanTime))

    // 5. Compaction (cleanup.policy=compact): a changelog of 100-byte values over 10,000 keys, in batches of 100
    // records and 16 MB segments, a quarter of the size above; one cleaning below the log end.
    var compactConfig = LogConfig()
    compactConfig.compacts = true
    compactConfig.deletesByRetention = false
    compactConfig.segmentBytes = 16 << 20
    let changelog = try PartitionLog.open(directory: directory + "/bench-compact-0", config: compactConfig)
    let value = ByteBuffer(repeating: 0x63, count: 100)
    var written = 0
    while changelog.sizeInBytes < Int64(megabytes) << 18 {
        var keyed = RecordBatchBuilder()
        for _ in 0..<100 {
            keyed.append(timestamp: 1_700_000_000_000, key: ByteBuffer(string: "key-\(written % 10_000)"), value: value)
            written += 1
        }
        try changelog.append(try keyed.build(), leaderEpoch: 0)
    }
    let sizeBefore = changelog.sizeInBytes
    var removed = 0
    let compactTime = try time { removed = try changelog.compact(below: changelog.logEndOffset) ?? 0 }
    print(String(format: "compaction %5.0f MB -> %5.1f MB  %7.3f s  %6.0f MB/s  %5.2f M records/s  (%d of %d records removed)",
                 Double(sizeBefore) / 1e6, Double(changelog.sizeInBytes) / 1e6, compactTime, Double(sizeBefore) / 1e6 / compactTime,
                 Double(written) / 1e6 / compactTime, removed, written))
    try? FileManager.default.removeItem(atPath: directory)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "codec":
    try codecBenchmarks()
case "storage" where arguments.count >= 2:
    try storageBenchmarks(directory: arguments[1], megabytes: arguments.count > 2 ? Int(arguments[2]) ?? 1024 : 1024)
default:
    print("usage: ferry-bench codec | storage <directory> [megabytes]")
}
