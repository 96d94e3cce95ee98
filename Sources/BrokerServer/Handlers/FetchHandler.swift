import KafkaModel
import KafkaProtocol
import KafkaRecords
import NIOCore

// Fetch (API key 1). Supported: v0...v11 (record batches, magic 2; down-converted for v0-3).
// Behaviour: for each partition this broker leads, whole batches from the fetch offset up to the high
// watermark, within partition_max_bytes and the request's max_bytes (the first batch is returned whole even if
// larger, so consumers progress). An offset outside the log gets OFFSET_OUT_OF_RANGE. Long poll: when less than
// min_bytes is available the request waits, up to max_wait_ms, for an append to one of its partitions, then
// answers with what there is. Sessions (KIP-227) are not kept: session_id 0, so clients send full fetches.
// Fetch v0-3 (e.g. pykafka) get the batches down-converted as Kafka does: magic 0 for v0-1, magic 1 for v2-3,
// control batches dropped, compressed batches recompressed in their codec; zstd data gets
// UNSUPPORTED_COMPRESSION_TYPE there.
// Deviations until later issues: records are copied into the response rather than sent with sendfile; no
// follower fetches (replica_id >= 0) and no read_committed visibility beyond the high watermark.
struct FetchHandler: KafkaRequestHandler {
    typealias Request = FetchRequest
    static let versions: ClosedRange<Int16> = 0...11

    let replicas: ReplicaManager

    func handle(_ request: FetchRequest, context: RequestContext) async throws -> FetchResponse? {
        var response = try await self.read(request, version: context.version)
        let available = response.responses.reduce(0) { $0 + $1.partitions.reduce(0) { $0 + ($1.records?.readableBytes ?? 0) } }
        let failed = response.responses.contains { $0.partitions.contains { $0.errorCode != 0 } }
        if available < Int(request.minBytes), request.maxWaitMs > 0, !failed {
            let partitions = Set(request.topics.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0.partition) } })
            await self.replicas.notifier.wait(for: partitions, timeout: .milliseconds(Int64(request.maxWaitMs)))
            response = try await self.read(request, version: context.version)
        }
        return response
    }

    private func read(_ request: FetchRequest, version: Int16) async throws -> FetchResponse {
        var response = FetchResponse()
        var remaining = Int(request.maxBytes)
        for topic in request.topics {
            var partitions: [FetchResponse.FetchableTopicResponse.PartitionData] = []
            for requested in topic.partitions {
                let partition = TopicPartition(topic.topic, requested.partition)
                var data = FetchResponse.FetchableTopicResponse.PartitionData(partitionIndex: requested.partition, records: ByteBuffer())
                switch await self.replicas.leadership(partition) {
                case .refused(let code):
                    data.errorCode = code.rawValue
                    data.highWatermark = -1
                case .leader(_, let isr, _):
                    let result = await self.replicas.read(
                        partition, from: requested.fetchOffset, maxBytes: max(0, min(Int(requested.partitionMaxBytes), remaining)),
                        isr: isr)
                    data.errorCode = result.error.rawValue
                    data.highWatermark = result.highWatermark
                    data.lastStableOffset = result.highWatermark
                    data.logStartOffset = result.logStartOffset
                    data.records = result.records ?? ByteBuffer()
                    if version <= 3, let records = data.records, records.readableBytes > 0 {
                        do {
                            data.records = try LegacyMessageSet.downConvert(
                                try RecordSet(records).batches(), toMagic: version <= 1 ? 0 : 1, fetchOffset: requested.fetchOffset)
                        } catch let error as RecordBatchError where error.kind == .unsupportedCompression {
                            data.errorCode = ErrorCode.unsupportedCompressionType.rawValue
                            data.records = ByteBuffer()
                        }
                    }
                    remaining -= data.records?.readableBytes ?? 0
                }
                partitions.append(data)
            }
            response.responses.append(.init(topic: topic.topic, partitions: partitions))
        }
        return response
    }
}
