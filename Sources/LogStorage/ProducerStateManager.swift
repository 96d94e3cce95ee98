/// Idempotent-producer state of one partition (Kafka's `ProducerStateManager`): per producer id, its epoch and
/// the sequence ranges and offsets of its last five batches, so that a retried batch is recognised and answered
/// with its original offsets instead of being appended twice.
///
/// Rules (Kafka's `ProducerAppendInfo.checkSequence`): an epoch older than the producer's is refused; a newer
/// epoch, or a producer not seen before, must start at sequence 0; within an epoch a batch must continue right
/// after the last one, unless it repeats one of the last five (a duplicate). Sequences wrap at Int32.max.
///
/// Persisted in `.snapshot` files at each segment roll and clean close (`ProducerStateSnapshot`); a log opening
/// loads the newest valid one and replays the batch headers after it.
/// Not thread-safe: owned by its `PartitionLog`.
struct ProducerStateManager {
    struct BatchMetadata: Hashable, Sendable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
        /// The batch's newest timestamp: a producer whose last batch is `producer.id.expiration.ms` old is forgotten.
        var timestamp: Int64 = -1
    }

    struct Entry: Hashable, Sendable {
        var epoch: Int16
        var batches: [BatchMetadata]
    }

    /// What to do with an incoming idempotent batch.
    enum Verdict: Equatable {
        case append
        /// Already in the log at these offsets.
        case duplicate(BatchMetadata)
        case outOfOrderSequence(expected: Int32, found: Int32)
        case staleEpoch(current: Int16, found: Int16)
    }

    static let retainedBatches = 5
    private(set) var producers: [Int64: Entry] = [:]

    func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) -> Verdict {
        guard let entry = self.producers[producerId], !entry.batches.isEmpty else {
            return firstSequence == 0 ? .append : .outOfOrderSequence(expected: 0, found: firstSequence)
        }
        if epoch < entry.epoch { return .staleEpoch(current: entry.epoch, found: epoch) }
        if epoch > entry.epoch {
            return firstSequence == 0 ? .append : .outOfOrderSequence(expected: 0, found: firstSequence)
        }
        if let duplicate = entry.batches.first(where: { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }) {
            return .duplicate(duplicate)
        }
        let last = entry.batches.last!.lastSequence
        let expected = last == Int32.max ? 0 : last + 1
        return firstSequence == expected ? .append : .outOfOrderSequence(expected: expected, found: firstSequence)
    }

    mutating func record(producerId: Int64, epoch: Int16, batch: BatchMetadata) {
        var entry = self.producers[producerId] ?? Entry(epoch: epoch, batches: [])
        if epoch != entry.epoch { entry = Entry(epoch: epoch, batches: []) }
        entry.batches.append(batch)
        if entry.batches.count > Self.retainedBatches { entry.batches.removeFirst(entry.batches.count - Self.retainedBatches) }
        self.producers[producerId] = entry
    }

    /// Forgets the producers whose last batch is `expirationMs` old or older (Kafka's `removeExpiredProducers`): their
    /// state would otherwise grow with every producer a partition ever had, and a compacted log would keep an emptied
    /// batch for each. A forgotten producer that writes again starts over, as on Kafka.
    /// - Returns: how many producers were forgotten.
    @discardableResult
    mutating func removeExpired(now: Int64, expirationMs: Int64) -> Int {
        let expired = self.producers.filter { _, entry in
            guard let last = entry.batches.last, last.timestamp >= 0 else { return false }
            return now - last.timestamp >= expirationMs
        }.keys
        for producerId in expired { self.producers.removeValue(forKey: producerId) }
        return expired.count
    }

    /// The last offset of each producer's last batch: the batches a cleaning keeps even when emptied.
    var lastOffsets: Set<Int64> { Set(self.producers.values.compactMap { $0.batches.last?.lastOffset }) }

    mutating func removeAll() { self.producers = [:] }
}
