import KafkaModel
import KafkaProtocol
import KafkaRecords
import LogStorage
import NIOCore

// Produce (API key 0). Supported: v0...v10 (record batches, magic 2; v0-2 also legacy message sets, magic 0/1).
// Behaviour: each partition must be led by this broker (else NOT_LEADER_OR_FOLLOWER; unknown topics
// UNKNOWN_TOPIC_OR_PARTITION) and carry exactly one v2 batch (else INVALID_RECORD) no larger than
// message.max.bytes (MESSAGE_TOO_LARGE) with a valid CRC (CORRUPT_MESSAGE). The batch is stored as received,
// with offsets and leader epoch assigned. acks=0 gets no response; acks=1 is answered after the leader's append;
// acks=all once every ISR member has the batch (the high watermark passed it), within the request's timeout_ms
// (else REQUEST_TIMED_OUT); NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR the high watermark passed it with is
// smaller than min.insync.replicas (followers dropped out meanwhile); NOT_LEADER_OR_FOLLOWER at once if the
// leadership moves while it waits;
// acks=all is refused with NOT_ENOUGH_REPLICAS (before appending) while the ISR is smaller than min.insync.replicas.
// Idempotent batches (producer id set) are checked against the partition's producer state: a retry of one of the
// producer's last five batches is answered with its original offsets and not stored again; a sequence gap gets
// OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
// Legacy message sets (v0-2, e.g. pykafka) are converted as Kafka converts them: every CRC checked (else
// CORRUPT_MESSAGE), all messages of the partition become one v2 batch in the producer's codec, magic-0 messages
// without timestamps; offsets are assigned from the log end as for any batch.
// compression.type (the topic's override, else the broker's): `producer` stores batches as sent; any codec rewrites a
// batch sent in another codec (after its CRC is checked) into that codec, keeping its records and producer fields,
// as Kafka's LogValidator does; converted legacy message sets are written in it too.
// v10 (KIP-951): a NOT_LEADER_OR_FOLLOWER partition carries the leader and leader epoch this broker knows of, and
// the response that leader's endpoint, so the client sends its retry there without a metadata round trip first
// (librdkafka 2.4+ does; it shortens a controlled shutdown's failover by that round trip).
// cleanup.policy=compact: a record without a key fails the batch with INVALID_RECORD and Kafka's record error.
// Deviations until later issues: no transactions.
struct ProduceHandler: KafkaRequestHandler {
    typealias Request = ProduceRequest
    static let versions: ClosedRange<Int16> = 0...10

    let replicas: ReplicaManager
    /// The broker's `message.max.bytes`, `min.insync.replicas` and `compression.type`, which can change at run time.
    let config: DynamicBrokerConfig

    /// The broker settings one request is checked against (topic overrides win over them).
    private struct Defaults {
        var messageMaxBytes: Int
        /// acks=all is refused with NOT_ENOUGH_REPLICAS while the ISR is smaller.
        var minInsyncReplicas: Int
        /// `nil` is `producer` (keep what was sent).
        var codec: CompressionCodec?
        /// `log.cleanup.policy` includes `compact`: records need keys.
        var compacts: Bool
    }

    func handle(_ request: ProduceRequest, context: RequestContext) async throws -> ProduceResponse? {
        var response = ProduceResponse()
        let defaults = self.config.read { config in
            Defaults(
                messageMaxBytes: Int(config.messageMaxBytes), minInsyncReplicas: Int(config.minInsyncReplicas),
                codec: CompressionCodec(name: config.compressionType), compacts: config.log.compacts)
        }
        for topic in request.topicData {
            var partitions: [ProduceResponse.TopicProduceResponse.PartitionProduceResponse] = []
            for data in topic.partitionData {
                partitions.append(await self.produce(
                    data, topic: topic.name, acks: request.acks, timeoutMs: request.timeoutMs, requestVersion: context.version,
                    defaults: defaults))
            }
            response.responses.append(.init(name: topic.name, partitionResponses: partitions))
        }
        if context.version >= 10 { await self.addLeaderHints(to: &response) }
        return request.acks == 0 ? nil : response
    }

    /// KIP-951, as Kafka's KafkaApis fills it: for each partition refused with NOT_LEADER_OR_FOLLOWER or
    /// FENCED_LEADER_EPOCH, the current leader and epoch, and each such leader's endpoint once.
    private func addLeaderHints(to response: inout ProduceResponse) async {
        for topicIndex in response.responses.indices {
            for partitionIndex in response.responses[topicIndex].partitionResponses.indices {
                let answer = response.responses[topicIndex].partitionResponses[partitionIndex]
                guard [ErrorCode.notLeaderOrFollower.rawValue, ErrorCode.fencedLeaderEpoch.rawValue].contains(answer.errorCode),
                      let leader = await self.replicas.currentLeader(TopicPartition(response.responses[topicIndex].name, answer.index))
                else { continue }
                response.responses[topicIndex].partitionResponses[partitionIndex].currentLeader = .init(leaderId: leader.id, leaderEpoch: leader.epoch)
                if let endpoint = leader.endpoint, !response.nodeEndpoints.contains(where: { $0.nodeId == leader.id }) {
                    response.nodeEndpoints.append(.init(nodeId: leader.id, host: endpoint.host, port: endpoint.port, rack: endpoint.rack))
                }
            }
        }
    }

    private func produce(
        _ data: ProduceRequest.TopicProduceData.PartitionProduceData, topic: String, acks: Int16, timeoutMs: Int32,
        requestVersion: Int16, defaults: Defaults
    ) async -> ProduceResponse.TopicProduceResponse.PartitionProduceResponse {
        var result = ProduceResponse.TopicProduceResponse.PartitionProduceResponse(index: data.index, baseOffset: -1)
        func fail(_ code: ErrorCode) -> ProduceResponse.TopicProduceResponse.PartitionProduceResponse {
            result.errorCode = code.rawValue
            return result
        }
        guard [-1, 0, 1].contains(acks) else { return fail(.invalidRequiredAcks) }
        let partition = TopicPartition(topic, data.index)
        let leaderEpoch: Int32
        let maxMessageBytes: Int
        let isr: [Int32]
        let minInsyncReplicas: Int
        let targetCodec: CompressionCodec?
        let compacted: Bool
        switch await self.replicas.leadership(partition) {
        case .refused(let code): return fail(code)
        case .leader(let epoch, let currentIsr, let topicConfig):
            // Topic overrides of min.insync.replicas and max.message.bytes win over the broker's settings.
            minInsyncReplicas = topicConfig["min.insync.replicas"].flatMap { Int($0) } ?? defaults.minInsyncReplicas
            if acks == -1 && currentIsr.count < minInsyncReplicas { return fail(.notEnoughReplicas) }
            leaderEpoch = epoch
            isr = currentIsr
            maxMessageBytes = topicConfig["max.message.bytes"].flatMap { Int($0) } ?? defaults.messageMaxBytes
            // nil: producer. A topic override is parsed only when the topic has one.
            targetCodec = topicConfig["compression.type"].map { CompressionCodec(name: $0) } ?? defaults.codec
            compacted = topicConfig["cleanup.policy"].map { TopicConfigs.cleanupPolicy($0, includes: "compact") } ?? defaults.compacts
        }
        guard let bytes = data.records, bytes.readableBytes <= maxMessageBytes else {
            return fail(data.records == nil ? .invalidRecord : .messageTooLarge)
        }
        var batch: RecordBatch
        let magic = bytes.getInteger(at: bytes.readerIndex + 16, as: Int8.self) ?? -1
        if magic == 0 || magic == 1 {
            guard requestVersion <= 2 else { return fail(.invalidRecord) }  // v3+ carry magic 2 only
            do {
                let (messages, partialTail) = try LegacyMessageSet.decode(bytes)
                guard partialTail == 0, !messages.isEmpty else { return fail(.corruptMessage) }
                let codec = targetCodec ?? LegacyMessageSet.firstEntryCodec(bytes) ?? .none
                batch = try RecordBatch.converting(messages, compression: codec)
            } catch {
                return fail(.corruptMessage)
            }
        } else {
            let batches: [RecordBatch]
            do {
                batches = try RecordSet(bytes).batches()
            } catch {
                return fail(.invalidRecord)
            }
            guard batches.count == 1, let only = batches.first else { return fail(.invalidRecord) }
            batch = only
            if let targetCodec, (try? batch.attributes.compressionCodec()) != targetCodec {
                do {
                    try batch.validate()
                } catch {
                    return fail(.corruptMessage)
                }
                do {
                    batch = try batch.recompressed(to: targetCodec)
                } catch {
                    return fail(.invalidRecord)
                }
            }
        }
        // As Kafka's LogValidator: the cleaner keeps the latest record per key, so a compacted topic refuses keyless ones.
        if compacted {
            guard let records = try? batch.records() else { return fail(.corruptMessage) }
            if let keyless = records.firstIndex(where: { $0.key == nil }) {
                let message = "Compacted topic cannot accept message without key in topic partition \(partition)."
                result.recordErrors = [.init(batchIndex: Int32(keyless), batchIndexErrorMessage: message)]
                result.errorMessage = message
                return fail(.invalidRecord)
            }
        }
        do {
            let (info, logStartOffset) = try await self.replicas.append(batch, to: partition, leaderEpoch: leaderEpoch, isr: isr)
            if acks == -1 {
                // As Kafka's DelayedProduce: the leadership moved away, the timeout passed, or the ISR the high
                // watermark passed the batch with is smaller than min.insync.replicas.
                switch await self.replicas.waitForReplication(partition, through: info.lastOffset, timeout: .milliseconds(Int64(max(timeoutMs, 0)))) {
                case .notLeader: return fail(.notLeaderOrFollower)
                case .timedOut: return fail(.requestTimedOut)
                case .replicated(let isrSize) where isrSize < minInsyncReplicas: return fail(.notEnoughReplicasAfterAppend)
                case .replicated: break
                }
            }
            result.baseOffset = info.firstOffset
            result.logAppendTimeMs = info.logAppendTime
            result.logStartOffset = logStartOffset
            return result
        } catch let error as LogStorageError where error.code == .invalidBatch {
            return fail(.corruptMessage)  // the log checks the CRC once, before anything is written
        } catch let error as LogStorageError where error.code == .outOfOrderSequence {
            return fail(.outOfOrderSequenceNumber)
        } catch let error as LogStorageError where error.code == .invalidProducerEpoch {
            return fail(.invalidProducerEpoch)
        } catch {
            return fail(.kafkaStorageError)
        }
    }
}
