import Coordination
import KafkaModel
import KafkaRecords
import LogStorage
import NIOCore

/// The partitions this broker hosts, as the request handlers see them: who leads what (from the metadata cache),
/// appends and reads through the storage actor, and the high watermark.
///
/// Replication is issue #6: until followers fetch, the high watermark advances only for partitions whose ISR is
/// this broker alone (it is then the log end). A partition with other replicas in its ISR exposes nothing to
/// consumers yet, rather than exposing data that no replica has.
struct ReplicaManager: Sendable {
    let brokerId: Int32
    let metadata: MetadataCache
    let storage: LogService
    let notifier: AppendNotifier

    /// Whether this broker leads a partition.
    enum Leadership: Sendable {
        /// `topicConfig`: the topic's config overrides, for the settings the request path applies itself.
        case leader(epoch: Int32, isr: [Int32], topicConfig: [String: String])
        /// Not the leader here, with the error a client should see.
        case refused(ErrorCode)
    }

    func leadership(_ partition: TopicPartition) async -> Leadership {
        guard let topic = await self.metadata.topics[partition.topic],
              topic.assignment.partitions[partition.partition] != nil
        else { return .refused(.unknownTopicOrPartition) }
        guard let state = topic.states[partition.partition], state.leader == self.brokerId else {
            return .refused(.notLeaderOrFollower)
        }
        return .leader(epoch: state.leaderEpoch, isr: state.isr, topicConfig: topic.config)
    }

    /// Appends a batch as leader. - Returns: the append info and the log start offset.
    func append(_ batch: RecordBatch, to partition: TopicPartition, leaderEpoch: Int32) async throws -> (LogAppendInfo, Int64) {
        let result = try await self.storage.withLog(partition, create: true) { log in
            (try log.append(batch, leaderEpoch: leaderEpoch), log.logStartOffset)
        }!
        await self.notifier.appended(to: partition)
        return result
    }

    struct ReadResult: Sendable {
        /// The batches read, as regions of the segment files.
        var slices: [LogReadSlice] = []
        var highWatermark: Int64
        var logStartOffset: Int64
        var error: ErrorCode = .none
    }

    /// Reads whole batches from `offset` up to the high watermark.
    func read(_ partition: TopicPartition, from offset: Int64, maxBytes: Int, isr: [Int32]) async -> ReadResult {
        do {
            let onlyReplica = isr.allSatisfy { $0 == self.brokerId }
            return try await self.storage.withLog(partition, create: true) { log in
                let highWatermark = onlyReplica ? log.logEndOffset : log.logStartOffset
                let slices = try log.read(from: offset, maxBytes: maxBytes, maxOffset: highWatermark)
                return ReadResult(slices: slices, highWatermark: highWatermark, logStartOffset: log.logStartOffset)
            }!
        } catch let error as LogStorageError where error.code == .offsetOutOfRange {
            return ReadResult(highWatermark: -1, logStartOffset: -1, error: .offsetOutOfRange)
        } catch {
            return ReadResult(highWatermark: -1, logStartOffset: -1, error: .kafkaStorageError)
        }
    }

    /// ListOffsets v0: the old offset list, capped at the high watermark as Kafka caps it for consumers.
    func legacyOffsets(_ partition: TopicPartition, timestamp: Int64, maxCount: Int, isr: [Int32]) async throws -> [Int64] {
        let onlyReplica = isr.allSatisfy { $0 == self.brokerId }
        return try await self.storage.withLog(partition, create: true) { log in
            let highWatermark = onlyReplica ? log.logEndOffset : log.logStartOffset
            let offsets = try log.legacyOffsets(before: timestamp, maxCount: maxCount)
            guard offsets.contains(where: { $0 > highWatermark }) else { return offsets }
            return Array(([highWatermark] + offsets.drop { $0 > highWatermark }).prefix(maxCount))
        }!
    }

    /// ListOffsets: -1 the high watermark, -2 the log start, otherwise the first offset at or after `timestamp`.
    func offset(_ partition: TopicPartition, timestamp: Int64, isr: [Int32]) async throws -> (offset: Int64, timestamp: Int64) {
        let onlyReplica = isr.allSatisfy { $0 == self.brokerId }
        return try await self.storage.withLog(partition, create: true) { log in
            switch timestamp {
            case -1: return (onlyReplica ? log.logEndOffset : log.logStartOffset, -1)
            case -2: return (log.logStartOffset, -1)
            default: return try log.offset(forTimestamp: timestamp) ?? (-1, -1)
            }
        }!
    }
}
