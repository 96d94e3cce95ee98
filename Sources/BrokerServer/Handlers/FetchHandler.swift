import KafkaModel
import KafkaProtocol
import KafkaRecords
import LogStorage
import NIOCore

// Fetch (API key 1). Supported: v0...v11 (record batches, magic 2; down-converted for v0-3).
// Behaviour: for each partition this broker leads, whole batches from the fetch offset up to the high
// watermark, within partition_max_bytes and the request's max_bytes (the first batch is returned whole even if
// larger, so consumers progress). An offset outside the log gets OFFSET_OUT_OF_RANGE. Long poll: when less than
// min_bytes is available the request waits, up to max_wait_ms, for an append to one of its partitions, then
// answers with what there is. Records are sent from the segment files with sendfile (FetchResponseParts), as
// Kafka's zero-copy path does. Sessions (KIP-227) are not kept: session_id 0, so clients send full fetches.
// Fetch v0-3 (e.g. pykafka) get the batches down-converted as Kafka does: magic 0 for v0-1, magic 1 for v2-3,
// control batches dropped, compressed batches recompressed in their codec; zstd data gets
// UNSUPPORTED_COMPRESSION_TYPE there.
// Follower fetches (replica_id >= 0) read up to the log end and record the follower's position, which moves
// the high watermark and the ISR (ReplicaManager); their long poll ends with an append, not with a high watermark
// move (AppendNotifier); a stale current_leader_epoch gets FENCED_LEADER_EPOCH, a newer
// one UNKNOWN_LEADER_EPOCH. Deviation: no read_committed visibility beyond the high watermark (no transactions).
struct FetchHandler: KafkaPartsHandler {
    typealias Request = FetchRequest
    static let versions: ClosedRange<Int16> = FetchResponseParts.versions

    let replicas: ReplicaManager

    func handle(_ request: FetchRequest, context: RequestContext) async throws -> [ResponsePart] {
        let partitions = Set(request.topics.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0.partition) } })
        // Before reading, so no wake-up is missed; a follower waits for appends only, a consumer for the high watermark.
        let mark = await self.replicas.notifier.mark(partitions, highWatermarkToo: request.replicaId < 0)
        var (response, records) = try await self.read(request, version: context.version)
        let available = records.reduce(0) { $0 + $1.count }
        let failed = response.responses.contains { $0.partitions.contains { $0.errorCode != 0 } }
        if available < Int(request.minBytes), request.maxWaitMs > 0, !failed {
            await self.replicas.notifier.wait(since: mark, timeout: .milliseconds(Int64(request.maxWaitMs)))
            (response, records) = try await self.read(request, version: context.version)
        }
        return FetchResponseParts.encode(response, records: records, version: context.version, correlationId: context.correlationId)
    }

    private func read(_ request: FetchRequest, version: Int16) async throws -> (FetchResponse, [PartitionRecords]) {
        var response = FetchResponse()
        var records: [PartitionRecords] = []
        var remaining = Int(request.maxBytes)
        for topic in request.topics {
            var partitions: [FetchResponse.FetchableTopicResponse.PartitionData] = []
            for requested in topic.partitions {
                let partition = TopicPartition(topic.topic, requested.partition)
                var data = FetchResponse.FetchableTopicResponse.PartitionData(partitionIndex: requested.partition, records: nil)
                var partitionRecords = PartitionRecords.empty
                switch await self.replicas.leadership(partition) {
                case .refused(let code):
                    data.errorCode = code.rawValue
                    data.highWatermark = -1
                case .leader(let epoch, _, _) where requested.currentLeaderEpoch >= 0 && requested.currentLeaderEpoch != epoch:
                    data.errorCode = (requested.currentLeaderEpoch < epoch ? ErrorCode.fencedLeaderEpoch : .unknownLeaderEpoch).rawValue
                    data.highWatermark = -1
                case .leader(let epoch, let isr, _):
                    let result = await self.replicas.read(
                        partition, from: requested.fetchOffset, maxBytes: max(0, min(Int(requested.partitionMaxBytes), remaining)),
                        leaderEpoch: epoch, isr: isr, replica: request.replicaId >= 0 ? request.replicaId : nil)
                    data.errorCode = result.error.rawValue
                    data.highWatermark = result.highWatermark
                    data.lastStableOffset = result.highWatermark
                    data.logStartOffset = result.logStartOffset
                    partitionRecords = .slices(result.slices)
                    if version <= 3, !result.slices.isEmpty {
                        do {
                            partitionRecords = .bytes(try self.downConvert(result.slices, version: version, fetchOffset: requested.fetchOffset))
                        } catch let error as RecordBatchError where error.kind == .unsupportedCompression {
                            data.errorCode = ErrorCode.unsupportedCompressionType.rawValue
                            partitionRecords = .empty
                        } catch {
                            data.errorCode = ErrorCode.notLeaderOrFollower.rawValue  // what Kafka answers v0-5 for a storage error
                            partitionRecords = .empty
                        }
                    }
                    remaining -= partitionRecords.count
                }
                partitions.append(data)
                records.append(partitionRecords)
            }
            response.responses.append(.init(topic: topic.topic, partitions: partitions))
        }
        return (response, records)
    }

    /// Old fetch versions read legacy message sets: magic 0 for v0-1, magic 1 for v2-3.
    private func downConvert(_ slices: [LogReadSlice], version: Int16, fetchOffset: Int64) throws -> ByteBuffer {
        var bytes = ByteBuffer()
        for slice in slices { try slice.read(appendingTo: &bytes) }
        return try LegacyMessageSet.downConvert(try RecordSet(bytes).batches(), toMagic: version <= 1 ? 0 : 1, fetchOffset: fetchOffset)
    }
}
