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
