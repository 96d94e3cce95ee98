import KafkaModel
import KafkaProtocol
import LogStorage

// OffsetForLeaderEpoch (API key 23). Supported: v0...v4.
// Behaviour: for a partition this broker leads, the end offset of the requested leader epoch from the
// partition's leader-epoch checkpoint, by Kafka's rules (see `LeaderEpochCache.endOffset`); consumers use it to
// detect log truncation, followers to find where to truncate. Non-leaders answer NOT_LEADER_OR_FOLLOWER.
struct OffsetForLeaderEpochHandler: KafkaRequestHandler {
    typealias Request = OffsetForLeaderEpochRequest
    static let versions: ClosedRange<Int16> = 0...4

    let replicas: ReplicaManager

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) async throws -> OffsetForLeaderEpochResponse? {
        var response = OffsetForLeaderEpochResponse()
        for topic in request.topics {
            var results: [OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult.EpochEndOffset] = []
            for requested in topic.partitions {
                var result = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult.EpochEndOffset(partition: requested.partition)
                let partition = TopicPartition(topic.topic, requested.partition)
                switch await self.replicas.leadership(partition) {
                case .refused(let code):
                    result.errorCode = code.rawValue
                case .leader:
                    do {
                        // No log here yet: nothing was written in any epoch (Kafka's UNDEFINED answer).
                        let answer = try await self.replicas.storage.withLog(partition) { log in
                            log.leaderEpochs.endOffset(for: requested.leaderEpoch, logEndOffset: log.logEndOffset)
                        } ?? (epoch: -1, endOffset: -1)
                        result.leaderEpoch = answer.epoch
                        result.endOffset = answer.endOffset
                    } catch {
                        result.errorCode = ErrorCode.kafkaStorageError.rawValue
                    }
                }
                results.append(result)
            }
            response.topics.append(.init(topic: topic.topic, partitions: results))
        }
        return response
    }
}
