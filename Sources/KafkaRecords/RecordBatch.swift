import KafkaModel
import NIOCore

/// A record batch in message format v2 (magic 2), held as its bytes.
///
/// Layout (protocol notes 7.1), big-endian: baseOffset int64 @0, batchLength int32 @8 (bytes after this
/// field), partitionLeaderEpoch int32 @12, magic int8 @16, crc uint32 @17 (CRC-32C of bytes 21 to the end),
/// attributes int16 @21, lastOffsetDelta int32 @23, baseTimestamp int64 @27, maxTimestamp int64 @35,
/// producerId int64 @43, producerEpoch int16 @51, baseSequence int32 @53, recordsCount int32 @57, then the
/// records (one compressed blob when the batch is compressed).
///
/// The header is read in place; records are decoded only when asked for, so a broker can validate and store a
/// batch exactly as received. `baseOffset` and `partitionLeaderEpoch` lie outside the CRC and can be
/// rewritten without recomputing it.
public struct RecordBatch: Hashable, Sendable {
    public static let headerSize = 61
    static let crcOffset = 17
    static let attributesOffset = 21

    /// Exactly the batch's bytes.
    public private(set) var buffer: ByteBuffer

    /// Checks the framing of one batch: at least a header, a `batchLength` that matches the bytes, magic 2.
    /// Does not check the CRC (see `validate()`).
    /// - Throws: `RecordBatchError`.
    public init(_ buffer: ByteBuffer) throws {
        guard buffer.readableBytes >= Self.headerSize else {
            throw RecordBatchError(.truncated, "a batch needs \(Self.headerSize) header bytes, got \(buffer.readableBytes)")
        }
        self.buffer = buffer
        guard self.magic == 2 else { throw RecordBatchError(.unsupportedMagic, "magic \(self.magic), expected 2") }
        guard Int(self.batchLength) == buffer.readableBytes - 12 else {
            throw RecordBatchError(.invalidLength, "batchLength \(self.batchLength) does not match \(buffer.readableBytes - 12) bytes")
        }
        guard self.recordsCount >= 0 else { throw RecordBatchError(.invalidLength, "negative recordsCount \(self.recordsCount)") }
    }

    private func get<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        self.buffer.getInteger(at: self.buffer.readerIndex + offset, endianness: .big, as: T.self)!
    }

    private mutating func set<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        self.buffer.setInteger(value, at: self.buffer.readerIndex + offset, endianness: .big)
    }

    public var baseOffset: Int64 {
        get { self.get(0) }
        set { self.set(newValue, at: 0) }
    }
    public var batchLength: Int32 { self.get(8) }
    public var partitionLeaderEpoch: Int32 {
        get { self.get(12) }
        set { self.set(newValue, at: 12) }
    }
    public var magic: Int8 { self.get(16) }
    public var crc: UInt32 { self.get(Self.crcOffset) }
    public var attributes: RecordBatchAttributes { RecordBatchAttributes(rawValue: self.get(Self.attributesOffset)) }
    public var lastOffsetDelta: Int32 { self.get(23) }
    public var baseTimestamp: Int64 { self.get(27) }
    public var maxTimestamp: Int64 { self.get(35) }
    public var producerId: Int64 { self.get(43) }
    public var producerEpoch: Int16 { self.get(51) }
    public var baseSequence: Int32 { self.get(53) }
    public var recordsCount: Int32 { self.get(57) }

    /// The offset of the last record: `baseOffset + lastOffsetDelta`.
    public var lastOffset: Int64 { self.baseOffset + Int64(self.lastOffsetDelta) }
    /// The total size in bytes.
    public var sizeInBytes: Int { self.buffer.readableBytes }

    /// The CRC-32C of the bytes the batch's `crc` covers.
    public func computeCRC() -> UInt32 {
        CRC32C.checksum(self.buffer.getSlice(at: self.buffer.readerIndex + Self.attributesOffset, length: self.sizeInBytes - Self.attributesOffset)!)
    }

    /// Checks the CRC (the broker's `CORRUPT_MESSAGE` check); does not decompress.
    /// - Throws: `RecordBatchError(.corrupt)`.
    public func validate() throws {
        let actual = self.computeCRC()
        guard actual == self.crc else {
            throw RecordBatchError(.corrupt, "CRC is \(self.crc) but the batch hashes to \(actual)")
        }
    }

    /// Stamps the broker's append time (LogAppendTime topics): sets the timestamp-type bit and `maxTimestamp`,
    /// then recomputes the CRC, which covers both.
    public mutating func setLogAppendTime(_ timestamp: Int64) {
        var attributes = self.attributes
        attributes.timestampType = .logAppendTime
        self.set(attributes.rawValue, at: Self.attributesOffset)
        self.set(timestamp, at: 35)
        self.set(self.computeCRC(), at: Self.crcOffset)
    }

    /// Decodes the records, decompressing them first if needed.
    /// - Parameter maxDecompressedBytes: the most a compressed batch may expand to.
    /// - Throws: `RecordBatchError` or `CompressionError`.
    public func records(maxDecompressedBytes: Int = 256 << 20) throws -> [Record] {
        var body = self.buffer.getSlice(at: self.buffer.readerIndex + Self.headerSize, length: self.sizeInBytes - Self.headerSize)!
        let codec = try self.attributes.compressionCodec()
        if codec != .none {
            body = try codec.decompress(body, maxOutputBytes: maxDecompressedBytes)
        }
        let count = Int(self.recordsCount)
        // Every record takes at least 7 bytes; a count the body cannot hold is rejected before allocating.
        guard count <= body.readableBytes else {
            throw RecordBatchError(.invalidLength, "recordsCount \(count) exceeds the \(body.readableBytes) record bytes")
        }
        var records: [Record] = []
        records.reserveCapacity(count)
        for index in 0..<count {
            do {
                records.append(try Record(from: &body))
            } catch let error as RecordBatchError {
                throw RecordBatchError(error.kind, "record \(index): \(error.reason)")
            }
        }
        guard body.readableBytes == 0 else {
            throw RecordBatchError(.invalidLength, "\(body.readableBytes) bytes follow the last of \(count) records")
        }
        return records
    }
}

/// The attributes of a record batch (protocol notes 7.2).
public struct RecordBatchAttributes: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    public init(
        compression: CompressionCodec = .none, timestampType: TimestampType = .createTime, isTransactional: Bool = false,
        isControl: Bool = false
    ) {
        self.rawValue = Int16(compression.rawValue)
        self.timestampType = timestampType
        self.isTransactional = isTransactional
        self.isControl = isControl
    }

    /// The codec in bits 0-2.
    /// - Throws: `RecordBatchError(.unsupportedCompression)` for codes 5-7.
    public func compressionCodec() throws -> CompressionCodec {
        guard let codec = CompressionCodec(rawValue: Int8(self.rawValue & 0x07)) else {
            throw RecordBatchError(.unsupportedCompression, "compression code \(self.rawValue & 0x07)")
        }
        return codec
    }

    public var timestampType: TimestampType {
        get { self.rawValue & 0x08 != 0 ? .logAppendTime : .createTime }
        set { self.set(0x08, newValue == .logAppendTime) }
    }
    public var isTransactional: Bool {
        get { self.rawValue & 0x10 != 0 }
        set { self.set(0x10, newValue) }
    }
    public var isControl: Bool {
        get { self.rawValue & 0x20 != 0 }
        set { self.set(0x20, newValue) }
    }
    public var hasDeleteHorizon: Bool { self.rawValue & 0x40 != 0 }

    private mutating func set(_ bit: Int16, _ on: Bool) {
        self.rawValue = on ? self.rawValue | bit : self.rawValue & ~bit
    }
}

/// Where a record's timestamp comes from.
public enum TimestampType: Int8, Hashable, Sendable {
    case createTime = 0
    case logAppendTime = 1
}

/// Why bytes are not a valid record batch or message set. The broker answers `CORRUPT_MESSAGE` (or
/// `INVALID_RECORD`) for these.
public struct RecordBatchError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case truncated
        case invalidLength
        case corrupt
        case unsupportedMagic
        case unsupportedCompression
        case malformedRecord
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "invalid record batch: \(self.reason)" }
}

extension RecordBatch {
    /// Kafka's up-conversion of a Produce v0-2 message set (magic 0 or 1) for a log of v2 batches: all messages
    /// become one batch, in `compression`; magic-0 messages have no timestamp (-1). Offsets are assigned on append.
    public static func converting(_ messages: [LegacyMessage], compression: CompressionCodec) throws -> RecordBatch {
        var builder = RecordBatchBuilder(compression: compression)
        for message in messages {
            builder.append(timestamp: message.timestamp ?? -1, key: message.key, value: message.value)
        }
        return try builder.build()
    }
}

extension RecordBatch {
    /// The batch rewritten in `codec`, as Kafka's broker rewrites batches whose codec differs from the topic's
    /// `compression.type`: every record (timestamps, keys, values, headers) and the producer fields are kept,
    /// offsets stay relative to the base offset. Check the CRC first: the new batch gets a CRC of its own.
    /// - Throws: `RecordBatchError` or `CompressionError` when the records cannot be decoded or compressed.
    public func recompressed(to codec: CompressionCodec) throws -> RecordBatch {
        let attributes = self.attributes
        var builder = RecordBatchBuilder(compression: codec)
        builder.baseOffset = self.baseOffset
        builder.partitionLeaderEpoch = self.partitionLeaderEpoch
        builder.timestampType = attributes.timestampType
        builder.producerId = self.producerId
        builder.producerEpoch = self.producerEpoch
        builder.baseSequence = self.baseSequence
        builder.isTransactional = attributes.isTransactional
        builder.isControl = attributes.isControl
        let records = try self.records()
        // Offset deltas are renumbered from 0: Kafka's validator refuses (INVALID_RECORD) batches whose deltas
        // are not 0, 1, 2, ..., so a batch that reaches this point already has them.
        for (index, record) in records.enumerated() where Int(record.offsetDelta) != index {
            throw RecordBatchError(.malformedRecord, "record \(index) has offset delta \(record.offsetDelta)")
        }
        for record in records {
            builder.append(
                timestamp: self.baseTimestamp + record.timestampDelta, key: record.key, value: record.value,
                headers: record.headers)
        }
        var batch = try builder.build()
        if attributes.timestampType == .logAppendTime { batch.setLogAppendTime(self.maxTimestamp) }
        return batch
    }
}

extension RecordBatch {
    /// The batch with only the records `keep` accepts, as Kafka's log cleaner rewrites a batch: the header (base
    /// offset, last offset delta, timestamps, producer fields, attributes and codec) stays as it was, so offsets and
    /// producer sequences are unchanged and the kept records keep their offset deltas, gaps and all.
    /// - Parameter keepEmpty: when no record is kept, return the header alone instead of `nil` (Kafka's
    ///   `RETAIN_EMPTY`: an idempotent producer's last batch must stay so its sequence survives the cleaning).
    /// - Returns: `self` when every record is kept, `nil` when none is (unless `keepEmpty`).
    /// - Throws: `RecordBatchError` or `CompressionError` when the records cannot be decoded or compressed.
    public func retaining(keepEmpty: Bool = false, _ keep: (Int, Record) -> Bool) throws -> RecordBatch? {
        let records = try self.records()
        // An emptied batch of an earlier cleaning goes once it is no longer needed.
        if records.isEmpty { return keepEmpty ? self : nil }
        var encoded = ByteBuffer()
        var kept: Int32 = 0
        for (index, record) in records.enumerated() where keep(index, record) {
            record.write(to: &encoded)
            kept += 1
        }
        if Int(kept) == records.count { return self }
        if kept == 0 { return keepEmpty ? try self.emptied() : nil }
        let codec = try self.attributes.compressionCodec()
        let body = codec == .none ? encoded : try codec.compress(encoded)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.headerSize + body.readableBytes)
        buffer.writeImmutableBuffer(self.buffer.getSlice(at: self.buffer.readerIndex, length: Self.headerSize)!)
        buffer.writeImmutableBuffer(body)
        buffer.setInteger(Int32(Self.headerSize - 12 + body.readableBytes), at: 8, endianness: .big)
        buffer.setInteger(kept, at: 57, endianness: .big)
        let crc = CRC32C.checksum(buffer.getSlice(at: Self.attributesOffset, length: buffer.readableBytes - Self.attributesOffset)!)
        buffer.setInteger(crc, at: Self.crcOffset, endianness: .big)
        return try RecordBatch(buffer)
    }

    /// The header alone, as Kafka's `DefaultRecordBatch.writeEmptyHeader`: same offsets, producer fields, leader
    /// epoch and newest timestamp, no records, uncompressed, first timestamp -1; of the attributes only the
    /// timestamp type and the transactional and control bits stay.
    func emptied() throws -> RecordBatch {
        var buffer = ByteBuffer()
        buffer.writeImmutableBuffer(self.buffer.getSlice(at: self.buffer.readerIndex, length: Self.headerSize)!)
        buffer.setInteger(Int32(Self.headerSize - 12), at: 8, endianness: .big)
        buffer.setInteger(self.attributes.rawValue & 0x38, at: Self.attributesOffset, endianness: .big)
        buffer.setInteger(Int64(-1), at: 27, endianness: .big)
        buffer.setInteger(Int32(0), at: 57, endianness: .big)
        let crc = CRC32C.checksum(buffer.getSlice(at: Self.attributesOffset, length: buffer.readableBytes - Self.attributesOffset)!)
        buffer.setInteger(crc, at: Self.crcOffset, endianness: .big)
        return try RecordBatch(buffer)
    }
}
