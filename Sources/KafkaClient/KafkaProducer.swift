import KafkaModel
import KafkaProtocol
import KafkaRecords
import Logging
import NIOCore
import Synchronization

/// A record to send. `partition` nil lets the partitioner choose: murmur2 of the key, or a sticky partition for
/// records without a key (as the Java client since 2.4).
public struct ProducerRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Milliseconds since the epoch; nil is now.
    public var timestamp: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// Where a record was stored. `offset` is -1 with acks=0, which gets no answer.
public struct RecordMetadata: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
}

/// Batches records per partition and sends them to the partition leaders, as Kafka's `KafkaProducer`: a batch goes
/// when it holds `batchSize` bytes or has waited `lingerMs`; retriable errors refresh the metadata and resend until
/// `deliveryTimeoutMs`; each record's completion runs once with its offset or the error.
///
/// Ordering: up to `max.in.flight.requests.per.connection` (5) requests per partition are in flight, so building,
/// sending and the broker's append overlap. As with Kafka's producer without idempotence, a retried batch may then
/// land after a later one; set it to 1 for strict order under retries.
/// Calls may come from any task; the accumulator is behind a lock, and one sender task does the network work.
public final class KafkaProducer: Sendable {
    public struct Configuration: Sendable {
        /// 0, 1 or -1 (all).
        public var acks: Int16 = -1
        public var lingerMs: Int = 5
        public var batchSize: Int = 16_384
        public var compression: CompressionCodec = .none
        /// The largest request (and so record) the producer sends: `max.request.size`.
        public var maxRequestSize: Int = 1_048_576
        public var deliveryTimeoutMs: Int = 120_000
        public var requestTimeoutMs: Int32 = 30_000
        public var retryBackoffMs: Int = 100
        /// Records buffered before `send` waits for room (`buffer.memory` in records rather than bytes).
        public var maxBufferedRecords: Int = 1_000_000
        /// Produce requests in flight per partition: `max.in.flight.requests.per.connection`.
        public var maxInFlightPerPartition: Int = 5

        public init() {}

        /// Applies Kafka producer properties (`acks`, `linger.ms`, `batch.size`, `compression.type`, ...).
        /// - Throws: `KafkaClientError.invalidArgument` for a bad value; unknown keys are ignored, as Kafka warns and goes on.
        public mutating func apply(_ properties: [String: String]) throws(KafkaClientError) {
            for (key, value) in properties {
                func integer() throws(KafkaClientError) -> Int {
                    guard let number = Int(value.trimmingSpaces), number >= 0 else {
                        throw KafkaClientError(.invalidArgument, "Invalid value \(value) for configuration \(key): Not a number of type INT")
                    }
                    return number
                }
                switch key {
                case "acks":
                    switch value.trimmingSpaces {
                    case "all", "-1": self.acks = -1
                    case "0": self.acks = 0
                    case "1": self.acks = 1
                    default: throw KafkaClientError(.invalidArgument, "Invalid value \(value) for configuration acks: String must be one of: all, -1, 0, 1")
                    }
                case "linger.ms": self.lingerMs = try integer()
                case "batch.size": self.batchSize = max(try integer(), 1)
                case "max.request.size": self.maxRequestSize = try integer()
                case "delivery.timeout.ms": self.deliveryTimeoutMs = try integer()
                case "request.timeout.ms": self.requestTimeoutMs = Int32(clamping: try integer())
                case "retry.backoff.ms": self.retryBackoffMs = try integer()
                case "max.in.flight.requests.per.connection": self.maxInFlightPerPartition = max(try integer(), 1)
                case "compression.type":
                    guard let codec = CompressionCodec.named(value.trimmingSpaces) else {
                        throw KafkaClientError(.invalidArgument, "Invalid value \(value) for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd")
                    }
                    self.compression = codec
                default: break
                }
            }
        }
    }

    public typealias Completion = @Sendable (Result<RecordMetadata, KafkaClientError>) -> Void

    /// One completion for many records (`send(_:report:)`): the producer keeps a single reference for each run of
    /// consecutive records that share it, rather than a closure per record, which matters at a million records a
    /// second (Kafka's per-record callback objects are cheap on the JVM; a Swift closure context is a malloc).
    public final class DeliveryReport: Sendable {
        let handle: Completion
        public init(_ handle: @escaping Completion) { self.handle = handle }
    }

    public let cluster: KafkaCluster
    let configuration: Configuration
    private let state: Mutex<Accumulator>
    private let sender: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let logger: Logger

    public init(cluster: KafkaCluster, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "ferry.producer")) {
        self.cluster = cluster
        self.configuration = configuration
        self.state = Mutex(Accumulator())
        self.logger = logger
        let task = Task { [self] in await self.runSender() }
        self.sender.withLock { $0 = task }
    }

    /// Queues `record`; `completion` runs when the broker has answered (or the record failed for good).
    /// Waits only to learn a new topic's partitions, or for room when `maxBufferedRecords` are waiting.
    /// - Throws: for a topic that does not exist, a record larger than `maxRequestSize`, or a closed producer.
    public func send(_ record: ProducerRecord, completion: Completion? = nil) async throws {
        try await self.enqueue(record, completion.map { .each($0) })
    }

    /// Queues `record`; `report` hears of it when the broker has answered (or the record failed for good).
    public func send(_ record: ProducerRecord, report: DeliveryReport) async throws {
        try await self.enqueue(record, .shared(report))
    }

    private func enqueue(_ record: ProducerRecord, _ delivery: Delivery?) async throws {
        let size = (record.key?.count ?? 0) + (record.value?.count ?? 0) + record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.readableBytes ?? 0) } + 70
        if size > self.configuration.maxRequestSize {
            throw KafkaClientError.kafka(.messageTooLarge, message:
                "The message is \(size) bytes when serialized which is larger than \(self.configuration.maxRequestSize), which is the value of the max.request.size configuration.")
        }
        var learned = false
        while true {
            let outcome: EnqueueOutcome = self.state.withLock { state in
                if state.closed { return .closed }
                if state.buffered >= self.configuration.maxBufferedRecords {
                    let room = WakeUp()
                    state.roomWaiters.append(room)
                    return .full(room)
                }
                if let partition = record.partition, let count = state.topics[record.topic]?.count, !(0..<count).contains(partition) {
                    return .badPartition(count)
                }
                let (known, wake) = state.append(record, configuration: self.configuration, delivery: delivery)
                return known ? .queued(wake) : .unknownTopic
            }
            switch outcome {
            case .closed: throw KafkaClientError(.invalidArgument, "Cannot send after the producer is closed.")
            case .full(let room): await room.wait()
            case .queued(let wake):
                wake?.fire()
                return
            case .badPartition(let count):
                throw KafkaClientError(.invalidArgument, "Invalid partition given with record: \(record.partition!) is not in the range [0...\(count)).")
            case .unknownTopic:
                guard !learned else { throw KafkaClientError.kafka(.unknownTopicOrPartition, message: "Topic \(record.topic) not present in metadata") }
                try await self.learnTopic(record.topic)
                learned = true
            }
        }
    }

    /// Sends `record` and waits for its answer.
    @discardableResult
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        let box = ResultBox()
        try await self.send(record) { box.set($0) }
        self.wakeSender()
        return try await box.value().get()
    }

    /// Sends everything queued now, without waiting for linger, and waits until each record has its answer.
    public func flush() async {
        let done = WakeUp()
        let wake: WakeUp? = self.state.withLock { state in
            if state.buffered == 0 {
                done.fire()
                return nil
            }
            state.flushWaiters.append(done)
            state.flushing += 1
            return state.senderWake
        }
        wake?.fire()
        await done.wait()
        self.state.withLock { $0.flushing = max($0.flushing - 1, 0) }
    }

    /// Flushes, stops the sender and closes the cluster's connections.
    public func close() async {
        await self.flush()
        let wake = self.state.withLock { state -> WakeUp? in
            state.closed = true
            return state.senderWake
        }
        wake?.fire()
        await self.sender.withLock { $0 }?.value
        await self.cluster.close()
    }

    private func wakeSender() {
        self.state.withLock { $0.senderWake }?.fire()
    }

    /// Learns a topic's partition count from the metadata (asking for auto-creation, as the Java producer does).
    private func learnTopic(_ topic: String) async throws {
        var metadata = try await self.cluster.refreshMetadata(topics: [topic], allowAutoTopicCreation: true)
        var attempts = 0
        while true {
            if let entry = metadata.topics[topic], entry.error == .none, !entry.partitions.isEmpty {
                let count = Int32(entry.partitions.count)
                self.state.withLock { $0.topics[topic] = $0.topics[topic] ?? Accumulator.TopicInfo(count: count) }
                return
            }
            let error = metadata.topics[topic]?.error ?? .unknownTopicOrPartition
            // A topic being auto-created answers LEADER_NOT_AVAILABLE for a moment, as with Kafka.
            guard error.isRetriable, attempts < 20 else {
                throw KafkaClientError.kafka(error == .none ? .unknownTopicOrPartition : error, message: "Topic \(topic) not present in metadata: \(error.name)")
            }
            attempts += 1
            try await Task.sleep(for: .milliseconds(100))
            metadata = try await self.cluster.refreshMetadata(topics: [topic], allowAutoTopicCreation: true)
        }
    }

    // MARK: The sender

    private func runSender() async {
        var leaders: [TopicPartition: Int32] = [:]
        var inFlight = 0
        let done = Finished()
        while true {
            let wake = WakeUp()
            let now = ContinuousClock.now
            let (ready, nextDeadline, finished) = self.state.withLock { state -> ([TopicPartition: [PendingBatch]], ContinuousClock.Instant?, Bool) in
                state.senderWake = wake
                let ready = state.takeReady(now: now, configuration: self.configuration)
                return (ready, state.nextLingerDeadline(configuration: self.configuration), state.closed && state.buffered == 0)
            }
            // Results of finished requests first: they free partitions and may need metadata.
            var needsMetadata = false
            for result in done.take() {
                inFlight -= 1
                needsMetadata = needsMetadata || result.staleMetadata
                if result.staleMetadata { for partition in result.partitions { leaders[partition] = nil } }
            }
            // Counted after collecting: a request that finished just now must not keep a closed producer waiting.
            if finished && inFlight == 0 { return }
            var byLeader: [Int32: [(TopicPartition, [PendingBatch])]] = [:]
            for (partition, batches) in ready {
                if leaders[partition] == nil || needsMetadata {
                    if let metadata = try? await self.cluster.refreshMetadata(topics: Array(Set(ready.keys.map(\.topic)))) {
                        for (name, topic) in metadata.topics {
                            for entry in topic.partitions where entry.leader >= 0 { leaders[TopicPartition(name, entry.id)] = entry.leader }
                        }
                    }
                    needsMetadata = false
                }
                guard let leader = leaders[partition] else {
                    self.requeue(partition, batches)
                    continue
                }
                byLeader[leader, default: []].append((partition, batches))
            }
            for (leader, batches) in byLeader {
                inFlight += 1
                Task {
                    let result = await self.sendBatches(batches, to: leader)
                    done.add(result)
                    self.wakeSender()
                }
            }
            if ready.isEmpty || byLeader.isEmpty {
                if let nextDeadline { await wake.wait(until: nextDeadline) } else { await wake.wait() }
            }
        }
    }

    /// Results of requests that have finished, for the sender loop to collect.
    private final class Finished: Sendable {
        private let results = Mutex<[InFlightResult]>([])
        func add(_ result: InFlightResult) { self.results.withLock { $0.append(result) } }
        func take() -> [InFlightResult] { self.results.withLock { results in defer { results = [] }; return results } }
    }

    private struct InFlightResult: Sendable {
        var partitions: [TopicPartition]
        var staleMetadata: Bool
    }

    /// Sends one Produce request with each partition's ready batches (consecutive batches in one records field, which
    /// brokers accept) and settles them from the answer.
    private func sendBatches(_ batches: [(TopicPartition, [PendingBatch])], to leader: Int32) async -> InFlightResult {
        var request = ProduceRequest(acks: self.configuration.acks, timeoutMs: self.configuration.requestTimeoutMs)
        var built: [TopicPartition: [PendingBatch]] = [:]
        for (partition, pending) in batches {
            var records = ByteBuffer()
            do {
                for batch in pending { records.writeImmutableBuffer(try batch.builder.build().buffer) }
            } catch {
                self.complete(partition, pending, .failure(KafkaClientError(.invalidArgument, "Could not build a batch: \(error)")))
                continue
            }
            built[partition] = pending
            let data = ProduceRequest.TopicProduceData.PartitionProduceData(index: partition.partition, records: records)
            if let index = request.topicData.firstIndex(where: { $0.name == partition.topic }) {
                request.topicData[index].partitionData.append(data)
            } else {
                request.topicData.append(.init(name: partition.topic, partitionData: [data]))
            }
        }
        var stale = false
        do {
            if self.configuration.acks == 0 {
                let connection = try await self.cluster.connection(to: leader)
                try await connection.sendOneWay(request, upTo: 9)
                for (partition, pending) in built { self.complete(partition, pending, .success(-1)) }
                return InFlightResult(partitions: Array(built.keys), staleMetadata: false)
            }
            let response = try await self.cluster.send(request, to: leader, upTo: 9)
            var answered = Set<TopicPartition>()
            for topic in response.responses {
                for answer in topic.partitionResponses {
                    let partition = TopicPartition(topic.name, answer.index)
                    guard let pending = built[partition] else { continue }
                    answered.insert(partition)
                    let code = ErrorCode(rawValue: answer.errorCode)
                    if code == .none {
                        self.complete(partition, pending, .success(answer.baseOffset), logAppendTime: answer.logAppendTimeMs)
                    } else {
                        stale = stale || code.invalidatesMetadata
                        self.retryOrFail(partition, pending, KafkaClientError.kafka(code, message: answer.errorMessage))
                    }
                }
            }
            for (partition, pending) in built where !answered.contains(partition) {
                self.retryOrFail(partition, pending, KafkaClientError(.kafka(.unknownServerError), "The broker did not answer for \(partition)"))
            }
        } catch {
            stale = true
            let failure = error as? KafkaClientError ?? KafkaClientError(.noBrokerAvailable, "\(error)")
            for (partition, pending) in built { self.retryOrFail(partition, pending, failure) }
        }
        return InFlightResult(partitions: Array(built.keys), staleMetadata: stale)
    }

    private func retryOrFail(_ partition: TopicPartition, _ batches: [PendingBatch], _ error: KafkaClientError) {
        let expired = batches.contains { ContinuousClock.now - $0.created > .milliseconds(self.configuration.deliveryTimeoutMs) }
        if error.isRetriable && !expired {
            self.logger.debug("retrying \(batches.count) batches for \(partition): \(error)")
            self.requeue(partition, batches)
        } else {
            self.complete(partition, batches, .failure(error))
        }
    }

    /// Puts batches back at the head of their partition's queue, to go again after the retry back-off.
    private func requeue(_ partition: TopicPartition, _ batches: [PendingBatch]) {
        let retryAt = ContinuousClock.now + .milliseconds(self.configuration.retryBackoffMs)
        let retried = batches.map { batch in
            var batch = batch
            batch.retryAt = retryAt
            batch.full = true
            return batch
        }
        let wake = self.state.withLock { state -> WakeUp? in
            state.putBack(partition, retried)
            return state.senderWake
        }
        wake?.fire()
    }

    /// Settles consecutive batches of one partition: on success the first starts at `result`'s base offset.
    private func complete(_ partition: TopicPartition, _ batches: [PendingBatch], _ result: Result<Int64, KafkaClientError>, logAppendTime: Int64 = -1) {
        let records = batches.reduce(0) { $0 + $1.timestamps.count }
        let (flushed, rooms) = self.state.withLock { state -> ([WakeUp], [WakeUp]) in
            state.requestFinished(partition)
            state.buffered -= records
            var flushed: [WakeUp] = []
            if state.buffered == 0 {
                flushed = state.flushWaiters
                state.flushWaiters = []
            }
            let rooms = state.roomWaiters
            state.roomWaiters = []
            return (flushed, rooms)
        }
        var first: Int64 = 0  // the offset of each batch's first record, relative to the base offset
        for batch in batches {
            for run in batch.deliveries {
                for index in run.start..<(run.start + run.count) {
                    let outcome: Result<RecordMetadata, KafkaClientError> = result.map { base in
                        RecordMetadata(
                            topic: partition.topic, partition: partition.partition, offset: base < 0 ? -1 : base + first + Int64(index),
                            timestamp: logAppendTime >= 0 ? logAppendTime : batch.timestamps[index])
                    }
                    switch run.delivery {
                    case .each(let completion): completion(outcome)
                    case .shared(let report): report.handle(outcome)
                    }
                }
            }
            first += Int64(batch.timestamps.count)
        }
        for wake in flushed + rooms { wake.fire() }
    }
}

/// Who hears of a record's outcome: its own completion, or a report shared with other records.
enum Delivery: Sendable {
    case each(KafkaProducer.Completion)
    case shared(KafkaProducer.DeliveryReport)
}

private enum EnqueueOutcome {
    case closed
    case full(WakeUp)
    case queued(WakeUp?)
    case unknownTopic
    case badPartition(Int32)
}

/// A batch being filled or waiting to go, with a completion per record in offset order.
struct PendingBatch: Sendable {
    var builder: RecordBatchBuilder
    /// Each record's CreateTime, in offset order (the batch's record count).
    var timestamps: [Int64] = []
    /// Who hears of which records: runs of consecutive records (indices into `timestamps`) with one delivery each;
    /// records sent without a completion are in no run.
    var deliveries: [(start: Int, count: Int, delivery: Delivery)] = []
    var created: ContinuousClock.Instant
    var retryAt: ContinuousClock.Instant?
    var full = false

    /// Notes a record just appended to `builder`.
    mutating func noteRecord(timestamp: Int64, delivery: Delivery?) {
        let index = self.timestamps.count
        self.timestamps.append(timestamp)
        guard let delivery else { return }
        if case .shared(let report) = delivery, let last = self.deliveries.last, case .shared(let previous) = last.delivery,
           previous === report, last.start + last.count == index
        {
            self.deliveries[self.deliveries.count - 1].count += 1
        } else {
            self.deliveries.append((index, 1, delivery))
        }
    }
}

/// The producer's buffers, behind its lock.
///
/// Per record this is the hot path, so partitions are numbered: a queue of batches per partition in an array,
/// found by a one-entry cache of the last partition (no hashing while records go to the same partition) or a
/// dictionary; topic facts (partition count, sticky partition) sit in one dictionary entry per topic.
struct Accumulator: Sendable {
    struct TopicInfo: Sendable {
        var count: Int32
        var sticky: Int32?
    }

    var queues: [[PendingBatch]] = []
    var partitions: [TopicPartition] = []
    /// Produce requests in flight per queue.
    var inFlight: [Int] = []
    var index: [TopicPartition: Int] = [:]
    var lastUsed: (partition: TopicPartition, index: Int)?
    var topics: [String: TopicInfo] = [:]
    var buffered = 0
    var flushing = 0
    var closed = false
    var senderWake: WakeUp?
    var flushWaiters: [WakeUp] = []
    var roomWaiters: [WakeUp] = []

    /// The queue number of `partition`, made if new.
    mutating func queue(for partition: TopicPartition) -> Int {
        if let last = self.lastUsed, last.partition == partition { return last.index }
        let found: Int
        if let known = self.index[partition] {
            found = known
        } else {
            found = self.queues.count
            self.queues.append([])
            self.partitions.append(partition)
            self.inFlight.append(0)
            self.index[partition] = found
        }
        self.lastUsed = (partition, found)
        return found
    }

    /// One request of `partition` has its answer (or its batches went back to the queue).
    mutating func requestFinished(_ partition: TopicPartition) {
        self.inFlight[self.queue(for: partition)] -= 1
    }

    /// Adds a record to its partition's open batch (a new one if full); returns the sender's wake-up when a batch
    /// became ready, so the caller can fire it outside the lock. `nil` partitions count: the topic is not known yet.
    mutating func append(_ record: ProducerRecord, configuration: KafkaProducer.Configuration,
                         delivery: Delivery?) -> (known: Bool, wake: WakeUp?) {
        guard var info = self.topics[record.topic] else { return (false, nil) }
        let count = info.count
        let partitionId: Int32
        if let chosen = record.partition {
            partitionId = chosen
        } else if let key = record.key {
            partitionId = Partitioner.partition(forKey: key, count: count)
        } else {
            partitionId = info.sticky.flatMap { $0 < count ? $0 : nil } ?? Int32.random(in: 0..<count)
            if info.sticky != partitionId {
                info.sticky = partitionId
                self.topics[record.topic] = info
            }
        }
        let slot = self.queue(for: TopicPartition(record.topic, partitionId))
        let timestamp = record.timestamp ?? wallClockMillis()
        var becameReady = false
        let recordBytes = (record.key?.count ?? 0) + (record.value?.count ?? 0) + 16
        let open = self.queues[slot].count - 1
        if open < 0 || self.queues[slot][open].full
            || (self.queues[slot][open].builder.uncompressedRecordBytes + recordBytes > configuration.batchSize
                && self.queues[slot][open].builder.recordCount > 0)
        {
            if open >= 0 && !self.queues[slot][open].full {
                self.queues[slot][open].full = true
                becameReady = true
            }
            var builder = RecordBatchBuilder(compression: configuration.compression)
            builder.reserveCapacity(min(configuration.batchSize, 1 << 20) + 64)
            var batch = PendingBatch(builder: builder, created: .now)
            batch.timestamps.reserveCapacity(min(configuration.batchSize / recordBytes + 1, 1 << 16))
            self.queues[slot].append(batch)
            if record.partition == nil && record.key == nil && open >= 0 {
                // Sticky partitioning: a full batch moves key-less records to another partition.
                info.sticky = count > 1 ? (partitionId + Int32.random(in: 1..<count)) % count : 0
                self.topics[record.topic] = info
            }
        }
        let last = self.queues[slot].count - 1
        // Mutated in place (no copy of the queue or batch is alive), so appends never copy the batch's buffer.
        if record.headers.isEmpty {
            self.queues[slot][last].builder.append(timestamp: timestamp, key: record.key, value: record.value)
        } else {
            self.queues[slot][last].builder.append(
                timestamp: timestamp, key: record.key.map { ByteBuffer(bytes: $0) }, value: record.value.map { ByteBuffer(bytes: $0) },
                headers: record.headers)
        }
        self.queues[slot][last].noteRecord(timestamp: timestamp, delivery: delivery)
        if self.queues[slot][last].builder.uncompressedRecordBytes >= configuration.batchSize {
            self.queues[slot][last].full = true
            becameReady = true
        }
        self.buffered += 1
        return (true, becameReady || configuration.lingerMs == 0 ? self.senderWake : nil)
    }

    /// Puts batches back at the head of their partition's queue.
    mutating func putBack(_ partition: TopicPartition, _ batches: [PendingBatch]) {
        let slot = self.queue(for: partition)
        self.inFlight[slot] -= 1
        self.queues[slot].insert(contentsOf: batches, at: 0)
    }

    /// Takes, per partition with room for another request in flight, the batches that may go now (up to `maxRequestSize` of them): past their
    /// retry back-off, and full, lingered long enough, or being flushed or closed.
    mutating func takeReady(now: ContinuousClock.Instant, configuration: KafkaProducer.Configuration) -> [TopicPartition: [PendingBatch]] {
        var ready: [TopicPartition: [PendingBatch]] = [:]
        let linger = Duration.milliseconds(configuration.lingerMs)
        for slot in self.queues.indices where !self.queues[slot].isEmpty && self.inFlight[slot] < configuration.maxInFlightPerPartition {
            var taken = 0
            var bytes = 0
            for batch in self.queues[slot] {
                if let retryAt = batch.retryAt, retryAt > now { break }
                guard batch.full || now - batch.created >= linger || self.flushing > 0 || self.closed else { break }
                bytes += batch.builder.uncompressedRecordBytes
                if taken > 0 && bytes > configuration.maxRequestSize { break }
                taken += 1
            }
            guard taken > 0 else { continue }
            ready[self.partitions[slot]] = Array(self.queues[slot].prefix(taken))
            self.inFlight[slot] += 1
            self.queues[slot].removeFirst(taken)
        }
        return ready
    }

    /// When the next waiting batch's linger (or retry back-off) ends.
    func nextLingerDeadline(configuration: KafkaProducer.Configuration) -> ContinuousClock.Instant? {
        let linger = Duration.milliseconds(configuration.lingerMs)
        return self.queues.indices.compactMap { slot -> ContinuousClock.Instant? in
            guard let first = self.queues[slot].first, self.inFlight[slot] < configuration.maxInFlightPerPartition else { return nil }
            return first.retryAt ?? first.created + linger
        }.min()
    }
}

/// Holds one result for a task to await.
private final class ResultBox: Sendable {
    private let state = Mutex<(Result<RecordMetadata, KafkaClientError>?, WakeUp)>((nil, WakeUp()))

    func set(_ result: Result<RecordMetadata, KafkaClientError>) {
        let wake = self.state.withLock { state in
            state.0 = result
            return state.1
        }
        wake.fire()
    }

    func value() async -> Result<RecordMetadata, KafkaClientError> {
        await self.state.withLock { $0.1 }.wait()
        return self.state.withLock { $0.0! }
    }
}

extension CompressionCodec {
    /// The codec for a `compression.type` / `--compression-codec` name.
    public static func named(_ name: String) -> CompressionCodec? {
        switch name.lowercased() {
        case "none", "uncompressed": CompressionCodec.none
        case "gzip": .gzip
        case "snappy": .snappy
        case "lz4": .lz4
        case "zstd": .zstd
        default: nil
        }
    }
}
