import Foundation
import KafkaRecords
@testable import LogStorage
import NIOCore
import Testing

@Suite struct IdempotenceTests {
    func idempotentBatch(producer: Int64 = 7, epoch: Int16 = 0, sequence: Int32, count: Int = 3) throws -> RecordBatch {
        var builder = RecordBatchBuilder()
        builder.producerId = producer
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        for index in 0..<count { builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: "s\(sequence)-\(index)")) }
        return try builder.build()
    }

    @Test func aRetriedBatchIsAnsweredWithItsOriginalOffsetsAndStoredOnce() throws {
        let directory = scratchDirectory()
        let log = try PartitionLog.open(directory: directory)
        let first = try log.append(try self.idempotentBatch(sequence: 0), leaderEpoch: 0)
        let second = try log.append(try self.idempotentBatch(sequence: 3), leaderEpoch: 0)
        let retry = try log.append(try self.idempotentBatch(sequence: 0), leaderEpoch: 0)
        #expect(retry.firstOffset == first.firstOffset && retry.lastOffset == first.lastOffset)
        #expect(log.logEndOffset == second.lastOffset + 1)
        #expect(try readAll(log).count == 2)
        // After a restart (state rebuilt from the log) the retry is still recognised.
        try log.close()
        let reopened = try PartitionLog.open(directory: directory, recoveryPoint: .max)
        let late = try reopened.append(try self.idempotentBatch(sequence: 3), leaderEpoch: 0)
        #expect(late.firstOffset == second.firstOffset)
        #expect(reopened.logEndOffset == 6)
    }

    @Test func producerStateSnapshotsSpareTheScanAndSurviveCorruption() throws {
        let directory = scratchDirectory()
        var config = LogConfig()
        config.segmentBytes = 400  // a roll every few batches: each roll writes a snapshot
        let log = try PartitionLog.open(directory: directory, config: config)
        var firsts: [Int64] = []
        for index in 0..<8 { firsts.append(try log.append(try self.idempotentBatch(sequence: Int32(index * 3)), leaderEpoch: 0).firstOffset) }
        try log.close()
        let snapshots = try ProducerStateSnapshot.offsets(in: directory)
        #expect(snapshots.last == log.logEndOffset && snapshots.count >= 2)
        // Snapshots older than the first segment are removed; a clean close leaves one at the log end.
        #expect(snapshots.allSatisfy { $0 >= log.segmentBaseOffsets.first! })
        let file = try #require(try FileSystem.readBytes(directory + "/" + ProducerStateSnapshot.fileName(log.logEndOffset)))
        let state = try #require(ProducerStateSnapshot.decode(file))
        #expect(state.producers[7]?.batches.count == 5 && state.producers[7]?.epoch == 0)

        // Reopened from the snapshot alone, any of the last five batches is recognised.
        let reopened = try PartitionLog.open(directory: directory, config: config, recoveryPoint: .max)
        #expect(try reopened.append(try self.idempotentBatch(sequence: 9), leaderEpoch: 0).firstOffset == firsts[3])
        #expect(reopened.logEndOffset == 24)
        try reopened.close()

        // A corrupt snapshot is ignored (and removed): the state comes from an older one plus the log.
        var corrupt = file
        corrupt.setInteger(UInt8(0xFF), at: corrupt.writerIndex - 1)
        try FileSystem.writeAtomically(corrupt, to: directory + "/" + ProducerStateSnapshot.fileName(24))
        // A snapshot beyond the log end (the log lost its tail) is removed too.
        try FileSystem.writeAtomically(file, to: directory + "/" + ProducerStateSnapshot.fileName(1_000))
        let recovered = try PartitionLog.open(directory: directory, config: config, recoveryPoint: .max)
        #expect(try recovered.append(try self.idempotentBatch(sequence: 21), leaderEpoch: 0).firstOffset == firsts[7])
        #expect(!(try ProducerStateSnapshot.offsets(in: directory)).contains(1_000))
        #expect(throws: LogStorageError.self) { try recovered.append(try self.idempotentBatch(sequence: 30), leaderEpoch: 0) }
    }

    @Test func sequenceGapsAndStaleEpochsAreRefused() throws {
        let log = try PartitionLog.open(directory: scratchDirectory())
        #expect(throws: LogStorageError.self) { try log.append(try self.idempotentBatch(sequence: 5), leaderEpoch: 0) }  // new producer must start at 0
        try log.append(try self.idempotentBatch(sequence: 0), leaderEpoch: 0)
        do {
            try log.append(try self.idempotentBatch(sequence: 4), leaderEpoch: 0)
            Issue.record("a gap was accepted")
        } catch let error as LogStorageError {
            #expect(error.code == .outOfOrderSequence)
        }
        try log.append(try self.idempotentBatch(epoch: 1, sequence: 0), leaderEpoch: 0)  // a new epoch restarts at 0
        do {
            try log.append(try self.idempotentBatch(epoch: 0, sequence: 3), leaderEpoch: 0)
            Issue.record("a stale epoch was accepted")
        } catch let error as LogStorageError {
            #expect(error.code == .invalidProducerEpoch)
        }
        #expect(log.logEndOffset == 6)
        // Non-idempotent batches are untouched by all this.
        try log.append(try batch(2, timestamp: 1), leaderEpoch: 0)
        #expect(log.logEndOffset == 8)
    }

    @Test func producersIdleForTheExpirationAreForgottenAndTheirAgesSurviveARestart() throws {
        let clock = ManualClock()
        let directory = scratchDirectory()
        func batch(_ producer: Int64, _ sequence: Int32) throws -> RecordBatch {
            var builder = RecordBatchBuilder()
            builder.producerId = producer
            builder.producerEpoch = 0
            builder.baseSequence = sequence
            builder.append(timestamp: clock.read(), key: nil, value: ByteBuffer(string: "p\(producer)-\(sequence)"))
            return try builder.build()
        }
        let log = try PartitionLog.open(directory: directory, clock: { clock.read() })
        try log.append(try batch(1, 0), leaderEpoch: 0)
        clock.advance(500)
        try log.append(try batch(2, 0), leaderEpoch: 0)
        clock.advance(600)
        // Producer 1's last batch is 1,100 ms old, producer 2's 600 ms.
        #expect(log.removeExpiredProducers(expirationMs: 1000) == 1)
        // Producer 1 is forgotten: it must start over at sequence 0. Producer 2's retry is still recognised.
        #expect(throws: LogStorageError.self) { try log.append(try batch(1, 1), leaderEpoch: 0) }
        #expect(try log.append(try batch(2, 0), leaderEpoch: 0).firstOffset == 1)
        #expect(log.logEndOffset == 2)
        // The ages survive the snapshot of a clean close...
        try log.close()
        clock.advance(500)
        let reopened = try PartitionLog.open(directory: directory, recoveryPoint: .max, clock: { clock.read() })
        #expect(reopened.removeExpiredProducers(expirationMs: 1000) == 1)
        // ...and a replay of the batch headers without any snapshot.
        try reopened.close()
        for offset in try ProducerStateSnapshot.offsets(in: directory) { try FileSystem.remove(directory + "/" + ProducerStateSnapshot.fileName(offset)) }
        let replayed = try PartitionLog.open(directory: directory, recoveryPoint: 0, clock: { clock.read() })
        #expect(replayed.removeExpiredProducers(expirationMs: 1000) == 2)
        #expect(replayed.removeExpiredProducers(expirationMs: 1000) == 0)
    }

    @Test func onlyTheLastFiveBatchesAreRemembered() {
        var state = ProducerStateManager()
        for index in 0..<8 {
            state.record(producerId: 1, epoch: 0, batch: .init(firstSequence: Int32(index), lastSequence: Int32(index), firstOffset: Int64(index), lastOffset: Int64(index)))
        }
        #expect(state.producers[1]?.batches.count == 5)
        #expect(state.check(producerId: 1, epoch: 0, firstSequence: 7, lastSequence: 7) == .duplicate(.init(firstSequence: 7, lastSequence: 7, firstOffset: 7, lastOffset: 7)))
        #expect(state.check(producerId: 1, epoch: 0, firstSequence: 1, lastSequence: 1) == .outOfOrderSequence(expected: 8, found: 1))
        #expect(state.check(producerId: 1, epoch: 0, firstSequence: 8, lastSequence: 9) == .append)
    }
}
