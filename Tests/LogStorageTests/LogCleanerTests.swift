import Foundation
import KafkaModel
import KafkaRecords
@testable import LogStorage
import NIOCore
import Testing

/// One batch of keyed records; a `nil` value is a tombstone. A transactional batch is producer 7's, epoch 0.
func keyed(
    _ records: [(String, String?)], timestamp: Int64, compression: CompressionCodec = .none, transactional: Bool = false
) throws -> RecordBatch {
    var builder = RecordBatchBuilder(compression: compression)
    if transactional {
        builder.producerId = 7
        builder.producerEpoch = 0
        builder.baseSequence = 0
        builder.isTransactional = true
    }
    for (key, value) in records {
        builder.append(timestamp: timestamp, key: ByteBuffer(string: key), value: value.map { ByteBuffer(string: $0) })
    }
    return try builder.build()
}

/// Every record of the log as (offset, key, value), through the public read path.
func contents(_ log: PartitionLog) throws -> [(offset: Int64, key: String, value: String?)] {
    try readAll(log).flatMap { batch in
        try batch.records().map { (batch.baseOffset + Int64($0.offsetDelta), String(buffer: $0.key!), $0.value.map { String(buffer: $0) }) }
    }
}

@Suite struct LogCleanerTests {
    func compactConfig() -> LogConfig {
        var config = LogConfig()
        config.segmentBytes = 1024
        config.compacts = true
        config.deletesByRetention = false
        config.deleteRetentionMs = 1000
        return config
    }

    @Test func compactionKeepsTheLatestValueOfEachKeyAtItsOffsetAndMergesSegments() throws {
        let directory = scratchDirectory()
        let clock = ManualClock()
        let log = try PartitionLog.open(directory: directory, config: self.compactConfig(), clock: { clock.read() })
        for index in 0..<60 { try log.append(try keyed([("k\(index % 4)", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let before = try contents(log)
        let segments = log.segmentBaseOffsets
        #expect(segments.count >= 4)
        let activeBase = segments.last!

        #expect(try log.compact(below: log.logEndOffset) != nil)
        let after = try contents(log)
        // In the cleaned range (before the active segment), only each key's last record there is left.
        let cleaned = before.filter { $0.offset < activeBase }
        let expected = Dictionary(grouping: cleaned, by: \.key).values.map { $0.max { $0.offset < $1.offset }!.offset }.sorted()
        #expect(after.filter { $0.offset < activeBase }.map(\.offset) == expected)
        #expect(after.filter { $0.offset >= activeBase }.map(\.offset) == before.filter { $0.offset >= activeBase }.map(\.offset))
        for record in after { #expect(record.value == "v\(record.offset)") }
        // Segments are grouped by their size before cleaning: full ones stay apart this time.
        #expect(log.segmentBaseOffsets.first == 0 && log.segmentBaseOffsets.count <= segments.count)
        #expect(log.logEndOffset == 60)
        // A read from an offset that was removed lands on the next record kept.
        let removed = try #require(cleaned.map(\.offset).first { !expected.contains($0) })
        let next = try #require(readAll(log, from: removed).first)
        #expect(next.baseOffset > removed)

        // Nothing new to clean: the next pass does nothing; the cleaned log reopens as it was.
        #expect(try log.compact(below: log.logEndOffset) == nil)
        try log.close()
        let reopened = try PartitionLog.open(directory: directory, config: self.compactConfig(), recoveryPoint: 0, clock: { clock.read() })
        #expect(try contents(reopened).map(\.offset) == after.map(\.offset))
        try reopened.append(try keyed([("k0", "new")], timestamp: clock.read()), leaderEpoch: 0)
        #expect(reopened.logEndOffset == 61)
        // New segments make the log dirty again; the small cleaned segments are now merged.
        for index in 61..<120 { try reopened.append(try keyed([("k\(index % 4)", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let grown = reopened.segmentBaseOffsets.count
        #expect(try reopened.compact(below: reopened.logEndOffset) != nil)
        #expect(reopened.segmentBaseOffsets.count < grown)
        let final = try contents(reopened)
        let active = reopened.segmentBaseOffsets.last!
        #expect(Set(final.filter { $0.offset < active }.map(\.key)).count == final.filter { $0.offset < active }.count)
        for record in final where record.offset != 60 { #expect(record.value == "v\(record.offset)") }
    }

    @Test func onlySegmentsWhollyBelowTheHighWatermarkAreCleaned() throws {
        let clock = ManualClock()
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        for index in 0..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let segments = log.segmentBaseOffsets
        let before = try contents(log)
        #expect(try log.compact(below: segments[1] - 1) == nil)
        #expect(try contents(log).count == before.count)
        // Below the second segment's end: the first two segments are cleaned, the rest are untouched.
        #expect(try log.compact(below: segments[2]) == Int(segments[2] - 1))
        #expect(try contents(log).map(\.offset) == [segments[2] - 1] + before.map(\.offset).filter { $0 >= segments[2] })
    }

    @Test func aTombstoneRemovesItsKeyAndGoesOnceDeleteRetentionHasPassed() throws {
        // The records are stamped ten minutes ahead of the files' real write times, so their timestamps (moved by
        // hand) date the tombstone, not how long the machine takes to write the files.
        let clock = ManualClock()
        clock.advance(wallClockMillis() + 600_000 - clock.read())
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        try log.append(try keyed([("gone", "1"), ("kept", "2")], timestamp: clock.read()), leaderEpoch: 0)
        try log.append(try keyed([("gone", nil)], timestamp: clock.read()), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("filler\(index % 2)", "x")], timestamp: clock.read()), leaderEpoch: 0) }
        #expect(log.segmentBaseOffsets.count > 2)
        try log.compact(below: log.logEndOffset)
        let cleaned = try contents(log)
        #expect(cleaned.filter { $0.key == "gone" }.map(\.offset) == [2])
        #expect(cleaned.first { $0.key == "gone" }?.value == nil)
        #expect(cleaned.first { $0.key == "kept" }?.offset == 1)
        // The tombstone's expiry, not new data, brings the next cleaning.
        clock.advance(500)
        #expect(try log.compact(below: log.logEndOffset) == nil)
        clock.advance(600)
        #expect(try log.compact(below: log.logEndOffset) == 1)
        #expect(try contents(log).filter { $0.key == "gone" }.isEmpty)
        #expect(try contents(log).first { $0.key == "kept" }?.offset == 1)
    }

    @Test func compressedBatchesAreRewrittenInTheirCodecWithTheirOffsets() throws {
        let clock = ManualClock()
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        try log.append(try keyed([("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")], timestamp: clock.read(), compression: .gzip), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("filler", "\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        try log.compact(below: log.logEndOffset)
        let first = try #require(readAll(log).first)
        try first.validate()
        #expect(try first.attributes.compressionCodec() == .gzip)
        #expect(first.baseOffset == 0 && first.lastOffsetDelta == 3 && first.recordsCount == 3)
        #expect(try contents(log).prefix(3).map { "\($0.offset)\($0.key)" } == ["1b", "2a", "3c"])
    }

    @Test func transactionalBatchesAreKeptWholeAndReplaceNothing() throws {
        let clock = ManualClock()
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        try log.append(try keyed([("a", "committed")], timestamp: clock.read()), leaderEpoch: 0)
        try log.append(try keyed([("a", "maybe aborted"), ("a", "again")], timestamp: clock.read(), transactional: true), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("filler", "\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        try log.compact(below: log.logEndOffset)
        #expect(try contents(log).filter { $0.key == "a" }.map(\.offset) == [0, 1, 2])
    }

    @Test func aTombstoneAfterATransactionalValueOfItsKeyStays() throws {
        let clock = ManualClock()
        clock.advance(wallClockMillis() - clock.read())
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        try log.append(try keyed([("t", "committed")], timestamp: clock.read(), transactional: true), leaderEpoch: 0)
        try log.append(try keyed([("t", nil), ("plain", nil)], timestamp: clock.read()), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("filler", "\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        clock.advance(5000)
        try log.compact(below: log.logEndOffset)
        let keys = try contents(log).map(\.key)
        #expect(keys.filter { $0 == "t" }.count == 2)
        #expect(!keys.contains("plain"))
    }

    @Test func truncatingIntoACleanedAwayRangeKeepsTheLogEndAtTheTarget() throws {
        let clock = ManualClock()
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        for index in 0..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let bases = log.segmentBaseOffsets
        #expect(bases.count >= 4)
        try log.compact(below: bases[3])
        try log.truncate(to: bases[2])
        #expect(log.logEndOffset == bases[2])
        var builder = RecordBatchBuilder()
        builder.baseOffset = bases[2]
        builder.partitionLeaderEpoch = 1
        builder.append(timestamp: clock.read(), key: ByteBuffer(string: "same"), value: ByteBuffer(string: "from the leader"))
        try log.appendAsFollower(try builder.build())
        #expect(log.logEndOffset == bases[2] + 1)
        #expect(try contents(log).map(\.offset) == [bases[2]])
    }

    @Test func anOpenCompletesACleaningCutShortAfterItsSwapFile() throws {
        let directory = scratchDirectory()
        let clock = ManualClock()
        let config = self.compactConfig()
        let log = try PartitionLog.open(directory: directory, config: config, clock: { clock.read() })
        for index in 0..<60 { try log.append(try keyed([("k\(index % 2)", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let bases = log.segmentBaseOffsets
        // The cleaner's first steps by hand: the first two segments cleaned together into a .swap, then a "crash".
        let plan = try #require(try log.planCompaction(below: bases[2]))
        var transactional = Set<[UInt8]>()
        let result = try LogCleaner.writeCleaned(
            plan.segments, keys: try LogCleaner.keyMap(of: plan.segments[...]).map, transactional: &transactional, plan: plan)
        try log.close()
        try FileManager.default.moveItem(atPath: result.path, toPath: directory + "/" + LogSegment.fileName(0, LogCleaner.swapSuffix))
        try Data("half".utf8).write(to: URL(fileURLWithPath: directory + "/" + LogSegment.fileName(bases[2], LogCleaner.cleanedSuffix)))

        let reopened = try PartitionLog.open(directory: directory, config: config, recoveryPoint: 0, clock: { clock.read() })
        #expect(reopened.segmentBaseOffsets == [0] + bases.dropFirst(2))
        let offsets = try contents(reopened).map(\.offset)
        #expect(offsets.prefix(2) == [bases[2] - 2, bases[2] - 1])
        #expect(offsets.count == 2 + 60 - Int(bases[2]))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!names.contains { $0.hasSuffix(LogCleaner.swapSuffix) || $0.hasSuffix(LogCleaner.cleanedSuffix) })
    }

    @Test func minCompactionLagKeepsSegmentsWithYoungRecordsUncleaned() throws {
        let clock = ManualClock()
        clock.advance(wallClockMillis() + 600_000 - clock.read())  // records, not file times, date the segments
        var config = self.compactConfig()
        config.minCompactionLagMs = 10_000
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config, clock: { clock.read() })
        for index in 0..<30 { try log.append(try keyed([("same", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        clock.advance(5000)
        for index in 30..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let straddling = try #require(log.segmentBaseOffsets.last { $0 <= 30 })
        #expect(straddling > 0 && straddling < log.segmentBaseOffsets.last!)
        // Every record is younger than the lag: nothing is cleaned.
        #expect(try log.compact(below: log.logEndOffset) == nil)
        // The first 30 records are old enough, the segment holding offset 30 is not: it and the later ones stay.
        clock.advance(6000)
        #expect(try log.compact(below: log.logEndOffset) == Int(straddling - 1))
        #expect(try contents(log).filter { $0.offset < straddling }.map(\.offset) == [straddling - 1])
        #expect(try contents(log).filter { $0.offset >= straddling }.count == 60 - Int(straddling))
        clock.advance(5000)
        #expect(try log.compact(below: log.logEndOffset) != nil)
        #expect(try contents(log).filter { $0.offset < log.segmentBaseOffsets.last! }.count == 1)
    }

    @Test func maxCompactionLagCleansADirtyLogWhateverItsRatioAndRollsTheActiveSegment() throws {
        let clock = ManualClock()
        clock.advance(wallClockMillis() + 600_000 - clock.read())
        var config = self.compactConfig()
        config.minCleanableDirtyRatio = 1
        config.maxCompactionLagMs = 60_000
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config, clock: { clock.read() })
        for index in 0..<40 { try log.append(try keyed([("same", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) != nil)  // the first cleaning: everything is dirty
        for index in 40..<80 { try log.append(try keyed([("same", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        // The cleaned part keeps the dirty ratio below 1.
        #expect(try log.compact(below: log.logEndOffset) == nil)
        clock.advance(61_000)
        #expect(try log.compact(below: log.logEndOffset) != nil)
        #expect(try contents(log).filter { $0.offset < log.segmentBaseOffsets.last! }.count == 1)
        // The active segment rolls once its first record is max.compaction.lag.ms old, so the cleaner can reach it.
        let segments = log.segmentBaseOffsets.count
        try log.append(try keyed([("same", "late")], timestamp: clock.read()), leaderEpoch: 0)
        #expect(log.segmentBaseOffsets.count == segments + 1)
    }

    @Test func aCleanedSegmentKeepsTheLastWriteTimeOfTheSegmentsItReplaces() throws {
        let directory = scratchDirectory()
        let log = try PartitionLog.open(directory: directory, config: self.compactConfig())
        for index in 0..<60 { try log.append(try keyed([("k\(index % 3)", "v\(index)")], timestamp: 0), leaderEpoch: 0) }
        // Date the segment files in 2001, one minute apart.
        var written: [Int64: Date] = [:]
        for (position, base) in log.segmentBaseOffsets.enumerated() {
            let date = Date(timeIntervalSince1970: 1_000_000_000 + Double(position) * 60)
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: directory + "/" + LogSegment.fileName(base, ".log"))
            written[base] = date
        }
        let active = log.segmentBaseOffsets.last!
        #expect(try log.compact(below: log.logEndOffset) != nil)
        for base in log.segmentBaseOffsets where base != active {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + LogSegment.fileName(base, ".log"))
            let date = try #require(attributes[.modificationDate] as? Date)
            // A merged segment takes its newest part's time; none takes the time of the cleaning.
            #expect(written.values.contains(date) && date >= written[base]!, "segment \(base)")
        }
    }

    @Test func anIdempotentProducersLastBatchStaysEmptySoAReplicaCopyingTheLogKnowsItsSequence() throws {
        func idempotent(_ records: [(String, String)], sequence: Int32) throws -> RecordBatch {
            var builder = RecordBatchBuilder()
            builder.producerId = 9
            builder.producerEpoch = 0
            builder.baseSequence = sequence
            for (key, value) in records { builder.append(timestamp: 0, key: ByteBuffer(string: key), value: ByteBuffer(string: value)) }
            return try builder.build()
        }
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig())
        try log.append(try idempotent([("a", "1")], sequence: 0), leaderEpoch: 0)
        try log.append(try idempotent([("b", "2"), ("a", "3")], sequence: 1), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("a", "x\(index)"), ("b", "y\(index)")], timestamp: 0), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) != nil)
        let batches = try readAll(log)
        // The producer's first batch is gone; its last stays, empty, with its offsets and sequences.
        #expect(batches.first?.baseOffset == 1)
        let last = try #require(batches.first { $0.producerId == 9 })
        #expect(last.baseOffset == 1 && last.lastOffset == 2 && last.recordsCount == 0 && last.baseSequence == 1)
        #expect(try last.records().isEmpty)
        // A replica copying the cleaned log (a reassignment's new follower) learns the producer's last sequence and,
        // once it leads, takes the producer's next batch instead of refusing it as out of order.
        let copy = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig())
        for batch in batches { try copy.appendAsFollower(batch) }
        #expect(try copy.append(try idempotent([("c", "4")], sequence: 3), leaderEpoch: 1).firstOffset == log.logEndOffset)
    }

    @Test func aCleaningPlannedBeforeATruncationIsAbandonedAndLeavesNoFiles() throws {
        let directory = scratchDirectory()
        let log = try PartitionLog.open(directory: directory, config: self.compactConfig())
        for index in 0..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: 0), leaderEpoch: 0) }
        let plan = try #require(try log.planCompaction(below: log.logEndOffset))
        // The slow step runs while the log's owner truncates it (a follower after a leader change).
        let cleaning = try LogCleaner.run(plan)
        #expect(!cleaning.groups.isEmpty)
        try log.truncate(to: 50)
        #expect(try log.finishCompaction(plan, cleaning: cleaning) == nil)
        #expect(try contents(log).map(\.offset) == Array(0..<50))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!names.contains { $0.hasSuffix(LogCleaner.cleanedSuffix) || $0.hasSuffix(LogCleaner.swapSuffix) })
        // Planned again, it goes through.
        #expect(try log.compact(below: log.logEndOffset) != nil)
        #expect(try contents(log).filter { $0.offset < log.segmentBaseOffsets.last! }.count == 1)
    }

    @Test func aKeyMapTooSmallForTheDirtyKeysCleansWholeSegmentsAtATimeUntilDone() throws {
        let clock = ManualClock()
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        // 20 keys in turn: a segment of ~13 records holds 13 of them, more than a map of room for 8 keys.
        for index in 0..<80 { try log.append(try keyed([("k\(index % 20)", "v\(index)")], timestamp: clock.read()), leaderEpoch: 0) }
        let before = try contents(log)
        let segments = log.segmentBaseOffsets
        let active = segments.last!
        let room = 8 * (2 + LogCleaner.KeyMap.entryOverhead)
        // Each pass maps one dirty segment (at least one, though it does not fit) and cleans up to its end.
        var passes = 0
        while try log.compact(below: log.logEndOffset, keyMapBytes: room) != nil {
            passes += 1
            #expect(passes < 20)
        }
        #expect(passes == segments.count - 1)
        // The outcome is that of one cleaning with room for every key: each key's last record below the active segment.
        let cleaned = before.filter { $0.offset < active }
        let expected = Dictionary(grouping: cleaned, by: \.key).values.map { $0.max { $0.offset < $1.offset }!.offset }.sorted()
        #expect(try contents(log).filter { $0.offset < active }.map(\.offset) == expected)
        #expect(try contents(log).filter { $0.offset >= active }.map(\.offset) == before.filter { $0.offset >= active }.map(\.offset))
    }

    @Test func aTombstoneStaysAfterATransactionalValueOfItsKeyInTheCleanPart() throws {
        let clock = ManualClock()
        clock.advance(wallClockMillis() + 600_000 - clock.read())
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig(), clock: { clock.read() })
        try log.append(try keyed([("t", "committed")], timestamp: clock.read(), transactional: true), leaderEpoch: 0)
        for index in 0..<30 { try log.append(try keyed([("filler\(index % 2)", "x")], timestamp: clock.read()), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) != nil)  // the transactional value is in the clean part now
        let tombstone = log.logEndOffset
        try log.append(try keyed([("t", nil)], timestamp: clock.read()), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("filler\(index % 2)", "y")], timestamp: clock.read()), leaderEpoch: 0) }
        clock.advance(5000)
        #expect(try log.compact(below: log.logEndOffset) != nil)
        // The tombstone is in another run of segments than the value, and only the dirty part is in the key map.
        #expect(try contents(log).filter { $0.key == "t" }.map(\.offset) == [0, tombstone])
    }

    @Test func appendsAfterATruncationToTheCleanPartsEndAreCleanedAsNew() throws {
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig())
        for index in 0..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: 0), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) != nil)
        let cleanEnd = log.segmentBaseOffsets.last!
        // A follower truncates to exactly where the cleaned part ends: the last cleaned segment takes appends again.
        try log.truncate(to: cleanEnd)
        try log.append(try keyed([("dup", "1")], timestamp: 0), leaderEpoch: 1)
        try log.append(try keyed([("dup", "2")], timestamp: 0), leaderEpoch: 1)
        for index in 0..<40 { try log.append(try keyed([("f\(index)", "x")], timestamp: 0), leaderEpoch: 1) }
        #expect(try log.compact(below: log.logEndOffset) != nil)
        #expect(try contents(log).filter { $0.key == "dup" }.map(\.value) == ["2"])
    }

    @Test func aCleaningThatFailsOnAStalePlanLeavesTheLogCleanable() throws {
        let manager = try LogManager(logDirectories: [scratchDirectory()], brokerId: 1, defaultConfig: self.compactConfig())
        let partition = TopicPartition("changelog", 0)
        let log = try manager.getOrCreateLog(partition)
        for index in 0..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: 0), leaderEpoch: 0) }
        try manager.checkpointHighWatermarks([partition: log.logEndOffset])
        // The off-actor step failed on a short read because a follower truncated a planned segment meanwhile.
        let stale = try #require(manager.planCleaning(partition))
        try log.truncate(to: 20)
        manager.finishCleaning(partition, plan: stale, outcome: .failure(LogStorageError(.corruptFile, "no whole batch")))
        #expect(manager.cleaningCandidates() == [partition])
        // The same failure on a current plan is the log's: it is not cleaned again until a restart.
        for index in 0..<60 { try log.append(try keyed([("same", "w\(index)")], timestamp: 0), leaderEpoch: 1) }
        try manager.checkpointHighWatermarks([partition: log.logEndOffset])
        let current = try #require(manager.planCleaning(partition))
        manager.finishCleaning(partition, plan: current, outcome: .failure(LogStorageError(.corruptFile, "no whole batch")))
        #expect(manager.cleaningCandidates().isEmpty)
    }

    @Test func anEmptiedBatchGoesOnceItIsNoLongerItsProducersLast() throws {
        func idempotent(_ key: String, sequence: Int32) throws -> RecordBatch {
            var builder = RecordBatchBuilder()
            builder.producerId = 9
            builder.producerEpoch = 0
            builder.baseSequence = sequence
            builder.append(timestamp: 0, key: ByteBuffer(string: key), value: ByteBuffer(string: "p"))
            return try builder.build()
        }
        let log = try PartitionLog.open(directory: scratchDirectory(), config: self.compactConfig())
        try log.append(try idempotent("a", sequence: 0), leaderEpoch: 0)
        for index in 0..<30 { try log.append(try keyed([("a", "x\(index)")], timestamp: 0), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) != nil)
        #expect(try readAll(log).first { $0.producerId == 9 }?.recordsCount == 0)
        // The producer writes again, later: its emptied batch is no longer needed and goes at the next cleaning.
        try log.append(try idempotent("b", sequence: 1), leaderEpoch: 0)
        for index in 0..<40 { try log.append(try keyed([("a", "y\(index)")], timestamp: 0), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) != nil)
        #expect(try readAll(log).filter { $0.producerId == 9 }.map(\.baseOffset) == [31])
    }

    @Test func aLogThatDoesNotCompactIsNeverCleaned() throws {
        var config = self.compactConfig()
        config.compacts = false
        let log = try PartitionLog.open(directory: scratchDirectory(), config: config)
        for index in 0..<60 { try log.append(try keyed([("same", "v\(index)")], timestamp: 0), leaderEpoch: 0) }
        #expect(try log.compact(below: log.logEndOffset) == nil)
        #expect(try contents(log).count == 60)
    }
}
