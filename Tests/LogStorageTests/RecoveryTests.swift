import Foundation
import KafkaRecords
@testable import LogStorage
import NIOCore
import Testing

@Suite struct RecoveryTests {
    /// Writes `batches` batches with a clean close, returning the directory and the size of the last batch.
    func cleanLog(batches: Int, config: LogConfig = LogConfig()) throws -> (String, Int) {
        let directory = scratchDirectory()
        let log = try PartitionLog.open(directory: directory, config: config)
        var last = 0
        for round in 0..<batches {
            let appended = try batch(2, timestamp: Int64(round))
            last = appended.sizeInBytes
            try log.append(appended, leaderEpoch: 0)
        }
        try log.close()
        return (directory, last)
    }

    func segmentFile(_ directory: String) -> String { directory + "/00000000000000000000.log" }

    @Test func aCleanLogReopensWithItsEndOffset() throws {
        let (directory, _) = try self.cleanLog(batches: 10)
        let log = try PartitionLog.open(directory: directory, recoveryPoint: 20)
        #expect(log.logEndOffset == 20)
        #expect(try readAll(log).count == 10)
    }

    @Test func aTailCutAtEveryByteOfTheLastBatchIsTruncatedToTheBatchBefore() throws {
        let (directory, lastSize) = try self.cleanLog(batches: 5)
        let path = self.segmentFile(directory)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in 1...lastSize {
            try full.prefix(full.count - cut).write(to: URL(fileURLWithPath: path))
            let log = try PartitionLog.open(directory: directory, recoveryPoint: 0)
            #expect(log.logEndOffset == 8, "cut \(cut) bytes")
            #expect(try readAll(log).count == 4)
            // The file is truncated at the last whole batch, so appends continue cleanly.
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == full.count - lastSize)
        }
    }

    @Test func aFlippedBitInACRCCoveredByteTruncatesFromThatBatchAndDropsLaterSegments() throws {
        var config = LogConfig()
        config.segmentBytes = 1000
        let (directory, _) = try self.cleanLog(batches: 20, config: config)
        let first = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 40)
        let segments = first.segmentBaseOffsets
        #expect(segments.count > 2)
        // Damage the second batch of the first segment (a byte inside its records).
        let path = self.segmentFile(directory)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let secondBatch = Int(bytes[8...11].reduce(0) { $0 << 8 | Int($1) }) + 12
        bytes[secondBatch + 70] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: path))
        let log = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 0)
        #expect(log.logEndOffset == 2)
        #expect(log.segmentBaseOffsets == [0])
        #expect(try readAll(log).count == 1)
    }

    @Test func deletedOrCorruptIndexesAreRebuilt() throws {
        var config = LogConfig()
        config.indexIntervalBytes = 200
        let (directory, _) = try self.cleanLog(batches: 40, config: config)
        try FileManager.default.removeItem(atPath: directory + "/00000000000000000000.index")
        var log = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 80)
        #expect(log.logEndOffset == 80)
        #expect(FileManager.default.fileExists(atPath: directory + "/00000000000000000000.index"))
        #expect(try log.read(from: 55, maxBytes: 1).isEmpty == false)
        try log.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/00000000000000000000.index")).count > 0)
        // A torn index (size not a multiple of 8) is discarded and rebuilt.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/00000000000000000000.index"))
        log = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 80)
        #expect(log.logEndOffset == 80)
        for offset in stride(from: Int64(0), to: 80, by: 7) {
            let first = try #require(try RecordSet(try log.read(from: offset, maxBytes: 1)[0].bytes()).batches().first)
            #expect(first.baseOffset <= offset && offset <= first.lastOffset)
        }
    }

    @Test func segmentsBeforeTheRecoveryPointAreNotScanned() throws {
        var config = LogConfig()
        config.segmentBytes = 1000
        let (directory, _) = try self.cleanLog(batches: 20, config: config)
        // Damage the first segment: trusting the recovery point, open does not notice (Kafka's behaviour, and
        // why a clean shutdown skips the scan).
        let path = self.segmentFile(directory)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let log = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 40)
        #expect(log.logEndOffset == 40)
    }
}
