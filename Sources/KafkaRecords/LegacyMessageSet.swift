import NIOCore

/// A message of the legacy formats (magic 0 and 1, Kafka before 0.11), with its absolute offset.
///
/// Entry layout (protocol notes 8): offset int64, messageSize int32, crc uint32 (CRC-32 IEEE of magic to the
/// end), magic int8, attributes int8 (bits 0-2 codec, bit 3 timestamp type in magic 1), timestamp int64
/// (magic 1 only), key and value as int32-length bytes (-1 = null). A compressed entry is a wrapper whose
/// value is a whole inner message set; in magic 1 the inner offsets are relative and the wrapper carries the
/// absolute offset of the last inner message.
public struct LegacyMessage: Hashable, Sendable {
    public var offset: Int64
    public var magic: Int8
    /// Timestamp (magic 1), or `nil` for magic 0.
    public var timestamp: Int64?
    public var timestampType: TimestampType
    public var key: ByteBuffer?
    public var value: ByteBuffer?

    public init(
        offset: Int64, magic: Int8, timestamp: Int64? = nil, timestampType: TimestampType = .createTime,
        key: ByteBuffer? = nil, value: ByteBuffer? = nil
    ) {
        self.offset = offset
        self.magic = magic
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
    }
}

public enum LegacyMessageSet {
    /// Decodes a message set of magic 0/1 entries, unwrapping compressed ones, with every CRC checked.
    /// - Returns: the messages in order, and how many bytes at the end were a partial entry.
    /// - Throws: `RecordBatchError` or `CompressionError`.
    public static func decode(_ buffer: ByteBuffer, maxDecompressedBytes: Int = 256 << 20) throws
        -> (messages: [LegacyMessage], partialTailBytes: Int)
    {
        var rest = buffer
        var messages: [LegacyMessage] = []
        while rest.readableBytes > 0 {
            guard let size = rest.getInteger(at: rest.readerIndex + 8, endianness: .big, as: Int32.self) else { break }
            guard size >= 14 else { throw RecordBatchError(.invalidLength, "message size \(size)") }
            guard rest.readableBytes >= 12 + Int(size) else { break }
            let entry = rest.readSlice(length: 12 + Int(size))!
            messages += try self.decodeEntry(entry, maxDecompressedBytes: maxDecompressedBytes, nested: false)
        }
        return (messages, rest.readableBytes)
    }

    private static func decodeEntry(_ entry: ByteBuffer, maxDecompressedBytes: Int, nested: Bool) throws -> [LegacyMessage] {
        var entry = entry
        let offset = entry.readInteger(endianness: .big, as: Int64.self)!
        _ = entry.readInteger(endianness: .big, as: Int32.self)!
        let crc = entry.readInteger(endianness: .big, as: UInt32.self)!
        guard CRC32.checksum(entry) == crc else {
            throw RecordBatchError(.corrupt, "legacy message at offset \(offset) fails its CRC")
        }
        guard let magic = entry.readInteger(as: Int8.self), let attributes = entry.readInteger(as: Int8.self) else {
            throw RecordBatchError(.truncated, "legacy message header")
        }
        guard magic == 0 || magic == 1 else { throw RecordBatchError(.unsupportedMagic, "magic \(magic) inside a legacy set") }
        var timestamp: Int64?
        if magic == 1 {
            guard let value = entry.readInteger(endianness: .big, as: Int64.self) else {
                throw RecordBatchError(.truncated, "legacy message timestamp")
            }
            timestamp = value
        }
        let key = try self.bytes(&entry, "key")
        let value = try self.bytes(&entry, "value")
        guard entry.readableBytes == 0 else { throw RecordBatchError(.invalidLength, "bytes after a legacy message") }
        let timestampType: TimestampType = magic == 1 && attributes & 0x08 != 0 ? .logAppendTime : .createTime
        guard let codec = CompressionCodec(rawValue: attributes & 0x07), codec != .zstd else {
            throw RecordBatchError(.unsupportedCompression, "legacy compression code \(attributes & 0x07)")
        }
        if codec == .none {
            return [LegacyMessage(offset: offset, magic: magic, timestamp: timestamp, timestampType: timestampType, key: key, value: value)]
        }
        guard !nested, let value else { throw RecordBatchError(.malformedRecord, "nested or empty compressed wrapper") }
        let inner = try codec.decompress(value, maxOutputBytes: maxDecompressedBytes, legacyLZ4Checksum: magic == 0)
        var (messages, partial) = try self.decode(inner, maxDecompressedBytes: maxDecompressedBytes)
        guard partial == 0, let last = messages.last else {
            throw RecordBatchError(.malformedRecord, "compressed wrapper holds a partial or empty message set")
        }
        if magic == 1 {
            // Inner offsets are relative; the wrapper's is the absolute offset of the last inner message.
            let base = offset - last.offset
            for index in messages.indices { messages[index].offset += base }
        }
        if timestampType == .logAppendTime {
            for index in messages.indices {
                messages[index].timestamp = timestamp
                messages[index].timestampType = .logAppendTime
            }
        }
        return messages
    }

    private static func bytes(_ entry: inout ByteBuffer, _ field: String) throws -> ByteBuffer? {
        guard let length = entry.readInteger(endianness: .big, as: Int32.self) else {
            throw RecordBatchError(.truncated, "legacy message \(field) length")
        }
        if length == -1 { return nil }
        guard length >= 0, let bytes = entry.readSlice(length: Int(length)) else {
            throw RecordBatchError(.invalidLength, "legacy message \(field) length \(length)")
        }
        return bytes
    }

    /// Encodes messages as a magic 0 or 1 message set, in one compressed wrapper when `compression` is set.
    /// Offsets are `baseOffset`, `baseOffset + 1`, ... (relative inside a magic 1 wrapper, as Kafka writes them).
    public static func encode(
        _ messages: [(key: ByteBuffer?, value: ByteBuffer?, timestamp: Int64)],
        magic: Int8,
        compression: CompressionCodec = .none,
        baseOffset: Int64 = 0
    ) throws -> ByteBuffer {
        var output = ByteBuffer()
        try self.encode(
            messages.enumerated().map { (baseOffset + Int64($0.offset), $0.element.key, $0.element.value, $0.element.timestamp) },
            magic: magic, compression: compression, into: &output)
        return output
    }

    /// Appends messages with the given absolute offsets as a magic 0 or 1 message set, in one compressed wrapper
    /// (carrying the last offset; inner offsets relative to the first in magic 1) when `compression` is set.
    public static func encode(
        _ messages: [(offset: Int64, key: ByteBuffer?, value: ByteBuffer?, timestamp: Int64)],
        magic: Int8,
        compression: CompressionCodec,
        into output: inout ByteBuffer
    ) throws {
        precondition(magic == 0 || magic == 1, "legacy message sets are magic 0 or 1")
        guard compression != .none else {
            for message in messages {
                self.writeEntry(&output, offset: message.offset, magic: magic, attributes: 0, timestamp: message.timestamp, key: message.key, value: message.value)
            }
            return
        }
        guard compression != .zstd else { throw RecordBatchError(.unsupportedCompression, "zstd needs magic 2") }
        guard let first = messages.first?.offset, let last = messages.last?.offset else { return }
        var plain = ByteBuffer()
        for message in messages {
            let offset = magic == 1 ? message.offset - first : message.offset
            self.writeEntry(&plain, offset: offset, magic: magic, attributes: 0, timestamp: message.timestamp, key: message.key, value: message.value)
        }
        self.writeEntry(
            &output, offset: last, magic: magic, attributes: compression.rawValue,
            timestamp: messages.map(\.timestamp).max() ?? -1, key: nil, value: try compression.compress(plain, legacyLZ4Checksum: magic == 0))
    }

    /// The codec of a message set's first entry (the wrapper's, for a compressed set), or `nil` if unreadable.
    public static func firstEntryCodec(_ buffer: ByteBuffer) -> CompressionCodec? {
        guard let attributes = buffer.getInteger(at: buffer.readerIndex + 17, as: Int8.self) else { return nil }
        return CompressionCodec(rawValue: attributes & 0x07)
    }

    /// Kafka's down-conversion (`RecordsUtil.downConvert`) of v2 batches for Fetch v0-3: each batch becomes legacy
    /// messages of `magic`, in one wrapper of the same codec if it was compressed. Control batches are dropped;
    /// records of an uncompressed batch before `fetchOffset` are dropped (a compressed batch is kept whole, as
    /// Kafka does); headers are dropped, and magic 0 has no timestamps.
    /// - Throws: `RecordBatchError(.unsupportedCompression)` for zstd, which legacy formats cannot carry; decoding errors.
    public static func downConvert(_ batches: [RecordBatch], toMagic magic: Int8, fetchOffset: Int64) throws -> ByteBuffer {
        var output = ByteBuffer()
        for batch in batches where !batch.attributes.isControl {
            let codec = try batch.attributes.compressionCodec()
            let logAppendTime = batch.attributes.timestampType == .logAppendTime
            var messages: [(offset: Int64, key: ByteBuffer?, value: ByteBuffer?, timestamp: Int64)] = []
            for record in try batch.records() {
                let offset = batch.baseOffset + Int64(record.offsetDelta)
                if codec == .none && offset < fetchOffset { continue }
                let timestamp = logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + record.timestampDelta
                messages.append((offset, record.key, record.value, timestamp))
            }
            try self.encode(messages, magic: magic, compression: codec, into: &output)
        }
        return output
    }

    private static func writeEntry(
        _ buffer: inout ByteBuffer, offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64, key: ByteBuffer?,
        value: ByteBuffer?
    ) {
        var body = ByteBuffer()
        body.writeInteger(magic)
        body.writeInteger(attributes)
        if magic == 1 { body.writeInteger(timestamp, endianness: .big) }
        for field in [key, value] {
            if var field {
                body.writeInteger(Int32(field.readableBytes), endianness: .big)
                body.writeBuffer(&field)
            } else {
                body.writeInteger(Int32(-1), endianness: .big)
            }
        }
        buffer.writeInteger(offset, endianness: .big)
        buffer.writeInteger(Int32(4 + body.readableBytes), endianness: .big)
        buffer.writeInteger(CRC32.checksum(body), endianness: .big)
        buffer.writeBuffer(&body)
    }
}
