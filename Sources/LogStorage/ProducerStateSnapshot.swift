import KafkaRecords
import NIOCore

/// Kafka's producer-state snapshot file, `<20-digit offset>.snapshot` beside the segments: the idempotent-producer
/// state as of that offset, so a log opening replays batch headers from the newest snapshot instead of from the
/// start of the log.
///
/// Layout (Kafka's `ProducerSnapshot` v1, big-endian): version int16 = 1, crc uint32 (CRC-32C of everything after
/// it), then an int32 count of entries, each producer_id int64, epoch int16, last_sequence int32, last_offset int64,
/// offset_delta int32, timestamp int64, coordinator_epoch int32, current_txn_first_offset int64.
/// Kafka writes one entry per producer (its last batch); Ferry writes one per retained batch, oldest first, so a
/// retry of any of the last five batches is still recognised after a restart. Kafka reading such a file keeps the
/// last entry of each producer, which is exactly its own content.
enum ProducerStateSnapshot {
    static let suffix = ".snapshot"
    private static let version: Int16 = 1

    static func fileName(_ offset: Int64) -> String { LogSegment.fileName(offset, self.suffix) }

    /// The snapshot offsets in `directory`, oldest first.
    static func offsets(in directory: String) throws -> [Int64] {
        try FileSystem.list(directory).compactMap { name in
            name.hasSuffix(self.suffix) ? Int64(name.dropLast(self.suffix.count)) : nil
        }.sorted()
    }

    static func encode(_ state: ProducerStateManager) -> ByteBuffer {
        var body = ByteBuffer()
        let batches = state.producers.sorted { $0.key < $1.key }.flatMap { id, entry in entry.batches.map { (id, entry.epoch, $0) } }
        body.writeInteger(Int32(batches.count), endianness: .big)
        for (id, epoch, last) in batches {
            body.writeInteger(id, endianness: .big)
            body.writeInteger(epoch, endianness: .big)
            body.writeInteger(last.lastSequence, endianness: .big)
            body.writeInteger(last.lastOffset, endianness: .big)
            body.writeInteger(Int32(last.lastOffset - last.firstOffset), endianness: .big)
            body.writeInteger(last.timestamp, endianness: .big)
            body.writeInteger(Int32(-1), endianness: .big)  // coordinator epoch: no transactions
            body.writeInteger(Int64(-1), endianness: .big)  // current transaction's first offset
        }
        var file = ByteBuffer()
        file.writeInteger(self.version, endianness: .big)
        file.writeInteger(CRC32C.checksum(body), endianness: .big)
        file.writeBuffer(&body)
        return file
    }

    /// - Returns: the state, or `nil` if the file is not a valid snapshot (wrong version, CRC, or length).
    static func decode(_ file: ByteBuffer) -> ProducerStateManager? {
        var file = file
        guard file.readInteger(endianness: .big, as: Int16.self) == self.version,
              let crc = file.readInteger(endianness: .big, as: UInt32.self), CRC32C.checksum(file) == crc,
              let count = file.readInteger(endianness: .big, as: Int32.self), count >= 0, file.readableBytes == Int(count) * 46
        else { return nil }
        var state = ProducerStateManager()
        for _ in 0..<count {
            let id = file.readInteger(endianness: .big, as: Int64.self)!
            let epoch = file.readInteger(endianness: .big, as: Int16.self)!
            let lastSequence = file.readInteger(endianness: .big, as: Int32.self)!
            let lastOffset = file.readInteger(endianness: .big, as: Int64.self)!
            let offsetDelta = file.readInteger(endianness: .big, as: Int32.self)!
            let timestamp = file.readInteger(endianness: .big, as: Int64.self)!
            file.moveReaderIndex(forwardBy: 4 + 8)
            state.record(
                producerId: id, epoch: epoch,
                batch: .init(
                    firstSequence: lastSequence &- offsetDelta, lastSequence: lastSequence, firstOffset: lastOffset - Int64(offsetDelta),
                    lastOffset: lastOffset, timestamp: timestamp))
        }
        return state
    }
}
