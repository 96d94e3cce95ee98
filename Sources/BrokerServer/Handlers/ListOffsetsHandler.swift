import KafkaModel
import KafkaProtocol

// ListOffsets (API key 2). Supported: v0...v7.
// Behaviour: timestamp -1 answers the high watermark (the latest offset a consumer can read), -2 the log start
// offset, any other the first offset whose batch timestamp is at or after it (-1 if none); only the leader
// answers (else NOT_LEADER_OR_FOLLOWER). v0 answers Kafka's old offset list instead (up to max_num_offsets
// segment start offsets written at or before the time, newest first, capped at the high watermark), which
// pykafka uses; a time below -2 is UNSUPPORTED_VERSION there, as in Kafka.
struct ListOffsetsHandler: KafkaRequestHandler {
    typealias Request = ListOffsetsRequest
    static let versions: ClosedRange<Int16> = 0...7

    let replicas: ReplicaManager

    func handle(_ request: ListOffsetsRequest, context: RequestContext) async throws -> ListOffsetsResponse? {
        var response = ListOffsetsResponse()
        for topic in request.topics {
            var partitions: [ListOffsetsResponse.ListOffsetsTopicResponse.ListOffsetsPartitionResponse] = []
            for requested in topic.partitions {
                var answer = ListOffsetsResponse.ListOffsetsTopicResponse.ListOffsetsPartitionResponse(partitionIndex: requested.partitionIndex)
                switch await self.replicas.leadership(TopicPartition(topic.name, requested.partitionIndex)) {
                case .refused(let code):
                    answer.errorCode = code.rawValue
                case .leader(let epoch, let isr, _) where context.version == 0:
                    guard requested.timestamp >= -2 else {
                        answer.errorCode = ErrorCode.unsupportedVersion.rawValue
                        break
                    }
                    do {
                        answer.oldStyleOffsets = try await self.replicas.legacyOffsets(
                            TopicPartition(topic.name, requested.partitionIndex), timestamp: requested.timestamp,
                            maxCount: Int(requested.maxNumOffsets), leaderEpoch: epoch, isr: isr)
                    } catch {
                        answer.errorCode = ErrorCode.kafkaStorageError.rawValue
                    }
                case .leader(let epoch, let isr, _):
                    do {
                        let found = try await self.replicas.offset(
                            TopicPartition(topic.name, requested.partitionIndex), timestamp: requested.timestamp, leaderEpoch: epoch, isr: isr)
                        answer.offset = found.offset
                        answer.timestamp = found.timestamp
                        if context.version >= 4 { answer.leaderEpoch = epoch }  // a field of v4+ only
                    } catch {
                        answer.errorCode = ErrorCode.kafkaStorageError.rawValue
                    }
                }
                partitions.append(answer)
            }
            response.topics.append(.init(name: topic.name, partitions: partitions))
        }
        return response
    }
}
