import Foundation
import KafkaRecords
@testable import LogStorage
import NIOCore
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Mutex<Int64>(1_700_000_000_000)
    func read() -> Int64 { self.now.withLock { $0 } }
    func advance(_ millis: Int64) { self.now.withLock { $0 += millis } }
}

/// A fresh directory under the system temp dir, removed when the test is done with it.
func scratchDirectory(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "ferry-log-\(name.prefix { $0 != "(" })-\(UUID().uuidString.prefix(8))/topic-0"
    return path
}

func batch(_ count: Int, timestamp: Int64, valueSize: Int = 100, compression: CompressionCodec = .none) throws -> RecordBatch {
    var builder = RecordBatchBuilder(compression: compression)
    for index in 0..<count {
        builder.append(timestamp: timestamp + Int64(index), key: ByteBuffer(string: "k\(index)"), value: ByteBuffer(repeating: 0x61, count: valueSize))
    }
    return try builder.build()
}

/// Reads every batch from `offset` to the end through the public read path.
func readAll(_ log: PartitionLog, from offset: Int64 = 0) throws -> [RecordBatch] {
    var batches: [RecordBatch] = []
    var next = offset
    while next < log.logEndOffset {
        let slices = try log.read(from: next, maxBytes: 64 * 1024)
        guard !slices.isEmpty else { break }
        for slice in slices {
            for found in try RecordSet(try slice.bytes()).batches() {
                batches.append(found)
                next = found.lastOffset + 1
            }
        }
    }
    return batches
}

@Suite struct PartitionLogTests {
    @Test func appendsAssignOffsetsAndReadsCrossSegmentRolls() throws {
        let directory = scratchDirectory()
        var config = LogConfig()
        config.segmentBytes = 4096
        config.indexIntervalBytes = 512
        let log = try PartitionLog.open(directory: directory, config: config)
        var expectedFirst: [Int64] = []
        for round in 0..<60 {
            let info = try log.append(try batch(3, timestamp: 1000 + Int64(round) * 10), leaderEpoch: 2)
            expectedFirst.append(info.firstOffset)
            #expect(info.lastOffset == info.firstOffset + 2)
        }
        #expect(expectedFirst == (0..<60).map { Int64($0 * 3) })
        #expect(log.logEndOffset == 180)
        #expect(log.segmentBaseOffsets.count > 5)
        let batches = try readAll(log)
        #expect(batches.map(\.baseOffset) == expectedFirst)
        #expect(batches.allSatisfy { $0.partitionLeaderEpoch == 2 && (try? $0.validate()) != nil })
        // Every segment file is named by its base offset in 20 digits.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
        #expect(names.first == "00000000000000000000.log")
        #expect(names.map { Int64($0.dropLast(4))! } == log.segmentBaseOffsets)
        #expect(log.leaderEpochs.entries == [.init(epoch: 2, startOffset: 0)])
    }

    @Test func readingFromEveryOffsetStartsAtTheBatchHoldingIt() throws {
        var config = LogConfig()
        config.segmentBytes = 2048
        config.indexIntervalBytes = 256  // an index entry every couple of batches: lookups hit every boundary
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config)
        for round in 0..<40 { try log.append(try batch(2, timestamp: Int64(round)), leaderEpoch: 0) }
        for offset in 0..<log.logEndOffset {
            let slices = try log.read(from: offset, maxBytes: 1)
            let first = try #require(try RecordSet(try slices[0].bytes()).batches().first)
            #expect(first.baseOffset <= offset && offset <= first.lastOffset, "offset \(offset)")
        }
        #expect(try log.read(from: log.logEndOffset, maxBytes: 100).isEmpty)
        #expect(throws: LogStorageError.self) { try log.read(from: log.logEndOffset + 1, maxBytes: 100) }
    }

    @Test func readsStopAtTheByteLimitAndTheHighWatermarkButReturnOneWholeBatch() throws {
        let log = try PartitionLog.open(directory: scratchDirectory())
        for _ in 0..<10 { try log.append(try batch(1, timestamp: 1, valueSize: 1000), leaderEpoch: 0) }
        let one = try log.read(from: 0, maxBytes: 10)
        #expect(try RecordSet(try one[0].bytes()).batches().count == 1)
        let upToWatermark = try log.read(from: 0, maxBytes: 1 << 20, maxOffset: 4)
        #expect(try RecordSet(try upToWatermark[0].bytes()).batches().map(\.baseOffset) == [0, 1, 2, 3])
        let limited = try log.read(from: 0, maxBytes: 3500)
        #expect(try RecordSet(try limited[0].bytes()).batches().count == 3)
    }

    @Test func findsOffsetsByTimestamp() throws {
        var config = LogConfig()
        config.segmentBytes = 3000
        config.indexIntervalBytes = 300
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config)
        for round in 0..<50 { try log.append(try batch(2, timestamp: 10_000 + Int64(round) * 100), leaderEpoch: 0) }
        for round in 0..<50 {
            let found = try #require(try log.offset(forTimestamp: 10_000 + Int64(round) * 100))
            #expect(found.offset == Int64(round * 2), "timestamp of round \(round)")
            // Between two batches: the later batch; after the last one: nothing.
            let between = try log.offset(forTimestamp: 10_000 + Int64(round) * 100 + 50)
            #expect(between?.offset == (round == 49 ? nil : Int64(round * 2 + 2)))
        }
        #expect(try log.offset(forTimestamp: 0)?.offset == 0)
        #expect(try log.offset(forTimestamp: 99_999_999) == nil)
    }

    @Test func truncationRemovesTheTailAcrossSegments() throws {
        var config = LogConfig()
        config.segmentBytes = 2048
        let directory = scratchDirectory()
        let log = try PartitionLog.open(directory: directory, config: config)
        for round in 0..<30 { try log.append(try batch(2, timestamp: Int64(round)), leaderEpoch: Int32(round / 10)) }
        try log.truncate(to: 25)  // inside the batch 24...25: the whole batch goes
        #expect(log.logEndOffset == 24)
        #expect(try readAll(log).last?.lastOffset == 23)
        #expect(log.leaderEpochs.entries.map(\.epoch) == [0, 1])  // epoch 2 began at offset 40
        try log.truncate(to: 10)
        #expect(log.logEndOffset == 10)
        #expect(log.leaderEpochs.entries.map(\.epoch) == [0])
        let info = try log.append(try batch(1, timestamp: 99), leaderEpoch: 5)
        #expect(info.firstOffset == 10)
        let reopened = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 0)
        #expect(reopened.logEndOffset == 11)
        #expect(reopened.leaderEpochs.entries.map(\.epoch) == [0, 5])
    }

    @Test func aSealedSegmentMadeActiveByATruncationTakesIndexEntriesAgain() throws {
        var config = LogConfig()
        config.segmentBytes = 4096
        config.indexIntervalBytes = 1  // an offset-index entry per batch
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config)
        for _ in 0..<40 { try log.append(try batch(1, timestamp: 0), leaderEpoch: 0) }
        let second = log.segmentBaseOffsets[1]
        // Inside the first segment, sealed (its index file trimmed to its entries): it is the active one again.
        try log.truncate(to: second - 5)
        #expect(log.segmentBaseOffsets.count == 1)
        // Enough appends that its index grows past the page its trimmed file ended in: a write to the mapping past
        // the end of the file is SIGBUS, which ends this test process.
        config.segmentBytes = 1 << 20
        log.updateConfig(config)
        for _ in 0..<1200 { try log.append(try batch(1, timestamp: 0, valueSize: 10), leaderEpoch: 1) }
        #expect(log.segmentBaseOffsets.count == 1)
        #expect(try readAll(log, from: 1000).first?.baseOffset == 1000)
    }

    @Test func retentionBySizeDeletesOldestWholeSegmentsOnly() throws {
        var config = LogConfig()
        config.segmentBytes = 2000
        config.retentionBytes = 5000
        config.retentionMs = -1
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config)
        for round in 0..<60 { try log.append(try batch(1, timestamp: Int64(round), valueSize: 200), leaderEpoch: 0) }
        let before = log.segmentBaseOffsets.count
        let deleted = try log.applyRetention()
        #expect(deleted > 0 && log.segmentBaseOffsets.count == before - deleted)
        #expect(log.sizeInBytes <= 5000 + 2000)
        #expect(log.logStartOffset == log.segmentBaseOffsets[0])
        #expect(throws: LogStorageError.self) { try log.read(from: 0, maxBytes: 100) }
        #expect(try readAll(log, from: log.logStartOffset).last?.lastOffset == 59)
    }

    @Test func aCompactOnlyLogKeepsItsSegmentsPastRetention() throws {
        let clock = ManualClock()
        var config = LogConfig()
        config.segmentBytes = 1500
        config.retentionMs = 60_000
        config.retentionBytes = 1000
        config.deletesByRetention = false
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config, clock: { clock.read() })
        for round in 0..<20 { try log.append(try batch(1, timestamp: clock.read() + Int64(round), valueSize: 300), leaderEpoch: 0) }
        let segments = log.segmentBaseOffsets.count
        clock.advance(61_000)
        #expect(segments > 1)
        #expect(try log.applyRetention() == 0)
        #expect(log.segmentBaseOffsets.count == segments && log.logStartOffset == 0)
        config.deletesByRetention = true
        log.updateConfig(config)
        #expect(try log.applyRetention() == segments - 1)
    }

    @Test func retentionByTimeUsesTheNewestRecordOfEachSegmentAndNeverTheActiveOne() throws {
        let clock = ManualClock()
        var config = LogConfig()
        config.segmentBytes = 1500
        config.retentionMs = 60_000
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config, clock: { clock.read() })
        for round in 0..<20 { try log.append(try batch(1, timestamp: clock.read() + Int64(round), valueSize: 300), leaderEpoch: 0) }
        let segments = log.segmentBaseOffsets.count
        #expect(try log.applyRetention() == 0)
        clock.advance(61_000)
        #expect(try log.applyRetention() == segments - 1)  // all but the active segment
        #expect(log.segmentBaseOffsets.count == 1)
        #expect(log.logStartOffset == log.segmentBaseOffsets[0])
    }

    @Test func segmentMsRollsByAgeWithAnInjectedClock() throws {
        let clock = ManualClock()
        var config = LogConfig()
        config.segmentMs = 1000
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config, clock: { clock.read() })
        try log.append(try batch(1, timestamp: clock.read()), leaderEpoch: 0)
        try log.append(try batch(1, timestamp: clock.read()), leaderEpoch: 0)
        #expect(log.segmentBaseOffsets == [0])
        clock.advance(1500)
        try log.append(try batch(1, timestamp: clock.read()), leaderEpoch: 0)
        #expect(log.segmentBaseOffsets == [0, 2])
    }

    @Test func deleteRecordsMovesTheLogStart() throws {
        var config = LogConfig()
        config.segmentBytes = 1500
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config)
        for round in 0..<20 { try log.append(try batch(1, timestamp: Int64(round), valueSize: 300), leaderEpoch: 0) }
        try log.deleteRecords(before: 12)
        #expect(log.logStartOffset == 12)
        #expect(log.segmentBaseOffsets.first! <= 12)
        #expect(throws: LogStorageError.self) { try log.read(from: 11, maxBytes: 100) }
        #expect(try readAll(log, from: 12).first?.baseOffset == 12)
    }

    @Test func logAppendTimeStampsTheBrokerClockAndKeepsTheCRCValid() throws {
        let clock = ManualClock()
        var config = LogConfig()
        config.useLogAppendTime = true
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config, clock: { clock.read() })
        let info = try log.append(try batch(2, timestamp: 5), leaderEpoch: 0)
        #expect(info.logAppendTime == clock.read())
        let stored = try #require(try readAll(log).first)
        try stored.validate()
        #expect(stored.attributes.timestampType == .logAppendTime && stored.maxTimestamp == clock.read())
    }

    @Test func aCorruptBatchIsRejectedOnAppend() throws {
        let log = try PartitionLog.open(directory: scratchDirectory())
        var bytes = try batch(1, timestamp: 1).buffer
        bytes.setInteger(UInt8(0xEE), at: bytes.writerIndex - 1)
        #expect(throws: LogStorageError.self) { try log.append(try RecordBatch(bytes), leaderEpoch: 0) }
        #expect(log.logEndOffset == 0)
    }
}

@Suite struct LeaderEpochCacheTests {
    @Test func endOffsetsFollowKafkasRules() throws {
        let log = try PartitionLog.open(directory: scratchDirectory())
        try log.append(try batch(2, timestamp: 1), leaderEpoch: 1)   // offsets 0-1
        try log.append(try batch(3, timestamp: 1), leaderEpoch: 3)   // offsets 2-4
        try log.append(try batch(1, timestamp: 1), leaderEpoch: 5)   // offset 5
        let cache = log.leaderEpochs
        #expect(cache.entries.map(\.epoch) == [1, 3, 5])
        #expect(cache.endOffset(for: 5, logEndOffset: 6) == (5, 6))    // the latest epoch ends at the log end
        #expect(cache.endOffset(for: 3, logEndOffset: 6) == (3, 5))    // an older one where the next begins
        #expect(cache.endOffset(for: 4, logEndOffset: 6) == (3, 5))    // an unknown epoch: the largest below it
        #expect(cache.endOffset(for: 0, logEndOffset: 6) == (0, 0))    // below every entry: the first start
        #expect(cache.endOffset(for: 9, logEndOffset: 6) == (-1, -1))  // above the latest: undefined
        #expect(cache.endOffset(for: -1, logEndOffset: 6) == (-1, -1))
    }
}
